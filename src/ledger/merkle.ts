// Binary Merkle trees over an ordered list of byte strings (block transactions, receipts),
// exactly RFC 6962 §2.1 (MTH and audit paths) so any CT-style verifier can check our proofs.
// The hash is injected (SHA-256 or SM3 by suite); 0x00/0x01 prefixes keep leaves and nodes apart.

import { CredenceError } from '../util/errors.js';

/** The chain's hash function: 32-byte output (SHA-256 or SM3, chosen by the crypto suite). */
export type HashFn = (data: Uint8Array) => Uint8Array;

/** Output length of every HashFn we accept. */
export const HASH_BYTES = 32;

/** Largest tree we build or prove: far above any block, small enough to bound memory. */
export const MERKLE_LEAVES_MAX = 1 << 24;

/**
 * An RFC 6962 audit path: `path` lists sibling subtree hashes from the leaf up to the root.
 * Its length is fixed by (index, size), so a verifier rejects any padded or truncated path.
 */
export interface MerkleProof {
  index: number;
  size: number;
  path: Uint8Array[];
}

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** RFC 6962 leaf hash: H(0x00 || leaf). */
export function merkleLeafHash(hash: HashFn, leaf: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + leaf.byteLength);
  buf[0] = LEAF_PREFIX;
  buf.set(leaf, 1);
  return hash(buf);
}

/** RFC 6962 interior node: H(0x01 || left || right). */
export function merkleNodeHash(hash: HashFn, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 2 * HASH_BYTES);
  buf[0] = NODE_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + HASH_BYTES);
  return hash(buf);
}

/**
 * Root of the tree over raw leaves: leaves are hashed here with the 0x00 prefix.
 *
 * @example merkleRoot(suite.hash, txs.map(encodeTx))
 */
export function merkleRoot(hash: HashFn, leaves: readonly Uint8Array[]): Uint8Array {
  checkCount(leaves.length);
  return rootOfLevel(hash, leafHashesOf(hash, leaves));
}

/**
 * Root of the tree whose leaf hashes are already computed, i.e. each element is
 * H(0x00 || leaf) (see `merkleLeafHash`) — no further leaf hashing is applied here.
 * Do NOT pass bare ids such as H(tx) unless the 0x00 layer was applied when they were made.
 */
export function merkleRootOfLeafHashes(hash: HashFn, leafHashes: readonly Uint8Array[]): Uint8Array {
  checkCount(leafHashes.length);
  for (const h of leafHashes) checkHashLength(h);
  return rootOfLevel(hash, leafHashes.slice());
}

/** Writes H(data) into `out` at `offset` (CryptoSuite.hashInto). */
export type HashIntoFn = (data: Uint8Array, out: Uint8Array, offset: number) => void;

/**
 * `merkleRoot` over `count` leaves of HASH_BYTES each, packed in one array, computed level by
 * level in one working array (no array per node): for large batches of fixed-size leaves.
 */
