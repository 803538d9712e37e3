// Blocks: a header (hashed and chained) and the signed transactions it orders. The header
// commits to the transactions (Merkle root of tx ids), to the state after executing them
// (state root) and to their results (Merkle root of encoded results), so a follower that
// re-executes a block can check every effect, and a light client can check a proof.

import { CredenceError, Codes } from '../util/errors.js';
import { Reader, Writer } from './binary.js';
import { type JsonValue, canonicalJson, parseCanonicalJson } from './canonicalJson.js';
import { type HashFn, Tag, TX_LIMITS } from './tx.js';

export const HASH_BYTES = 32;

export const BLOCK_LIMITS = {
  txCountMax: 20_000,
  blockBytesMax: 64 * 1024 * 1024,
  // records.anchor emits one event per negative record (up to 500 per batch).
  eventsPerTxMax: 512,
  eventBytesMax: 16 * 1024,
  codeBytesMax: 64,
} as const;

export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  /** Hash of the previous header; for height 0, the hash of the genesis document. */
  readonly prevHash: Uint8Array;
  /** Block time in ms since epoch, set by ordering; never decreases. */
  readonly time: number;
  readonly txCount: number;
  /** Merkle root over the signed transaction encodings, in block order. */
  readonly txRoot: Uint8Array;
  /** Root of the authenticated state after executing this block. */
  readonly stateRoot: Uint8Array;
  /** Merkle root over the encoded results, in block order. */
  readonly resultsRoot: Uint8Array;
}

export interface Block {
  readonly header: BlockHeader;
  /** Signed transaction encodings, in order. */
  readonly txs: readonly Uint8Array[];
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return new Writer(200)
    .u8(Tag.HEADER)
    .str(h.chainId)
    .u64(h.height)
    .raw(h.prevHash)
    .u64(h.time)
    .u32(h.txCount)
    .raw(h.txRoot)
    .raw(h.stateRoot)
    .raw(h.resultsRoot)
    .finish();
}

function readHeader(r: Reader): BlockHeader {
  if (r.u8() !== Tag.HEADER) throw new CredenceError(Codes.MALFORMED, 'not a block header (bad tag)');
  const chainId = r.str(TX_LIMITS.chainIdBytesMax);
  const height = r.u64();
  const prevHash = r.raw(HASH_BYTES);
  const time = r.u64();
  const txCount = r.u32();
  const txRoot = r.raw(HASH_BYTES);
  const stateRoot = r.raw(HASH_BYTES);
  const resultsRoot = r.raw(HASH_BYTES);
  return { chainId, height, prevHash, time, txCount, txRoot, stateRoot, resultsRoot };
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  const r = new Reader(bytes);
  const h = readHeader(r);
  r.end();
  return h;
}

export function headerHash(hash: HashFn, h: BlockHeader): Uint8Array {
  return hash(encodeHeader(h));
}

export function encodeBlock(b: Block): Uint8Array {
  const header = encodeHeader(b.header);
  const w = new Writer(header.byteLength + 8 + b.txs.reduce((n, t) => n + t.byteLength + 4, 0));
  w.bytes(header).u32(b.txs.length);
  for (const t of b.txs) w.bytes(t);
  return w.finish();
}

export function decodeBlock(bytes: Uint8Array): Block {
  if (bytes.byteLength > BLOCK_LIMITS.blockBytesMax) throw new CredenceError(Codes.TOO_LARGE, 'block too large');
  const r = new Reader(bytes);
  const header = decodeHeader(r.bytes(1024));
  const n = r.u32();
  if (n !== header.txCount) throw new CredenceError(Codes.MALFORMED, 'block tx count does not match its header');
  if (n > BLOCK_LIMITS.txCountMax) throw new CredenceError(Codes.TOO_LARGE, 'block has too many transactions');
  const txs: Uint8Array[] = [];
  for (let i = 0; i < n; i++) txs.push(r.bytes(TX_LIMITS.txBytesMax));
  r.end();
  return { header, txs };
}

// ---- results --------------------------------------------------------------------------------

export interface ContractEvent {
  readonly contract: string;
  readonly name: string;
  readonly data: JsonValue;
}

/** The deterministic outcome of one transaction. `code` is "OK" or a stable error code. */
export interface TxResult {
  readonly code: string;
  readonly events: readonly ContractEvent[];
  /** Return value on success (null otherwise). */
  readonly value: JsonValue;
}

export function encodeResult(res: TxResult): Uint8Array {
  const events = res.events.map((e) => ({ contract: e.contract, name: e.name, data: canonicalJson(e.data) }));
  return writeResultParts(new Writer(128), res.code, events, canonicalJson(res.value)).finish();
}

/**
 * Append the same encoding to `w`, from parts already in canonical JSON text (the executor
 * has them): a JSON text written as a string is exactly its UTF-8 bytes with their length,
 * so a block's results go into one buffer with no array per result or per JSON value.
 */
export function writeResultParts(w: Writer, code: string, events: readonly { contract: string; name: string; data: string }[], valueJson: string): Writer {
  w.str(code).u32(events.length);
  for (const e of events) w.str(e.contract).str(e.name).str(e.data);
  return w.str(valueJson);
}

export function decodeResult(bytes: Uint8Array): TxResult {
  const r = new Reader(bytes);
  const code = r.str(BLOCK_LIMITS.codeBytesMax);
  const n = r.u32();
  if (n > BLOCK_LIMITS.eventsPerTxMax) throw new CredenceError(Codes.TOO_LARGE, 'too many events');
  const events: ContractEvent[] = [];
  for (let i = 0; i < n; i++) {
    const contract = r.str(TX_LIMITS.nameBytesMax);
    const name = r.str(TX_LIMITS.nameBytesMax);
    events.push({ contract, name, data: parseCanonicalJson(r.bytes(BLOCK_LIMITS.eventBytesMax)) });
  }
  const value = parseCanonicalJson(r.bytes(TX_LIMITS.argsBytesMax));
  r.end();
  return { code, events, value };
}
