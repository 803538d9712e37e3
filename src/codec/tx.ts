// Transactions: the signed unit of work. The signed digest (= the transaction id) covers
// every field except the signature, so a re-signed copy has the same id and is caught as a
// replay. Replay protection is id uniqueness plus a bounded expiry (see ledger/admission).

import type { Signer } from '../crypto/suite.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import { Reader, Writer } from './binary.js';
import { canonicalJsonBytes, type JsonValue, parseCanonicalJson } from './canonicalJson.js';

export type HashFn = (data: Uint8Array) => Uint8Array;

/** Tag bytes that open every signed structure, so one signature can never be read as another. */
export const Tag = { TX: 0x01, HEADER: 0x02, CHECKPOINT: 0x03, REQUEST: 0x04 } as const;

export const TX_LIMITS = {
  chainIdBytesMax: 64,
  publicKeyBytesMax: 128,
  nameBytesMax: 64,
  argsBytesMax: 64 * 1024,
  signatureBytesMax: 128,
  txBytesMax: 66 * 1024,
} as const;

export interface UnsignedTx {
  readonly chainId: string;
  /** Raw public key of the signer (32 bytes Ed25519, 65 bytes SM2). */
  readonly signer: Uint8Array;
  /** Random per transaction; with expiresAt it makes every id unique. */
  readonly nonce: number;
  /** Block time (ms since epoch) after which the transaction may no longer execute. */
  readonly expiresAt: number;
  readonly contract: string;
  readonly method: string;
  /** Canonical JSON bytes of the arguments. */
  readonly args: Uint8Array;
}

export interface Tx extends UnsignedTx {
  readonly signature: Uint8Array;
}

/** A decoded transaction with its encodings and id computed once. */
export interface DecodedTx {
  readonly tx: Tx;
  /** Full signed encoding. */
  readonly bytes: Uint8Array;
  /** Transaction id = signed digest = hash(unsigned encoding). */
  readonly id: Uint8Array;
  readonly idHex: string;
  /** The signer's public key in hex (how membership is looked up). */
  readonly signerHex: string;
  /** Parsed arguments (already checked canonical). */
  readonly args: JsonValue;
}

export function encodeUnsignedTx(t: UnsignedTx): Uint8Array {
  return writeUnsigned(new Writer(256 + t.args.byteLength), t).finish();
}

function writeUnsigned(w: Writer, t: UnsignedTx): Writer {
  return w.u8(Tag.TX).str(t.chainId).bytes(t.signer).u64(t.nonce).u64(t.expiresAt).str(t.contract).str(t.method).bytes(t.args);
}

export function encodeTx(t: Tx): Uint8Array {
  return writeUnsigned(new Writer(256 + t.args.byteLength), t)
    .bytes(t.signature)
    .finish();
}

export function txDigest(hash: HashFn, t: UnsignedTx): Uint8Array {
  return hash(encodeUnsignedTx(t));
}

/** Sign a transaction (over its digest, the id) and return its signed encoding. */
export async function signTx(hash: HashFn, signer: Signer, t: UnsignedTx): Promise<Uint8Array> {
  return encodeTx({ ...t, signature: await signer.sign(txDigest(hash, t)) });
}

const NAME_RE = /^[a-z][a-zA-Z0-9_.-]{0,63}$/;

function readTxFields(r: Reader): { tx: Tx; unsignedEnd: number; parsed: JsonValue } {
  if (r.u8() !== Tag.TX) throw new CredenceError(Codes.MALFORMED, 'not a transaction (bad tag or version)');
  const chainId = r.str(TX_LIMITS.chainIdBytesMax);
  const signer = r.bytes(TX_LIMITS.publicKeyBytesMax);
  const nonce = r.u64();
  const expiresAt = r.u64();
  const contract = r.str(TX_LIMITS.nameBytesMax);
  const method = r.str(TX_LIMITS.nameBytesMax);
  const args = r.bytes(TX_LIMITS.argsBytesMax);
  const unsignedEnd = r.offset;
  const signature = r.bytes(TX_LIMITS.signatureBytesMax);
  if (!NAME_RE.test(contract) || !NAME_RE.test(method)) {
    throw new CredenceError(Codes.MALFORMED, 'contract and method names must match [a-z][a-zA-Z0-9_.-]*');
  }
  const parsed = parseCanonicalJson(args);
  return { tx: { chainId, signer, nonce, expiresAt, contract, method, args, signature }, unsignedEnd, parsed };
}

