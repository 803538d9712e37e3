// Salted commitments to records and the Merkle root of an anchored batch.
//
// commitment = H(salt || canonicalJson(record)) with a 32-byte random salt the provider keeps
// in its vault next to the record: the chain learns nothing about the content (the salt
// defeats guessing), yet a consumer given record + salt + inclusion proof can check it
// against the batch root on chain. The batch root is the RFC 6962 Merkle root over the
// commitments in batch order (ledger/merkle.ts).

import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import { BATCH_RECORDS_MAX } from '../contracts/recordBatch.js';
import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import {
  HASH_BYTES,
  type MerkleProof,
  merkleLeafHash,
  merkleNodeHash,
  merkleProof,
  merkleRoot,
  merkleRootPacked,
  verifyMerkleProof,
} from '../ledger/merkle.js';
import { concatBytes } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { Record } from './record.js';

export const SALT_BYTES = 32;
export { BATCH_RECORDS_MAX };

export function newSalt(): Uint8Array {
  return freshRandom(SALT_BYTES);
}

/** H(salt || canonicalJson(record)). */
export function commit(suite: CryptoSuite, record: Record, salt: Uint8Array): Uint8Array {
  return commitBytes(suite, canonicalJsonBytes(record), salt);
}

/** `commit` over a record already in canonical JSON. */
export function commitBytes(suite: CryptoSuite, recordJson: Uint8Array, salt: Uint8Array): Uint8Array {
  if (salt.byteLength !== SALT_BYTES) throw new CredenceError(Codes.MALFORMED, `salt must be ${SALT_BYTES} bytes`);
  return suite.hash(concatBytes([salt, recordJson]));
}

function checkBatch(commitments: readonly Uint8Array[]): void {
  if (commitments.length === 0 || commitments.length > BATCH_RECORDS_MAX) {
    throw new CredenceError(Codes.TOO_LARGE, `a batch holds 1 to ${BATCH_RECORDS_MAX} records`, { records: commitments.length });
  }
}

/** RFC 6962 root over the commitments, in batch order. */
export function batchRoot(suite: CryptoSuite, commitments: readonly Uint8Array[]): Uint8Array {
  checkBatch(commitments);
  return merkleRoot(suite.hash, commitments);
}

/** `batchRoot` over `count` commitments packed in one array (32 bytes each). */
export function packedBatchRoot(suite: CryptoSuite, commitments: Uint8Array, count: number): Uint8Array {
  if (count === 0 || count > BATCH_RECORDS_MAX) throw new CredenceError(Codes.TOO_LARGE, `a batch holds 1 to ${BATCH_RECORDS_MAX} records`, { records: count });
  return merkleRootPacked(suite.hashInto, commitments, count);
}

/** Audit path of `commitments[index]` in its batch. */
export function inclusionProof(suite: CryptoSuite, commitments: readonly Uint8Array[], index: number): MerkleProof {
  checkBatch(commitments);
  return merkleProof(suite.hash, commitments, index);
}

/** Does `proof` place `commitment` under `root`? Never throws. */
export function verifyInclusion(suite: CryptoSuite, root: Uint8Array, commitment: Uint8Array, proof: MerkleProof): boolean {
  return verifyMerkleProof(suite.hash, root, commitment, proof);
}

/**
 * Every level of a batch's Merkle tree, kept so that proofs for many records of one batch
 * cost a walk up the levels each instead of rebuilding the tree. Same tree as `batchRoot`
 * (RFC 6962: pairs hashed, an odd last node carried up unchanged).
 */
export class BatchTree {
  private readonly levels: Uint8Array[][];

  constructor(suite: CryptoSuite, commitments: readonly Uint8Array[]) {
    checkBatch(commitments);
    const hash = (d: Uint8Array) => suite.hash(d);
    let level = commitments.map((c) => merkleLeafHash(hash, c));
    this.levels = [level];
    while (level.length > 1) {
      const up: Uint8Array[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) up.push(merkleNodeHash(hash, level[i] as Uint8Array, level[i + 1] as Uint8Array));
      if (level.length % 2 === 1) up.push(level[level.length - 1] as Uint8Array);
      this.levels.push(up);
      level = up;
    }
  }

  get size(): number {
    return (this.levels[0] as Uint8Array[]).length;
  }

  get root(): Uint8Array {
    return (this.levels[this.levels.length - 1] as Uint8Array[])[0] as Uint8Array;
  }

  proof(index: number): MerkleProof {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) throw new CredenceError(Codes.MALFORMED, 'index outside the batch');
    const path: Uint8Array[] = [];
    let i = index;
    for (const level of this.levels.slice(0, -1)) {
      const sibling = level[i ^ 1];
      if (sibling !== undefined) path.push(sibling);
      i >>>= 1;
    }
    return { index, size: this.size, path };
  }

  /** Bytes held, for bounding a cache of trees. */
  get bytes(): number {
    return this.levels.reduce((n, l) => n + l.length * HASH_BYTES, 0);
  }
}
