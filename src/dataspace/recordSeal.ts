// The per-record cryptography of staging a batch, as pure functions so the vault can run it
// inline or in worker threads (sealPool.ts) with the same code: a fresh salt, the salted
// commitment H(salt ‖ canonicalJson(record)), and the vault row — canonicalJson({record,
// salt}) sealed under a fresh data key (the record id as AAD), the data key wrapped under the
// vault key.

import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { concatBytes, toHex, utf8 } from '../util/bytes.js';
import { batchRoot, commitBytes, newSalt } from './commitment.js';
import type { StageRow } from './vaultStage.js';

export const DATA_KEY_BYTES = 32;
const RECORD_OPEN = utf8('{"record":');
const SALT_OPEN = utf8(',"salt":"');
const CLOSE = utf8('"}');

export interface SealedRow {
  readonly wrapped: Uint8Array;
  readonly sealed: Uint8Array;
}

export interface SealedRecord extends SealedRow {
  readonly salt: Uint8Array;
  readonly commitment: Uint8Array;
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

/** Salt, commitment and vault row of one record. */
export function sealRecord(suite: CryptoSuite, vaultKey: Uint8Array, id: string, recordJson: Uint8Array): SealedRecord {
  const salt = newSalt();
  return { salt, commitment: commitBytes(suite, recordJson, salt), ...sealRecordJson(suite, vaultKey, id, recordJson, salt) };
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

/** Seal every record of a batch and compute its root. */
export function sealRecords(
  suite: CryptoSuite,
  vaultKey: Uint8Array,
  items: readonly SealInput[],
): { records: SealedRecord[]; rows: StageRow[]; root: Uint8Array } {
  const records = items.map((i) => sealRecord(suite, vaultKey, i.id, i.json));
  return {
    records,
    rows: records.map((r, n) => stageRowOf(items[n] as SealInput, r)),
    root: batchRoot(
      suite,
      records.map((r) => r.commitment),
    ),
  };
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
