// A state bucket's entries as one byte string, the layout `state_bucket.entries` stores and the
// bucket hash covers (stateProof.ts): [u16be keyLen | key bytes | 32-byte value hash]*, strictly
// sorted by key bytes. The state tree keeps
// buckets in this form in memory too, so a dirty bucket is merged, hashed and written from one
// contiguous buffer: an object per key cost a cache miss per comparison and garbage-collector
// time once the state holds 10^5+ keys.

import { compareBytes } from '../util/bytes.js';

export const VALUE_HASH_BYTES = 32;

/** One write to merge into a bucket: the key's bytes and its new value's hash, or undefined to delete. */
export interface BucketOp {
  readonly keyBytes: Uint8Array;
  readonly valueHash: Uint8Array | undefined;
}

/** One entry of a bucket, as views into it. */
export interface BucketEntry {
  readonly keyBytes: Buffer;
  readonly valueHash: Buffer;
}

/** Scratch for merges, reused; each result is copied out to a buffer of its own. */
let scratch = Buffer.allocUnsafeSlow(16 * 1024);

/** Byte order of blob[at, at + len) against key. */
function compareAt(blob: Uint8Array, at: number, len: number, key: Uint8Array): number {
  const n = Math.min(len, key.length);
  for (let i = 0; i < n; i++) {
    const d = (blob[at + i] as number) - (key[i] as number);
    if (d !== 0) return d;
  }
  return len - key.length;
}

function keyLenAt(blob: Uint8Array, at: number): number {
  return ((blob[at] as number) << 8) | (blob[at + 1] as number);
}

/**
 * Apply `ops` (any order, one per key) to a sorted bucket; returns the new bucket in a buffer
 * of its own (not a pool slice, so a long-lived bucket pins no one else's memory).
 */
export function mergeBucket(blob: Buffer, ops: BucketOp[]): Buffer {
  if (ops.length > 1) ops.sort((a, b) => compareBytes(a.keyBytes, b.keyBytes));
  let bound = blob.length;
  for (const op of ops) if (op.valueHash !== undefined) bound += 2 + op.keyBytes.length + VALUE_HASH_BYTES;
  if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(2 * bound);
  const out = scratch;
  let r = 0;
  let w = 0;
  for (const op of ops) {
    const runStart = r;
    let replaced = false;
    while (r < blob.length) {
      const klen = keyLenAt(blob, r);
      const c = compareAt(blob, r + 2, klen, op.keyBytes);
      if (c > 0) break;
      if (c === 0) {
        replaced = true;
        break;
      }
      r += 2 + klen + VALUE_HASH_BYTES;
    }
    w += blob.copy(out, w, runStart, r);
    if (replaced) r += 2 + op.keyBytes.length + VALUE_HASH_BYTES;
    if (op.valueHash !== undefined) {
      out[w] = op.keyBytes.length >>> 8;
      out[w + 1] = op.keyBytes.length & 0xff;
      out.set(op.keyBytes, w + 2);
      out.set(op.valueHash, w + 2 + op.keyBytes.length);
      w += 2 + op.keyBytes.length + VALUE_HASH_BYTES;
    }
  }
  w += blob.copy(out, w, r);
  const result = Buffer.allocUnsafeSlow(w);
  out.copy(result, 0, 0, w);
  return result;
}

/** Is `blob` a well-formed bucket: sane lengths, keys strictly ascending, nothing left over? */
export function isBucket(blob: Uint8Array): boolean {
  let pos = 0;
  let prev = -1;
  let prevLen = 0;
  while (pos < blob.length) {
    if (pos + 2 > blob.length) return false;
    const klen = keyLenAt(blob, pos);
    const end = pos + 2 + klen + VALUE_HASH_BYTES;
    if (klen === 0 || end > blob.length) return false;
    if (prev >= 0 && compareAt(blob, prev, prevLen, blob.subarray(pos + 2, pos + 2 + klen)) >= 0) return false;
    prev = pos + 2;
    prevLen = klen;
    pos = end;
  }
  return true;
}

/** Number of entries in a well-formed bucket. */
export function entryCount(blob: Uint8Array): number {
  let n = 0;
  for (let pos = 0; pos < blob.length; n++) pos += 2 + keyLenAt(blob, pos) + VALUE_HASH_BYTES;
  return n;
}

/** The entries as views (for proofs, which are rare). */
export function bucketEntries(blob: Buffer): BucketEntry[] {
  const out: BucketEntry[] = [];
  for (let pos = 0; pos < blob.length; ) {
    const klen = keyLenAt(blob, pos);
    out.push({ keyBytes: blob.subarray(pos + 2, pos + 2 + klen), valueHash: blob.subarray(pos + 2 + klen, pos + 2 + klen + VALUE_HASH_BYTES) });
    pos += 2 + klen + VALUE_HASH_BYTES;
  }
  return out;
}
