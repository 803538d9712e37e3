// Sealing a batch of records in a few large buffers (importWork.ts): per record a fresh salt,
// the salted commitment H(salt ‖ json), and the vault row — canonicalJson({record, salt})
// sealed under a fresh data key with the record id as AAD; the batch's data keys wrapped under
// the vault key in chunks of KEYS_PER_CHUNK (vaultKeys.ts). The salts and data keys of the
// whole batch come from one CSPRNG call; each record's JSON is written once into a scratch
// buffer laid out so that the same bytes are hashed (after the salt) and sealed (inside the
// plaintext); ciphertexts, commitments and wrapped chunks land in per-batch buffers. What
// outlives the call is a handful of large objects, not a dozen small ones per record, which is
// what the garbage collector pays for.

import { randomFillSync } from 'node:crypto';
import type { CryptoSuite } from '../crypto/suite.js';
import { SALT_BYTES, packedBatchRoot } from './commitment.js';
import { DATA_KEY_BYTES, wrapKeyChunks } from './vaultKeys.js';

const RECORD_OPEN = '{"record":';
const SALT_OPEN = ',"salt":"';
const CLOSE = '"}';

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** Write bytes `from`..`from + n` of `src` as lowercase hex into `out` at `at`; returns the end (no string made). */
function writeHex(src: Uint8Array, from: number, n: number, out: Uint8Array, at: number): number {
  for (let i = 0; i < n; i++) {
    const b = src[from + i] as number;
    out[at + 2 * i] = HEX[b >>> 4] as number;
    out[at + 2 * i + 1] = HEX[b & 15] as number;
  }
  return at + 2 * n;
}

/** A batch's sealed records: ciphertext i is `sealed[ends[i-1] .. ends[i]]`. */
export interface SealedRecords {
  readonly commitments: Uint8Array;
  readonly root: Uint8Array;
  readonly sealed: Buffer;
  readonly ends: Uint32Array;
  /** The data keys, wrapped in chunks (vaultKeys.ts). */
  readonly keyChunks: Uint8Array[];
}

/**
 * Seal the `n` records of batch `batchId`, given each one's id and canonical JSON (built when
 * needed, so each dies young). Fresh salts, unless `salts` gives them (n × SALT_BYTES).
 */
export function sealBatchRecords(
  suite: CryptoSuite,
  vaultKey: Uint8Array,
  batchId: string,
  n: number,
  record: (index: number) => { id: string; json: string },
  salts?: Uint8Array,
): SealedRecords {
  const random = randomFillSync(Buffer.allocUnsafeSlow(n * (SALT_BYTES + DATA_KEY_BYTES)));
  if (salts !== undefined) random.set(salts.subarray(0, n * SALT_BYTES));
  const saltsOf = random.subarray(0, n * SALT_BYTES);
  const keys = random.subarray(n * SALT_BYTES);
  const commitments = new Uint8Array(n * 32);
  const ends = new Uint32Array(n);
  const pre = SALT_BYTES; // salt, then the record JSON; RECORD_OPEN overwrites the salt's tail for the plaintext
  let scratch = Buffer.allocUnsafeSlow(4096);
  let sealed = Buffer.allocUnsafeSlow(Math.max(1024, n * 512));
  const aad = Buffer.allocUnsafeSlow(128);
  /** The AAD's bytes: a view kept while record ids have the same length (they all do in a batch). */
  let aadView = aad.subarray(0, 0);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const { id, json } = record(i);
    const need = pre + 3 * json.length + 128;
    if (scratch.length < need) scratch = Buffer.allocUnsafeSlow(2 * need);
    random.copy(scratch, 0, i * SALT_BYTES, (i + 1) * SALT_BYTES);
    const end = pre + scratch.write(json, pre, 'utf8');
    suite.hashInto(scratch.subarray(0, end), commitments, 32 * i);
    const start = pre - RECORD_OPEN.length;
    scratch.write(RECORD_OPEN, start, 'latin1');
    let p = end + scratch.write(SALT_OPEN, end, 'latin1');
    p = writeHex(random, i * SALT_BYTES, SALT_BYTES, scratch, p);
    p += scratch.write(CLOSE, p, 'latin1');
    const size = suite.sealedLength(p - start);
    if (sealed.length < at + size) {
      const grown = Buffer.allocUnsafeSlow(2 * (at + size));
      sealed.copy(grown, 0, 0, at);
      sealed = grown;
    }
    const dataKey = keys.subarray(i * DATA_KEY_BYTES, (i + 1) * DATA_KEY_BYTES);
    const aadBytes = aad.write(id, 0, 'latin1');
    if (aadBytes !== aadView.byteLength) aadView = aad.subarray(0, aadBytes);
    suite.encryptInto(dataKey, scratch.subarray(start, p), aadView, sealed, at);
    at += size;
    ends[i] = at;
  }
  scratch.fill(0);
  saltsOf.fill(0);
  const keyChunks = wrapKeyChunks(suite, vaultKey, batchId, keys);
  keys.fill(0);
  return { commitments, root: packedBatchRoot(suite, commitments, n), sealed: sealed.subarray(0, at), ends, keyChunks };
}
