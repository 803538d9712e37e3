// Proofs of a state key's value (or absence) against a block's state root, and the hashing
// rules that define that root. Pure functions over an injected hash and no SQLite, so a light
// client or the offline CLI can check proofs; proofs are JSON (hex) because they travel over REST.

import type { HashFn } from './merkle.js';

/**
 * Layout of the state commitment (stateTree.ts maintains it, this file defines it):
 *   bucket(key)  = top 16 bits of mix32(FNV-1a-32(utf8(key)))             (B = 2^16 buckets)
 *   valueHash    = H(value)
 *   bucketHash   = H(0x03 || entry_1 || ... || entry_n), entries sorted by key bytes, where
 *                  entry = u16be(keyLen) || keyBytes || valueHash; an empty bucket is H(0x03)
 *   root         = complete 16-ary tree over the 2^16 bucket hashes (4 levels above them),
 *                  node = H(0x01 || child_0 || ... || child_15)
 * The bucket hash commits to each key and its value hash directly (the entries are
 * length-prefixed, so the encoding is unambiguous), so a write costs one hash (its value's), not
 * three: the bucket index is a plain partition function, not a commitment — a hash would not
 * stop anyone from choosing keys that share a bucket either (16 bits take 2^16 tries), and
 * every proof checks each leaf's bucket against it. Sixteen children per node, not two: a block
 * that dirties n buckets rehashes ~n nodes on the level above them and few above that, about
 * 1.5 hashes per write instead of ~8.5 for a binary tree at a few hundred writes per block, and
 * one SHA-256 of 513 bytes costs about the same as one of 65 bytes (the call dominates). Proofs
 * carry 15 siblings per level.
 */
export const STATE_BUCKET_BITS = 16;
export const STATE_BUCKETS = 1 << STATE_BUCKET_BITS;
/** Children per inner node of the tree over the buckets. */
export const STATE_TREE_ARITY = 16;
/** Levels of inner nodes above the buckets (16^4 = 2^16). */
export const STATE_TREE_LEVELS = 4;
/** Sibling hashes in a proof's path: 15 per level, bottom level first. */
export const STATE_PATH_HASHES = STATE_TREE_LEVELS * (STATE_TREE_ARITY - 1);
export const STATE_KEY_BYTES_MAX = 256;
export const STATE_VALUE_BYTES_MAX = 64 * 1024;
/** Bound on leaves accepted in one proof: far above a real bucket, small enough to be cheap. */
export const STATE_PROOF_LEAVES_MAX = 100_000;

const BUCKET_PREFIX = 0x03;
const NODE_PREFIX = 0x01;
const HASH_BYTES = 32;

/**
 * Everything needed to check one key against a state root, except the value itself, which the
 * caller carries separately (it may be large, and an absence proof has none).
 */
