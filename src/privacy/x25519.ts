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
 * X25519(key, u_i) for each 32-byte u_i in points, into a new array. Throws BAD_POINT for a
 * non-canonical or low-order input (index of the first one in details).
 */
export function blindPoints(key: KeyObject, points: Uint8Array, indexBase = 0): Uint8Array {
  if (points.byteLength % 32 !== 0) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'points must be a multiple of 32 bytes');
  const n = points.byteLength / 32;
  const out = new Uint8Array(points.byteLength);
  const buf = Buffer.from(points.buffer, points.byteOffset, points.byteLength);
  for (let i = 0; i < n; i++) {
    if (!isCanonicalU(points, 32 * i)) throw badPoint(indexBase + i);
    let shared: Buffer;
    try {
      const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: buf.toString('base64url', 32 * i, 32 * i + 32) }, format: 'jwk' });
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
