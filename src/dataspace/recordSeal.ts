// The per-record cryptography of staging a batch, as pure functions so the vault can run it
// inline or in worker threads (sealPool.ts) with the same code: a fresh salt, the salted
// commitment H(salt ‖ canonicalJson(record)), and the vault row — canonicalJson({record,
// salt}) sealed under a fresh data key (the record id as AAD), the data key wrapped under the
// vault key.

import { randomFillSync } from 'node:crypto';
import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { concatBytes, toHex, utf8 } from '../util/bytes.js';
import { SALT_BYTES, batchRoot } from './commitment.js';
import type { StageRow } from './vaultStage.js';

export { DATA_KEY_BYTES } from './vaultKeys.js';
import { DATA_KEY_BYTES } from './vaultKeys.js';
const RECORD_OPEN = utf8('{"record":');
const SALT_OPEN = utf8(',"salt":"');
const CLOSE = utf8('"}');

export interface SealedRow {
  readonly wrapped: Uint8Array;
  readonly sealed: Uint8Array;
}

/** Encrypt under a new data key, and wrap the data key under the vault key. */
export function sealBytes(suite: CryptoSuite, vaultKey: Uint8Array, plain: Uint8Array, aad: Uint8Array): SealedRow {
  const dataKey = freshRandom(DATA_KEY_BYTES);
  const sealed = suite.encrypt(dataKey, plain, aad);
  const wrapped = suite.encrypt(vaultKey, dataKey, aad);
  dataKey.fill(0);
  return { wrapped, sealed };
}

/** The vault row of a record given its canonical JSON: canonicalJson({record, salt}) ("record" sorts before "salt"). */
export function sealRecordJson(suite: CryptoSuite, vaultKey: Uint8Array, id: string, recordJson: Uint8Array, salt: Uint8Array): SealedRow {
  const plain = concatBytes([RECORD_OPEN, recordJson, SALT_OPEN, utf8(toHex(salt)), CLOSE]);
  return sealBytes(suite, vaultKey, plain, utf8(id));
}

/** A record to seal and stage: its id, canonical JSON, and the columns its vault row indexes. */
export interface SealInput {
  readonly id: string;
  readonly json: Uint8Array;
  readonly subject: string;
  readonly schema: string;
  readonly version: number;
  readonly ref?: string;
  readonly expiresAt?: number;
}

/** A sealed batch: what the chain needs (commitments, root) and where its vault rows wait to be staged. */
export interface SealedBatch {
  readonly commitments: Uint8Array[];
  readonly root: Uint8Array;
  /** The rows, when sealed on this thread; else the seal worker keeps them under `job`. */
  readonly rows?: StageRow[];
  readonly job?: number;
}

/** The vault row of an input once sealed. */
export function stageRowOf(i: SealInput, r: SealedRow): StageRow {
  return {
    id: i.id,
    subject: i.subject,
    schema: i.schema,
    ref: i.ref ?? null,
    version: i.version,
    expiresAt: i.expiresAt ?? null,
    wrapped: r.wrapped,
    sealed: r.sealed,
  };
}

/**
 * Seal every record of a batch and compute its root. Per record: a fresh salt, the commitment
 * H(salt ‖ json), and the vault row (sealBytes over {"record":json,"salt":"hex"}). The salts
 * and data keys of the whole batch come from one CSPRNG call, and the hash and plaintext
 * inputs (and the AAD) are built in scratch buffers reused for every record (the hash and the cipher
 * copy what they read): a few allocations per record instead of a dozen.
 */
export function sealRecords(
  suite: CryptoSuite,
  vaultKey: Uint8Array,
  items: readonly SealInput[],
): { commitments: Uint8Array[]; rows: StageRow[]; root: Uint8Array } {
  const random = randomFillSync(new Uint8Array(items.length * (SALT_BYTES + DATA_KEY_BYTES)));
  const longest = items.reduce((m, i) => Math.max(m, i.json.byteLength), 0);
  const commitInput = Buffer.allocUnsafe(SALT_BYTES + longest);
  const plain = Buffer.allocUnsafe(RECORD_OPEN.byteLength + longest + SALT_OPEN.byteLength + 2 * SALT_BYTES + CLOSE.byteLength);
  plain.set(RECORD_OPEN, 0);
  const aadScratch = Buffer.allocUnsafe(items.reduce((m, i) => Math.max(m, Buffer.byteLength(i.id)), 0));
  const commitments = new Array<Uint8Array>(items.length);
  const rows = new Array<StageRow>(items.length);
  items.forEach((item, n) => {
    const salt = random.subarray(n * (SALT_BYTES + DATA_KEY_BYTES), n * (SALT_BYTES + DATA_KEY_BYTES) + SALT_BYTES);
    const dataKey = random.subarray(salt.byteOffset + SALT_BYTES, salt.byteOffset + SALT_BYTES + DATA_KEY_BYTES);
    const json = item.json;
    commitInput.set(salt, 0);
    commitInput.set(json, SALT_BYTES);
    commitments[n] = suite.hash(commitInput.subarray(0, SALT_BYTES + json.byteLength));
    let at = RECORD_OPEN.byteLength;
    plain.set(json, at);
    at += json.byteLength;
    plain.set(SALT_OPEN, at);
    at += SALT_OPEN.byteLength;
    at += plain.write(toHex(salt), at, 'latin1');
    plain.set(CLOSE, at);
    at += CLOSE.byteLength;
    const aad = aadScratch.subarray(0, aadScratch.write(item.id, 0, 'utf8'));
    const row = { wrapped: suite.encrypt(vaultKey, dataKey, aad), sealed: suite.encrypt(dataKey, plain.subarray(0, at), aad) };
    dataKey.fill(0);
    rows[n] = stageRowOf(item, row);
  });
  random.fill(0);
  return { commitments, rows, root: batchRoot(suite, commitments) };
}

/** Many byte strings as one buffer and their end offsets (for one transferable message). */
export function packBytes(parts: readonly Uint8Array[]): { bytes: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(parts.length);
  let n = 0;
  parts.forEach((p, i) => {
    n += p.byteLength;
    ends[i] = n;
  });
  const bytes = new Uint8Array(n);
  parts.forEach((p, i) => {
    bytes.set(p, (ends[i] as number) - p.byteLength);
  });
  return { bytes, ends };
}

export function unpackBytes(bytes: Uint8Array, ends: Uint32Array): Uint8Array[] {
  return Array.from(ends, (end, i) => bytes.subarray(i === 0 ? 0 : (ends[i - 1] as number), end));
}