export interface StateProof {
  key: string;
  bucket: number;
  /** The whole bucket, strictly sorted by UTF-8 key bytes; valueHash = hex(H(value)). */
  leaves: { key: string; valueHash: string }[];
  /**
   * 60 sibling hashes (hex): for each of the 4 levels from the buckets up, the 15 other
   * children of the node's parent in child order.
   */
  path: string[];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * UTF-8 bytes of a valid state key, or undefined. Keys must be 1..256 bytes of well-formed
 * Unicode without NUL: two JS strings must never map to the same bytes (lone surrogates would).
 */
export function stateKeyBytes(key: unknown): Buffer | undefined {
  if (typeof key === 'string' && ASCII_KEY.test(key)) return Buffer.from(key, 'latin1');
  return isStateKey(key) ? Buffer.from(key, 'utf8') : undefined;
}

/** ASCII without NUL, 1..256 characters: the common case, valid without further checks. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at 0x01 so that NUL is refused
const ASCII_KEY = /^[\x01-\x7f]{1,256}$/;

/** Is `key` a valid state key (see stateKeyBytes), without building its bytes? */
export function isStateKey(key: unknown): key is string {
  if (typeof key !== 'string') return false;
  if (ASCII_KEY.test(key)) return true;
  if (key.length === 0 || key.length > STATE_KEY_BYTES_MAX) return false;
  if (LONE_SURROGATE.test(key) || key.includes('\u0000')) return false;
  return Buffer.byteLength(key, 'utf8') <= STATE_KEY_BYTES_MAX;
}

/** The bucket a key lives in: the top 16 bits of a 32-bit FNV-1a of its bytes, finalized with murmur3's mix. */
export function stateBucketOf(keyBytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < keyBytes.length; i++) h = Math.imul(h ^ (keyBytes[i] as number), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 16;
}

/** bucketHash = H(0x03 || [u16be(keyLen) || keyBytes || valueHash]...), entries already in key order. */
export function stateBucketHash(hash: HashFn, sortedEntries: readonly { keyBytes: Uint8Array; valueHash: Uint8Array }[]): Uint8Array {
  const buf = new Uint8Array(sortedEntries.reduce((n, e) => n + 2 + e.keyBytes.byteLength + HASH_BYTES, 1));
  buf[0] = BUCKET_PREFIX;
  let pos = 1;
  for (const e of sortedEntries) {
    buf[pos] = e.keyBytes.byteLength >>> 8;
    buf[pos + 1] = e.keyBytes.byteLength & 0xff;
    buf.set(e.keyBytes, pos + 2);
    buf.set(e.valueHash, pos + 2 + e.keyBytes.byteLength);
    pos += 2 + e.keyBytes.byteLength + HASH_BYTES;
  }
  return hash(buf);
}

/** Hash of the empty bucket, H(0x03). */
export function emptyBucketHash(hash: HashFn): Uint8Array {
  return hash(new Uint8Array([BUCKET_PREFIX]));
}

/**
 * Does `proof` show that `key` holds `value` (or, with `value` undefined, is absent) in the
 * state whose root is `root`? Never throws: any malformed input gives false.
 *
 * @example
 *   const { proof, value } = await api.getStateProof('consent/42');
 *   if (!verifyStateProof(suite.hash, header.stateRoot, 'consent/42', value, proof)) reject();
 */
export function verifyStateProof(hash: HashFn, root: Uint8Array, key: string, value: Uint8Array | undefined, proof: StateProof): boolean {
  try {
    if (!(root instanceof Uint8Array) || root.byteLength !== HASH_BYTES) return false;
    if (value !== undefined && !(value instanceof Uint8Array)) return false;
    if (typeof proof !== 'object' || proof === null || proof.key !== key) return false;
    const keyBytes = stateKeyBytes(key);
    if (keyBytes === undefined) return false;
    const { bucket, leaves, path } = proof;
    if (!Number.isInteger(bucket) || bucket < 0 || bucket >= STATE_BUCKETS) return false;
    if (stateBucketOf(keyBytes) !== bucket) return false;
    if (!Array.isArray(leaves) || leaves.length > STATE_PROOF_LEAVES_MAX) return false;
    if (!Array.isArray(path) || path.length !== STATE_PATH_HASHES) return false;

    const wantValueHash = value === undefined ? undefined : Buffer.from(hash(value)).toString('hex');
    let found = false;
    let prev: Buffer | undefined;
    const entries: { keyBytes: Uint8Array; valueHash: Uint8Array }[] = [];
    for (const l of leaves) {
      if (typeof l !== 'object' || l === null) return false;
      const kb = stateKeyBytes(l.key);
      const vh = hexHash(l.valueHash);
      if (kb === undefined || vh === undefined) return false;
      if (stateBucketOf(kb) !== bucket) return false;
      if (prev !== undefined && Buffer.compare(prev, kb) >= 0) return false;
      prev = kb;
      if (l.key === key) {
        if (wantValueHash === undefined || l.valueHash !== wantValueHash) return false;
        found = true;
      }
      entries.push({ keyBytes: kb, valueHash: vh });
    }
    if (value !== undefined && !found) return false;

    let node = stateBucketHash(hash, entries);
    let index = bucket;
    const buf = new Uint8Array(1 + STATE_TREE_ARITY * HASH_BYTES);
    buf[0] = NODE_PREFIX;
    for (let level = 0; level < STATE_TREE_LEVELS; level++) {
      const own = index % STATE_TREE_ARITY;
      const siblings = path.slice(level * (STATE_TREE_ARITY - 1), (level + 1) * (STATE_TREE_ARITY - 1));
      for (let c = 0, s = 0; c < STATE_TREE_ARITY; c++) {
        const child = c === own ? node : hexHash(siblings[s++]);
        if (child === undefined) return false;
        buf.set(child, 1 + c * HASH_BYTES);
      }
      node = hash(buf);
      index = Math.floor(index / STATE_TREE_ARITY);
    }
    return Buffer.compare(Buffer.from(node), Buffer.from(root)) === 0;
  } catch {
    return false;
  }
}

const HASH_HEX = /^[0-9a-f]{64}$/;

function hexHash(s: unknown): Uint8Array | undefined {
  if (typeof s !== 'string' || !HASH_HEX.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}