/** Decode and structurally check one signed transaction. Does not verify the signature. */
export function decodeTx(hash: HashFn, bytes: Uint8Array): DecodedTx {
  if (bytes.byteLength > TX_LIMITS.txBytesMax) {
    throw new CredenceError(Codes.TOO_LARGE, `transaction of ${bytes.byteLength} bytes exceeds ${TX_LIMITS.txBytesMax}`);
  }
  const r = new Reader(bytes);
  const { tx, unsignedEnd, parsed } = readTxFields(r);
  r.end();
  const id = hash(bytes.subarray(0, unsignedEnd));
  return { tx, bytes, id, idHex: toHex(id), signerHex: toHex(tx.signer), args: parsed };
}

/** Decode, sign nothing: build the DecodedTx for a tx object (e.g. one just signed). */
export function toDecoded(hash: HashFn, tx: Tx): DecodedTx {
  return decodeTx(hash, encodeTx(tx));
}

// ---- batches: u32 count, then each tx as u32-length-prefixed bytes -----------------------

export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(64 + txs.reduce((n, t) => n + t.byteLength + 4, 0));
  w.u32(txs.length);
  for (const t of txs) w.bytes(t);
  return w.finish();
}

export function decodeTxBatch(bytes: Uint8Array, countMax: number): Uint8Array[] {
  const r = new Reader(bytes);
  const n = r.u32();
  if (n > countMax) throw new CredenceError(Codes.TOO_LARGE, `batch of ${n} transactions exceeds ${countMax}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(TX_LIMITS.txBytesMax));
  r.end();
  return out;
}

// ---- JSON form, for the REST edge ----------------------------------------------------------

export interface TxJson {
  chainId: string;
  signer: string;
  nonce: number;
  expiresAt: number;
  contract: string;
  method: string;
  args: JsonValue;
  signature: string;
}

export function txToJson(t: Tx): TxJson {
  return {
    chainId: t.chainId,
    signer: toHex(t.signer),
    nonce: t.nonce,
    expiresAt: t.expiresAt,
    contract: t.contract,
    method: t.method,
    args: parseCanonicalJson(t.args),
    signature: toHex(t.signature),
  };
}

function hexField(v: unknown, name: string): Uint8Array {
  const b = typeof v === 'string' ? fromHexStrict(v) : undefined;
  if (b === undefined) throw new CredenceError(Codes.MALFORMED, `field ${name} must be lowercase hex`);
  return b;
}

function intField(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new CredenceError(Codes.MALFORMED, `field ${name} must be a non-negative integer`);
  }
  return v;
}

function strField(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new CredenceError(Codes.MALFORMED, `field ${name} must be a string`);
  return v;
}

/** Parse the JSON form into the canonical binary form (then decode checks everything else). */
export function txFromJson(v: unknown): Tx {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CredenceError(Codes.MALFORMED, 'transaction must be a JSON object');
  }
  const o = v as Record<string, unknown>;
  return {
    chainId: strField(o.chainId, 'chainId'),
    signer: hexField(o.signer, 'signer'),
    nonce: intField(o.nonce, 'nonce'),
    expiresAt: intField(o.expiresAt, 'expiresAt'),
    contract: strField(o.contract, 'contract'),
    method: strField(o.method, 'method'),
    args: canonicalJsonBytes(o.args ?? null),
    signature: hexField(o.signature, 'signature'),
  };
}