export function merkleRootPacked(hashInto: HashIntoFn, leaves: Uint8Array, count: number): Uint8Array {
  checkCount(count);
  if (count === 0 || leaves.byteLength !== count * HASH_BYTES) throw new CredenceError('MALFORMED', 'packed Merkle leaves must be 1 or more hashes', { count });
  return hashLeavesAndReduce(hashInto, count, HASH_BYTES, (i) => leaves.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
}

/**
 * `merkleRoot` computed with `hashInto` in one working array: the same root, without an array
 * per leaf hash or per node (a block's transaction and result roots).
 */
export function merkleRootInto(hashInto: HashIntoFn, leaves: readonly Uint8Array[]): Uint8Array {
  checkCount(leaves.length);
  if (leaves.length === 0) {
    const out = new Uint8Array(HASH_BYTES);
    hashInto(new Uint8Array(0), out, 0);
    return out;
  }
  let max = 0;
  for (const l of leaves) if (l.byteLength > max) max = l.byteLength;
  return hashLeavesAndReduce(hashInto, leaves.length, max, (i) => leaves[i] as Uint8Array);
}

/** H(0x00 || leaf) for each of `count` leaves into one array, then the levels above in place. */
function hashLeavesAndReduce(hashInto: HashIntoFn, count: number, maxLeafBytes: number, leafAt: (i: number) => Uint8Array): Uint8Array {
  const level = new Uint8Array(count * HASH_BYTES);
  const buf = new Uint8Array(1 + Math.max(maxLeafBytes, 2 * HASH_BYTES));
  buf[0] = LEAF_PREFIX;
  // One view per distinct leaf length (a block's leaves mostly share one), not one per leaf.
  let input = buf.subarray(0, 0);
  for (let i = 0; i < count; i++) {
    const leaf = leafAt(i);
    buf.set(leaf, 1);
    if (input.byteLength !== 1 + leaf.byteLength) input = buf.subarray(0, 1 + leaf.byteLength);
    hashInto(input, level, i * HASH_BYTES);
  }
  buf[0] = NODE_PREFIX;
  const pair = buf.subarray(0, 1 + 2 * HASH_BYTES);
  let n = count;
  while (n > 1) {
    const half = n >>> 1;
    // Node i of the next level reads nodes 2i and 2i+1 of this one before it is written over them.
    for (let i = 0; i < half; i++) {
      const from = 2 * i * HASH_BYTES;
      for (let b = 0; b < 2 * HASH_BYTES; b++) pair[1 + b] = level[from + b] as number;
      hashInto(pair, level, i * HASH_BYTES);
    }
    if (n % 2 === 1) level.copyWithin(half * HASH_BYTES, (n - 1) * HASH_BYTES, n * HASH_BYTES);
    n = half + (n % 2);
  }
  return level.slice(0, HASH_BYTES);
}

/** Audit path for `leaves[index]`; throws MALFORMED if the index is out of range. */
export function merkleProof(hash: HashFn, leaves: readonly Uint8Array[], index: number): MerkleProof {
  checkCount(leaves.length);
  return proofOfLevel(hash, leafHashesOf(hash, leaves), index);
}

/** Audit path over precomputed leaf hashes (each H(0x00 || leaf)). */
export function merkleProofOfLeafHashes(hash: HashFn, leafHashes: readonly Uint8Array[], index: number): MerkleProof {
  checkCount(leafHashes.length);
  for (const h of leafHashes) checkHashLength(h);
  return proofOfLevel(hash, leafHashes.slice(), index);
}

/**
 * Does `proof` place the raw `leaf` in the tree with `root`? Never throws: any malformed
 * proof (bad index/size, wrong path length, wrong hash sizes) is simply `false`.
 */
export function verifyMerkleProof(hash: HashFn, root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  try {
    if (!(leaf instanceof Uint8Array)) return false;
    return verifyMerkleProofOfLeafHash(hash, root, merkleLeafHash(hash, leaf), proof);
  } catch {
    return false;
  }
}

/** Like `verifyMerkleProof`, given the leaf hash H(0x00 || leaf). Never throws. */
export function verifyMerkleProofOfLeafHash(hash: HashFn, root: Uint8Array, leafHash: Uint8Array, proof: MerkleProof): boolean {
  try {
    if (!isHash(root) || !isHash(leafHash) || typeof proof !== 'object' || proof === null) return false;
    const { index, size, path } = proof;
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size)) return false;
    if (index < 0 || size < 1 || index >= size || size > MERKLE_LEAVES_MAX) return false;
    if (!Array.isArray(path) || path.length !== auditPathLength(index, size)) return false;
    // RFC 9162 §2.1.3.2, with fn/sn as the node's index and the last index at each level.
    const buf = new Uint8Array(1 + 2 * HASH_BYTES);
    buf[0] = NODE_PREFIX;
    let fn = index;
    let sn = size - 1;
    let r: Uint8Array = leafHash;
    for (const p of path) {
      if (!isHash(p) || sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        buf.set(p, 1);
        buf.set(r, 1 + HASH_BYTES);
        r = hash(buf);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        buf.set(r, 1);
        buf.set(p, 1 + HASH_BYTES);
        r = hash(buf);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equalBytes(r, root);
  } catch {
    return false;
  }
}

/** Number of hashes in the RFC 6962 audit path of leaf `index` in a tree of `size` leaves. */
export function auditPathLength(index: number, size: number): number {
  let len = 0;
  let i = index;
  let last = size - 1;
  while (last > 0) {
    // A node with no right sibling (the last one at an odd-sized level) is carried up as is.
    if (i % 2 === 1 || i < last) len++;
    i = Math.floor(i / 2);
    last = Math.floor(last / 2);
  }
  return len;
}

// --- internals -------------------------------------------------------------------------

function leafHashesOf(hash: HashFn, leaves: readonly Uint8Array[]): Uint8Array[] {
  let max = 0;
  for (const l of leaves) if (l.byteLength > max) max = l.byteLength;
  // One scratch buffer for all leaves; the hash function copies what it reads.
  const scratch = new Uint8Array(1 + max);
  scratch[0] = LEAF_PREFIX;
  const out = new Array<Uint8Array>(leaves.length);
  for (let i = 0; i < leaves.length; i++) {
    const l = leaves[i] as Uint8Array;
    scratch.set(l, 1);
    out[i] = checkHashLength(hash(scratch.subarray(0, 1 + l.byteLength)));
  }
  return out;
}

/**
 * Bottom-up over one level array, reused in place. Pairing neighbours and carrying an odd
 * last node up unchanged yields exactly RFC 6962's split at the largest power of two < n.
 */
function rootOfLevel(hash: HashFn, level: Uint8Array[]): Uint8Array {
  if (level.length === 0) return checkHashLength(hash(new Uint8Array(0)));
  const buf = new Uint8Array(1 + 2 * HASH_BYTES);
  buf[0] = NODE_PREFIX;
  let n = level.length;
  while (n > 1) {
    const half = n >>> 1;
    for (let i = 0; i < half; i++) {
      buf.set(level[2 * i] as Uint8Array, 1);
      buf.set(level[2 * i + 1] as Uint8Array, 1 + HASH_BYTES);
      level[i] = hash(buf);
    }
    if (n % 2 === 1) level[half] = level[n - 1] as Uint8Array;
    n = half + (n % 2);
  }
  return level[0] as Uint8Array;
}

function proofOfLevel(hash: HashFn, level: Uint8Array[], index: number): MerkleProof {
  const size = level.length;
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new CredenceError('MALFORMED', 'Merkle proof index out of range', { index, size });
  }
  const buf = new Uint8Array(1 + 2 * HASH_BYTES);
  buf[0] = NODE_PREFIX;
  const path: Uint8Array[] = [];
  let i = index;
  let n = size;
  while (n > 1) {
    const sibling = i ^ 1;
    if (sibling < n) path.push(level[sibling] as Uint8Array);
    const half = n >>> 1;
    for (let j = 0; j < half; j++) {
      buf.set(level[2 * j] as Uint8Array, 1);
      buf.set(level[2 * j + 1] as Uint8Array, 1 + HASH_BYTES);
      level[j] = hash(buf);
    }
    if (n % 2 === 1) level[half] = level[n - 1] as Uint8Array;
    n = half + (n % 2);
    i >>>= 1;
  }
  return { index, size, path };
}

function checkCount(n: number): void {
  if (n > MERKLE_LEAVES_MAX) {
    throw new CredenceError('TOO_LARGE', 'too many Merkle leaves', { leaves: n, max: MERKLE_LEAVES_MAX });
  }
}

function checkHashLength(h: Uint8Array): Uint8Array {
  if (h.byteLength !== HASH_BYTES) {
    throw new CredenceError('MALFORMED', 'hash is not 32 bytes', { bytes: h.byteLength });
  }
  return h;
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.byteLength === HASH_BYTES;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
