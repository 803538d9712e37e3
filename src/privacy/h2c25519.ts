// RFC 9380 encode_to_curve for curve25519 (suite curve25519_XMD:SHA-512_ELL2_NU_), Montgomery
// u-coordinate only: X25519 works on u alone, so the y-coordinate the RFC also returns is never
// needed. We return the u of Q = map_to_curve(u0), *before* clear_cofactor: X25519 clamps every
// scalar to a multiple of 8, so X25519(k, Q) = u([8k']Q) = u([k']P) with P = 8Q the RFC output.
// See docs/privacy.md for why the blinding commutes and why the result lies in the prime-order
// subgroup.
//
// Cost: two SHA-512 calls, one Jacobi symbol, seven field multiplications (f25519.ts, limbs in
// doubles) and a share of one batched inversion per item; no square roots (the u-coordinate of
// Elligator 2 needs only is_square). The BigInt functions here are the plain reference the
// tests check the batched path against.

import { hash } from 'node:crypto';
import { add, type Fe, fe, fromBytes48BE, fromSmall, invert as invertFe, LIMBS, mul, pack, sub, unpack } from './f25519.js';
import { JACOBI_LIMBS, jacobiLimbs, limbsFromBytes, toLimbs } from './jacobi.js';

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

  /** b_1 of expand_message_xmd(msg, DST, 48): its first 48 bytes are the uniform bytes. */
  uniformBytes(msg: Uint8Array): Buffer {
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
    return hash('sha512', this.second, 'buffer');
  }

  /** hash_to_field(msg, 1) for p = 2^255-19 with expand_message_xmd(SHA-512), L = 48. */
  fieldElement(msg: Uint8Array): bigint {
    return BigInt(`0x${this.uniformBytes(msg).toString('hex', 0, 48)}`) % P25519;
  }
}

/** map_to_curve_elligator2 for curve25519, u-coordinate of Q only, given x1 (BigInt reference). */
function elligatorU(x1: bigint): bigint {
  const gx1 = mod(x1 * mod(x1 * x1 + A * x1 + 1n));
  return isSquare(gx1) ? x1 : mod(NEG_A - x1);
}

/** The u-coordinate of map_to_curve_elligator2(u0) (Q, before clear_cofactor); BigInt reference. */
export function mapToU(u0: bigint): bigint {
  const d = mod(1n + Z * u0 * u0);
  const x1 = d === 0n ? NEG_A : mod(NEG_A * invert(d));
  return elligatorU(x1);
}

const A_FE = fromSmall(fe(), 486662);
const MINUS_A_FE = A_FE.map((v) => -v);
const packed = new Uint8Array(32);
const jx = new Float64Array(JACOBI_LIMBS);
const jp = new Float64Array(JACOBI_LIMBS);

/** is_square for a field element in limbs. */
function isSquareFe(a: Fe): boolean {
  pack(packed, 0, a);
  jp.set(P_LIMBS);
  return jacobiLimbs(limbsFromBytes(packed, 0, jx), jp) >= 0;
}

/**
 * mapToU over n field elements (16 limbs each in us), with one inversion for the whole batch
 * (Montgomery's trick). Writes each u as 32 bytes little-endian into out at 32*i. The
 * denominator 1 + 2u^2 is never 0: that would need u^2 = -1/2, and -1/2 is not a square mod p
 * (-1 is one, 2 is not, since p = 5 mod 8); the check below only guards the arithmetic.
 */
export function mapFeBatch(us: Float64Array, n: number, out: Uint8Array): void {
  const ds = new Float64Array(LIMBS * n);
  const prefix = new Float64Array(LIMBS * n);
  const acc = fromSmall(fe(), 1);
  for (let i = 0; i < n; i++) {
    const u = us.subarray(LIMBS * i, LIMBS * i + LIMBS);
    const d = ds.subarray(LIMBS * i, LIMBS * i + LIMBS);
    mul(d, u, u);
    add(d, d, d);
    d[0] = (d[0] as number) + 1;
    prefix.set(acc, LIMBS * i);
    mul(acc, acc, d);
  }
  pack(packed, 0, acc);
  if (packed.every((b) => b === 0)) throw new Error('h2c25519: internal error (zero denominator)');
  const inv = fe();
  invertFe(inv, acc);
  const x1 = fe();
  const t = fe();
  for (let i = n - 1; i >= 0; i--) {
    mul(x1, inv, prefix.subarray(LIMBS * i, LIMBS * i + LIMBS)); // 1/d_i
    mul(inv, inv, ds.subarray(LIMBS * i, LIMBS * i + LIMBS));
    mul(x1, x1, MINUS_A_FE); // x1 = -A/d
    add(t, x1, A_FE);
    mul(t, t, x1);
    t[0] = (t[0] as number) + 1;
    mul(t, t, x1); // g(x1) = x1^3 + A x1^2 + x1
    if (!isSquareFe(t)) sub(x1, MINUS_A_FE, x1); // x2 = -A - x1
    pack(out, 32 * i, x1);
  }
}

/** mapFeBatch for BigInt field elements. */
export function mapBatchToU(us: readonly bigint[], out: Uint8Array): void {
  const fes = new Float64Array(LIMBS * us.length);
  const b = new Uint8Array(32);
  us.forEach((u, i) => {
    writeLE(u, b, 0);
    unpack(fes.subarray(LIMBS * i, LIMBS * i + LIMBS), b, 0);
  });
  mapFeBatch(fes, us.length, out);
}

/**
 * encode_to_curve's u (before clear_cofactor) of each message, the messages laid end to end in
 * data (message i ends at ends[i]): 32 bytes little-endian per message into out.
 */
export function hashBatchToU(ex: Expander, data: Uint8Array, ends: Uint32Array, out: Uint8Array): void {
  const n = ends.length;
  const us = new Float64Array(LIMBS * n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i] as number;
    fromBytes48BE(us.subarray(LIMBS * i, LIMBS * i + LIMBS), ex.uniformBytes(data.subarray(start, end)), 0);
    start = end;
  }
  mapFeBatch(us, n, out);
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
  const ends = new Uint32Array(messages.length);
  let total = 0;
  messages.forEach((m, i) => {
    total += m.byteLength;
    ends[i] = total;
  });
  const out = new Uint8Array(32 * messages.length);
  hashBatchToU(new Expander(dst), Buffer.concat(messages), ends, out);
  return out;
}
