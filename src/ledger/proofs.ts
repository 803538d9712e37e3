// Proofs a light client can check offline against one block header: a transaction (and its
// result) is in the block, or a state key has a value (or none) at that block. The JSON
// forms travel over REST and through `credence proof verify`.

import type { BlockHeader } from '../codec/block.js';
import { decodeHeader, encodeHeader, headerHash } from '../codec/block.js';
import type { HashFn } from '../codec/tx.js';
import { decodeTx } from '../codec/tx.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { type MerkleProof, merkleProof, verifyMerkleProof } from './merkle.js';
import { type StateProof, verifyStateProof } from './stateProof.js';

export interface MerkleProofJson {
  index: number;
  size: number;
  path: string[];
}

export interface TxProofJson {
  kind: 'tx';
  /** Encoded header (hex) of the block holding the transaction. */
  header: string;
  tx: string;
  result: string;
  txProof: MerkleProofJson;
  resultProof: MerkleProofJson;
  /** Signed checkpoints (hex) of the block, for finality (see finality.ts). */
  checkpoints?: string[];
  /** Membership changes up to the block (finality.ts MembershipEpoch), so later members count. */
  epochs?: unknown[];
}

export interface StateProofJson {
  kind: 'state';
  header: string;
  key: string;
  /** Value bytes (hex, canonical JSON), or null when the proof shows absence. */
  value: string | null;
  proof: StateProof;
  checkpoints?: string[];
  epochs?: unknown[];
}

export type ProofJson = TxProofJson | StateProofJson;

function proofToJson(p: MerkleProof): MerkleProofJson {
  return { index: p.index, size: p.size, path: p.path.map(toHex) };
}

function proofFromJson(p: MerkleProofJson): MerkleProof | undefined {
  if (typeof p !== 'object' || p === null || !Array.isArray(p.path)) return undefined;
  const path = p.path.map((h) => (typeof h === 'string' ? fromHexStrict(h) : undefined));
  if (path.some((h) => h === undefined)) return undefined;
  return { index: p.index, size: p.size, path: path as Uint8Array[] };
}

export function buildTxProof(hash: HashFn, header: BlockHeader, txs: readonly Uint8Array[], results: readonly Uint8Array[], index: number): TxProofJson {
  const tx = txs[index];
  const result = results[index];
  if (tx === undefined || result === undefined) throw new RangeError('transaction index out of range');
  return {
    kind: 'tx',
    header: toHex(encodeHeader(header)),
    tx: toHex(tx),
    result: toHex(result),
    txProof: proofToJson(merkleProof(hash, txs, index)),
    resultProof: proofToJson(merkleProof(hash, results, index)),
  };
}

export interface ProofCheck {
  readonly ok: boolean;
  /** Why the proof failed, when it did. */
  readonly reason?: string;
  readonly height?: number;
  readonly blockHash?: string;
}

function headerOf(hex: unknown): BlockHeader | undefined {
  const b = typeof hex === 'string' ? fromHexStrict(hex) : undefined;
  if (b === undefined) return undefined;
  try {
    return decodeHeader(b);
  } catch {
    return undefined;
  }
}

/**
 * Check a proof offline. `trustedHeaderHash` (hex), when given, pins the header the proof
 * must be against (a block hash the verifier already trusts). Never throws.
 */
export function verifyProof(hash: HashFn, proof: ProofJson, trustedHeaderHash?: string): ProofCheck {
  const header = headerOf(proof?.header);
  if (header === undefined) return { ok: false, reason: 'header is missing or malformed' };
  const blockHash = toHex(headerHash(hash, header));
  const at = { height: header.height, blockHash };
  if (trustedHeaderHash !== undefined && trustedHeaderHash.toLowerCase() !== blockHash) {
    return { ok: false, reason: 'header does not match the trusted block hash', ...at };
  }
  const reason = proof.kind === 'tx' ? checkTx(hash, header, proof) : proof.kind === 'state' ? checkState(hash, header, proof) : 'unknown proof kind';
  return reason === undefined ? { ok: true, ...at } : { ok: false, reason, ...at };
}

function checkTx(hash: HashFn, header: BlockHeader, p: TxProofJson): string | undefined {
  const tx = typeof p.tx === 'string' ? fromHexStrict(p.tx) : undefined;
  const result = typeof p.result === 'string' ? fromHexStrict(p.result) : undefined;
  const txProof = proofFromJson(p.txProof);
  const resultProof = proofFromJson(p.resultProof);
  if (tx === undefined || result === undefined || txProof === undefined || resultProof === undefined) return 'proof fields are malformed';
  try {
    decodeTx(hash, tx);
  } catch {
    return 'transaction does not decode';
  }
  if (txProof.index !== resultProof.index) return 'transaction and result proofs disagree on the index';
  if (!verifyMerkleProof(hash, header.txRoot, tx, txProof)) return 'transaction is not in the block (tx root mismatch)';
  if (!verifyMerkleProof(hash, header.resultsRoot, result, resultProof)) return 'result is not in the block (results root mismatch)';
  return undefined;
}

function checkState(hash: HashFn, header: BlockHeader, p: StateProofJson): string | undefined {
  const value = p.value === null ? undefined : typeof p.value === 'string' ? fromHexStrict(p.value) : null;
  if (value === null || typeof p.key !== 'string') return 'proof fields are malformed';
  if (!verifyStateProof(hash, header.stateRoot, p.key, value, p.proof)) {
    return value === undefined ? 'absence is not proven by the state root' : 'value is not proven by the state root';
  }
  return undefined;
}
