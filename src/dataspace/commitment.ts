// Salted commitments to records and the Merkle root of an anchored batch.
//
// commitment = H(salt || canonicalJson(record)) with a 32-byte random salt the provider keeps
// in its vault next to the record: the chain learns nothing about the content (the salt
// defeats guessing), yet a consumer given record + salt + inclusion proof can check it
// against the batch root on chain. The batch root is the RFC 6962 Merkle root over the
// commitments in batch order (ledger/merkle.ts).

import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { type MerkleProof, merkleProof, merkleRoot, verifyMerkleProof } from '../ledger/merkle.js';
import { concatBytes } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { Record } from './record.js';

export const SALT_BYTES = 32;
/** Most records in one anchored batch (one `records.anchor` transaction). */
export const BATCH_RECORDS_MAX = 500;

export function newSalt(): Uint8Array {
  return freshRandom(SALT_BYTES);
}

/** H(salt || canonicalJson(record)). */
export function commit(suite: CryptoSuite, record: Record, salt: Uint8Array): Uint8Array {
  if (salt.byteLength !== SALT_BYTES) throw new CredenceError(Codes.MALFORMED, `salt must be ${SALT_BYTES} bytes`);
  return suite.hash(concatBytes([salt, canonicalJsonBytes(record)]));
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

/** Audit path of `commitments[index]` in its batch. */
export function inclusionProof(suite: CryptoSuite, commitments: readonly Uint8Array[], index: number): MerkleProof {
  checkBatch(commitments);
  return merkleProof(suite.hash, commitments, index);
}

/** Does `proof` place `commitment` under `root`? Never throws. */
export function verifyInclusion(suite: CryptoSuite, root: Uint8Array, commitment: Uint8Array, proof: MerkleProof): boolean {
  return verifyMerkleProof(suite.hash, root, commitment, proof);
}
