// Checkpoints: a node's signed statement "at this height I have this block hash and this
// state root". Comparing them across organizations reveals divergence; a majority of them
// makes a block final for light clients.

import { CredenceError, Codes } from '../util/errors.js';
import { Reader, Writer } from './binary.js';
import { HASH_BYTES } from './block.js';
import { type HashFn, Tag, TX_LIMITS } from './tx.js';

export interface CheckpointBody {
  readonly chainId: string;
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
}

export interface Checkpoint extends CheckpointBody {
  readonly signer: Uint8Array;
  readonly signature: Uint8Array;
}

export function encodeCheckpointBody(c: CheckpointBody): Uint8Array {
  return new Writer(128).u8(Tag.CHECKPOINT).str(c.chainId).u64(c.height).raw(c.blockHash).raw(c.stateRoot).finish();
}

export function checkpointDigest(hash: HashFn, c: CheckpointBody): Uint8Array {
  return hash(encodeCheckpointBody(c));
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return new Writer(256).bytes(encodeCheckpointBody(c)).bytes(c.signer).bytes(c.signature).finish();
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const r = new Reader(bytes);
  const body = new Reader(r.bytes(256));
  if (body.u8() !== Tag.CHECKPOINT) throw new CredenceError(Codes.MALFORMED, 'not a checkpoint (bad tag)');
  const chainId = body.str(TX_LIMITS.chainIdBytesMax);
  const height = body.u64();
  const blockHash = body.raw(HASH_BYTES);
  const stateRoot = body.raw(HASH_BYTES);
  body.end();
  const signer = r.bytes(TX_LIMITS.publicKeyBytesMax);
  const signature = r.bytes(TX_LIMITS.signatureBytesMax);
  r.end();
  return { chainId, height, blockHash, stateRoot, signer, signature };
}
