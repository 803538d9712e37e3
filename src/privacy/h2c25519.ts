// RFC 9380 encode_to_curve for curve25519 (suite curve25519_XMD:SHA-512_ELL2_NU_), Montgomery
// u-coordinate only: X25519 works on u alone, so the y-coordinate the RFC also returns is never
// needed. We return the u of Q = map_to_curve(u0), *before* clear_cofactor: X25519 clamps every
// scalar to a multiple of 8, so X25519(k, Q) = u([8k']Q) = u([k']P) with P = 8Q the RFC output.
// See docs/privacy.md for why the blinding commutes and why the result lies in the prime-order
// subgroup.
//
// Cost: two SHA-512 calls, one Jacobi symbol and a share of one batched inversion per item;
// no square roots (the u-coordinate of Elligator 2 needs only is_square).

import { hash } from 'node:crypto';
import { JACOBI_LIMBS, jacobiLimbs, toLimbs } from './jacobi.js';

export const P25519 = (1n << 255n) - 19n;
const A = 486662n;
const NEG_A = P25519 - A;
const Z = 2n;

export const PSI_DST = 'credence-psi-v1-with-curve25519_XMD:SHA-512_ELL2_NU_';

function mod(x: bigint): bigint {
  const r = x % P25519;
  return r < 0n ? r + P25519 : r;
}

export function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  let k = e;
  while (k > 0n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
    k >>= 1n;
  }
  return r;
}

export function invert(x: bigint): bigint {
  return modPow(x, P25519 - 2n, P25519);
}

/** Jacobi symbol (a/n) for odd n > 0 in BigInt (the reference for jacobi.ts, which isSquare uses). */
export function jacobi(a0: bigint, n0: bigint): number {
  let a = a0 % n0;
  let n = n0;
  let t = 1;
  while (a !== 0n) {
    while ((a & 1n) === 0n) {
      a >>= 1n;
      const r = n & 7n;
      if (r === 3n || r === 5n) t = -t;
    }
    const tmp = a;
    a = n;
    n = tmp;
    if ((a & 3n) === 3n && (n & 3n) === 3n) t = -t;
    a %= n;
  }
  return n === 1n ? t : 0;
}

const xLimbs = new Float64Array(JACOBI_LIMBS);
const pLimbs = new Float64Array(JACOBI_LIMBS);
const P_LIMBS = toLimbs(P25519, new Float64Array(JACOBI_LIMBS));

/** is_square from RFC 9380 for 0 <= x < p: true for 0 and for quadratic residues. */
export function isSquare(x: bigint): boolean {
  pLimbs.set(P_LIMBS);
  return jacobiLimbs(toLimbs(x, xLimbs), pLimbs) >= 0;
}

/**
 * expand_message_xmd(SHA-512) into one field element. Each message is laid out as
 * Z_pad || msg || I2OSP(48, 2) || I2OSP(0, 1) || DST_prime in a reused buffer and hashed in one
 * call (one-shot hashing costs far less per call than a Hash object).
 */
export class Expander {
  private readonly dstPrime: Buffer;
  private scratch = Buffer.alloc(0);
  private readonly second: Buffer;

  constructor(dst: string) {
    const d = Buffer.from(dst, 'utf8');
    if (d.length > 255 || d.length === 0) throw new Error('DST must be 1-255 bytes');
    this.dstPrime = Buffer.concat([d, Buffer.from([d.length])]);
    this.second = Buffer.alloc(64 + 1 + this.dstPrime.length);
    this.second[64] = 1;
    this.dstPrime.copy(this.second, 65);
  }

  /** hash_to_field(msg, 1) for p = 2^255-19 with expand_message_xmd(SHA-512), L = 48. */
  fieldElement(msg: Uint8Array): bigint {
    const len = 128 + msg.byteLength + 3 + this.dstPrime.length;
    if (this.scratch.length < len) this.scratch = Buffer.alloc(Math.max(len, 2 * this.scratch.length, 512)); // zeros: Z_pad
    const buf = this.scratch;
    buf.set(msg, 128);
    let at = 128 + msg.byteLength;
    buf[at++] = 0;
    buf[at++] = 48;
    buf[at++] = 0;
    this.dstPrime.copy(buf, at);
    hash('sha512', buf.subarray(0, len), 'buffer').copy(this.second, 0);
    const b1 = hash('sha512', this.second, 'buffer');
    return BigInt(`0x${b1.toString('hex', 0, 48)}`) % P25519;
  }
}

/** map_to_curve_elligator2 for curve25519, u-coordinate of Q only, given x1's denominator inverse. */
function elligatorU(x1: bigint): bigint {
  const gx1 = mod(x1 * mod(x1 * x1 + A * x1 + 1n));
  return isSquare(gx1) ? x1 : mod(NEG_A - x1);
}

/** The u-coordinate of map_to_curve_elligator2(u0) (Q, before clear_cofactor). */
export function mapToU(u0: bigint): bigint {
  const d = mod(1n + Z * u0 * u0);
  const x1 = d === 0n ? NEG_A : mod(NEG_A * invert(d));
  return elligatorU(x1);
}

/**
 * Batch version of mapToU over field elements, with one inversion for the whole batch
 * (Montgomery's trick). Writes each u as 32 bytes little-endian into out at 32*i.
 */
export function mapBatchToU(us: readonly bigint[], out: Uint8Array): void {
  const n = us.length;
  const ds = new Array<bigint>(n);
  const prefix = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    const u0 = us[i] as bigint;
    const d = mod(1n + Z * u0 * u0);
    ds[i] = d;
    prefix[i] = acc;
    if (d !== 0n) acc = (acc * d) % P25519;
  }
  let inv = invert(acc);
  for (let i = n - 1; i >= 0; i--) {
    const d = ds[i] as bigint;
    if (d === 0n) {
      writeLE(elligatorU(NEG_A), out, 32 * i);
      continue;
    }
    const dInv = (inv * (prefix[i] as bigint)) % P25519;
    inv = (inv * d) % P25519;
    writeLE(elligatorU(mod(NEG_A * dInv)), out, 32 * i);
  }
}

export function writeLE(x: bigint, out: Uint8Array, at: number): void {
  const be = Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
  for (let i = 0; i < 32; i++) out[at + i] = be[31 - i] as number;
}

export function readLE(b: Uint8Array, at = 0): bigint {
  let hex = '';
  for (let i = 31; i >= 0; i--) hex += ((b[at + i] as number) | 0x100).toString(16).slice(1);
  return BigInt(`0x${hex}`);
}

/** Hashes each message to the u-coordinate of a curve25519 point (32 bytes LE each). */
export function hashToU(messages: readonly Uint8Array[], dst: string = PSI_DST): Uint8Array {
  const ex = new Expander(dst);
  const out = new Uint8Array(32 * messages.length);
  mapBatchToU(
    messages.map((m) => ex.fieldElement(m)),
    out,
  );
  return out;
}
