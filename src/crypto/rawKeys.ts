// Raw key bytes <-> node:crypto KeyObjects. Transactions carry raw public keys (32-byte
// Ed25519/X25519, 65-byte SM2 points) while node:crypto wants DER; the fixed DER prefixes
// below are the cheapest bridge, and a bounded cache keeps the hot verify path from rebuilding keys.

import crypto from 'node:crypto';
import { CredenceError, Codes } from '../util/errors.js';

/** SPKI DER prefix for an Ed25519 public key (RFC 8410); append the 32 raw bytes. */
export const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** SPKI DER prefix for an X25519 public key (RFC 8410); append the 32 raw bytes. */
export const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
/** PKCS#8 DER prefix for an X25519 private key (RFC 8410); append the 32-byte scalar. */
export const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/**
 * SPKI DER prefix for an SM2 public key: id-ecPublicKey + curve sm2p256v1 (1.2.156.10197.1.301);
 * append the 65-byte uncompressed point. OpenSSL 3 loads this as an SM2-type key, which is what
 * makes `crypto.sign/verify('sm3', ...)` compute real SM2 (with the Z_A prehash), see gm.ts.
 */
export const SM2_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex');

/** `b` as a Buffer over the same memory (itself if it is one already: no new view per call on hot paths). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A plain Uint8Array view of a Buffer, without copying. Only for Buffers that own their memory
 * (e.g. a digest from crypto.hash), never for pooled ones: the view shares the ArrayBuffer.
 */
export function plainBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A digest that node:crypto returned as a latin1 string, written into `out` at `offset`. A
 * digest asked for as a string costs about half of one asked for as a Buffer (no ArrayBuffer
 * with an external backing store to allocate and later free), and a small Uint8Array made
 * here lives on the V8 heap.
 */
export function digestInto(digest: string, out: Uint8Array, offset = 0): Uint8Array {
  for (let i = 0; i < digest.length; i++) out[offset + i] = digest.charCodeAt(i);
  return out;
}

/** Public KeyObject from a known DER prefix and raw key; throws (node error) on an invalid key. */
export function publicKeyFromRaw(prefix: Buffer, raw: Uint8Array): crypto.KeyObject {
  return crypto.createPublicKey({
    key: Buffer.concat([prefix, asBuffer(raw)]),
    format: 'der',
    type: 'spki',
  });
}

/** The bytes after `prefix` in the SPKI DER of `key`, or undefined if the prefix does not match. */
export function rawFromSpki(key: crypto.KeyObject, prefix: Buffer, rawBytes: number): Uint8Array | undefined {
  const der = key.export({ format: 'der', type: 'spki' });
  if (der.length !== prefix.length + rawBytes) return undefined;
  if (!der.subarray(0, prefix.length).equals(prefix)) return undefined;
  return new Uint8Array(der.subarray(prefix.length));
}

/** SPKI PEM for a DER body. */
export function spkiPem(der: Uint8Array): string {
  return crypto
    .createPublicKey({ key: asBuffer(der), format: 'der', type: 'spki' })
    .export({ format: 'pem', type: 'spki' })
    .toString();
}

/** Private KeyObject from PKCS#8 PEM, or CredenceError BAD_KEY (never echoing the key). */
export function privateKeyFromPem(pem: string, what: string): crypto.KeyObject {
  try {
    return crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new CredenceError(Codes.BAD_KEY, `${what}: not a readable PKCS#8 PEM private key`, {}, e);
  }
}

/** Public KeyObject from SPKI PEM, or CredenceError BAD_KEY. */
export function publicKeyObjectFromPem(pem: string, what: string): crypto.KeyObject {
  try {
    return crypto.createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new CredenceError(Codes.BAD_KEY, `${what}: not a readable SPKI PEM public key`, {}, e);
  }
}

/**
 * A bounded map from raw public key to its KeyObject (or null: known-invalid key), evicting the
 * oldest entry when full. Building a KeyObject costs about as much as a verification, so a node
 * that sees the same few thousand signers over and over must not pay it per transaction.
 */
export class KeyObjectCache {
  private readonly map = new Map<string, crypto.KeyObject | null>();

  constructor(
    private readonly entriesMax: number,
    private readonly build: (raw: Uint8Array) => crypto.KeyObject | null,
  ) {}

  get(raw: Uint8Array): crypto.KeyObject | null {
    const id = asBuffer(raw).toString('latin1');
    const hit = this.map.get(id);
    if (hit !== undefined) return hit;
    const built = this.build(raw);
    if (this.map.size >= this.entriesMax) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
    this.map.set(id, built);
    return built;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Default bound on cached public keys per thread. */
export const KEY_CACHE_ENTRIES_MAX = 10_000;
