// Native X25519 (OpenSSL via node:crypto) as the blinding map of the DH-OPRF: blind(k, u) =
// X25519(k, u). Points travel as 32-byte little-endian u-coordinates. Received points are
// validated: canonical encoding (u < p, top bit clear) and a non-zero shared secret (OpenSSL
// refuses low-order inputs, whose product with a clamped scalar is the identity).

import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomBytes } from 'node:crypto';
import { CredenceError } from '../util/errors.js';
import { PrivacyCodes } from './codes.js';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function newBlindingKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function privateKeyObject(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== 32) throw new CredenceError(PrivacyCodes.BAD_POINT, 'a blinding key is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}

/** u is canonical when it is below p = 2^255 - 19 and its top bit is clear. */
export function isCanonicalU(b: Uint8Array, at: number): boolean {
  const top = b[at + 31] as number;
  if (top < 0x7f) return true;
  if (top > 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (b[at + i] !== 0xff) return true;
  return (b[at] as number) < 0xed;
}

function badPoint(index: number): CredenceError {
  return new CredenceError(PrivacyCodes.BAD_POINT, 'a received group element is invalid (non-canonical or of low order); the job is aborted', { index });
}

/**
 * Imports 32-byte u-coordinates as X25519 public KeyObjects for diffieHellman.
 *
 * The public way is a JWK import: a new KeyObject per point, about 8 us of which about half is
 * JavaScript (option checks, base64url both ways, the KeyObject and its garbage collection)
 * around the OpenSSL call EVP_PKEY_new_raw_public_key. Node keeps a KeyObject's native handle
 * under an internal symbol, and that handle's initEDRaw is what Node's own WebCrypto raw import
 * calls: re-initialising one public KeyObject in place with each point makes the same OpenSSL
 * key without the churn (about 4 us). It relies on Node internals, so it is used only if they
 * are there and, at load, give the same shared secrets as the JWK path on known points;
 * otherwise (another Node version) the JWK path runs.
 */
interface PublicImporter {
  /** The public key for the 32 bytes at points[at..at+32), or undefined if OpenSSL refuses them. */
  load(points: Buffer, at: number): KeyObject | undefined;
}

function jwkImporter(): PublicImporter {
  return {
    load(points, at) {
      try {
        return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: points.toString('base64url', at, at + 32) }, format: 'jwk' });
      } catch {
        return undefined;
      }
    },
  };
}

interface RawHandle {
  initEDRaw(name: string, data: Uint8Array, keyType: number): boolean;
}

const KEY_TYPE_PUBLIC = 1; // Node's kKeyTypePublic

function handleImporter(): PublicImporter | undefined {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32, 9).toString('base64url') }, format: 'jwk' });
  const sym = Object.getOwnPropertySymbols(key).find((x) => x.description === 'kHandle');
  const handle = sym === undefined ? undefined : ((key as unknown as Record<symbol, unknown>)[sym] as Partial<RawHandle> | undefined);
  if (typeof handle?.initEDRaw !== 'function') return undefined;
  const init = handle.initEDRaw.bind(handle);
  return {
    load(points, at) {
      try {
        return init('X25519', points.subarray(at, at + 32), KEY_TYPE_PUBLIC) === true ? key : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** True when the importer gives the JWK path's shared secrets on a few fixed points. */
function agreesWithJwk(candidate: PublicImporter): boolean {
  const priv = privateKeyObject(Buffer.alloc(32, 0x5a));
  const jwk = jwkImporter();
  const pts = Buffer.alloc(96);
  pts[0] = 9; // the base point
  pts.fill(0x42, 32, 63); // a point of the twist
  pts.fill(0x17, 64, 96);
  pts[95] = 0x35; // another canonical u
  for (let at = 0; at < pts.length; at += 32) {
    const a = candidate.load(pts, at);
    const sa = a === undefined ? undefined : diffieHellman({ privateKey: priv, publicKey: a });
    const b = jwk.load(pts, at);
    const sb = b === undefined ? undefined : diffieHellman({ privateKey: priv, publicKey: b });
    if (sa === undefined || sb === undefined || !sa.equals(sb)) return false;
  }
  return true;
}

function chooseImporter(): { importer: PublicImporter; kind: 'handle' | 'jwk' } {
  try {
    const h = handleImporter();
    if (h !== undefined && agreesWithJwk(h)) return { importer: h, kind: 'handle' };
  } catch {
    // fall through to the public path
  }
  return { importer: jwkImporter(), kind: 'jwk' };
}

let chosen = chooseImporter();

/** Which import path blindPoints uses ('handle' on Node versions where the check passed). */
export function importPath(): 'handle' | 'jwk' {
  return chosen.kind;
}

/** For tests: run blindPoints over the public JWK path (true) or the chosen one (false). */
export function forceJwkImport(on: boolean): void {
  chosen = on ? { importer: jwkImporter(), kind: 'jwk' } : chooseImporter();
}

/**
 * X25519(key, u_i) for each 32-byte u_i in points, into a new array. Throws BAD_POINT for a
 * non-canonical or low-order input (index of the first one in details).
 */
export function blindPoints(key: KeyObject, points: Uint8Array, indexBase = 0): Uint8Array {
  if (points.byteLength % 32 !== 0) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'points must be a multiple of 32 bytes');
  const n = points.byteLength / 32;
  const out = new Uint8Array(points.byteLength);
  const buf = Buffer.from(points.buffer, points.byteOffset, points.byteLength);
  const importer = chosen.importer;
  for (let i = 0; i < n; i++) {
    if (!isCanonicalU(points, 32 * i)) throw badPoint(indexBase + i);
    const pub = importer.load(buf, 32 * i);
    if (pub === undefined) throw badPoint(indexBase + i);
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: key, publicKey: pub });
    } catch {
      throw badPoint(indexBase + i);
    }
    if (isZero(shared)) throw badPoint(indexBase + i);
    out.set(shared, 32 * i);
  }
  return out;
}

function isZero(b: Uint8Array): boolean {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

/** Raw native X25519 rate on this thread: import the peer's point and derive, ops per second. */
export function measureX25519(ms: number): number {
  const key = privateKeyObject(newBlindingKey());
  const pts = new Uint8Array(32 * 256);
  for (let i = 0; i < 256; i++) {
    const k = privateKeyObject(newBlindingKey());
    const jwk = createPublicKey(k).export({ format: 'jwk' }) as { x: string };
    pts.set(Buffer.from(jwk.x, 'base64url'), 32 * i);
  }
  let ops = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    blindPoints(key, pts);
    ops += 256;
  }
  return ops / ((performance.now() - t0) / 1000);
}
