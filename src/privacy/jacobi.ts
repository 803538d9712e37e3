// The Jacobi symbol of numbers below 2^264 without BigInt: the binary algorithm run in batches
// of up to 24 steps on 52-bit approximations (Pornin's binary-GCD batching, variable time).
//
// Binary Jacobi, for b odd > 0 and a >= 0:
//   a even        -> a/2,                 flip when b = 3 or 5 (mod 8)   [(2/b)]
//   a odd, a < b  -> swap a and b,        flip when a = b = 3 (mod 4)    [reciprocity]
//   a odd         -> a - b, then halve as above
//   a = 0         -> the symbol if b = 1, else 0.
// A batch reads the top 52 bits of a and b at a common position (as intervals, since the bits
// below are unknown) and their low 30 bits (exact), runs the steps on those, and records them
// as a 2x2 matrix applied once to the full numbers (24-bit limbs in doubles). Each comparison
// is taken only when the intervals make it certain; otherwise the batch ends early (and at its
// first step, one exact step runs on the full numbers). So every step is the exact algorithm's
// step, and the result does not depend on the approximation. Once both numbers fit in 31 bits
// the rest runs on 32-bit integers.

const W = 24;
const BASE = 2 ** W;
const INV_BASE = 2 ** -W;
/** Limbs: values stay below 2^264 (11 limbs); the 12th holds the carry of 2^24 times a value mid-batch. */
export const JACOBI_LIMBS = 12;
const LOW_MASK = 2 ** 30 - 1;
const POW2 = Float64Array.from({ length: W + 1 }, (_, i) => 2 ** i);
const INV_POW2 = Float64Array.from({ length: W + 1 }, (_, i) => 2 ** -i);

const ta = new Float64Array(JACOBI_LIMBS);
const tb = new Float64Array(JACOBI_LIMBS);

function bitLength(x: Float64Array): number {
  for (let i = JACOBI_LIMBS - 1; i >= 0; i--) {
    const v = x[i] as number;
    if (v !== 0) return W * i + 32 - Math.clz32(v);
  }
  return 0;
}

/** floor(x / 2^s) for x < 2^(s+53). */
function topBits(x: Float64Array, s: number): number {
  const k = Math.floor(s / W);
  const r = s - W * k;
  let v = 0;
  for (let i = JACOBI_LIMBS - 1; i > k; i--) v = v * BASE + (x[i] as number);
  return v * (POW2[W - r] as number) + ((x[k] as number) >>> r);
}

/** x mod 2^30 (enough for 24 steps: each uses the bit it halves away and three above). */
function low30(x: Float64Array): number {
  return (x[0] as number) | (((x[1] as number) & 63) << W);
}

/** The same algorithm on numbers below 2^31. */
function smallJacobi(a0: number, b0: number, flip0: number): number {
  let a = a0 | 0;
  let b = b0 | 0;
  let flip = flip0;
  while (a !== 0) {
    const z = 31 - Math.clz32(a & -a);
    a >>>= z;
    const r = b & 7;
    if ((z & 1) === 1 && (r === 3 || r === 5)) flip ^= 1;
    if (a < b) {
      const t = a;
      a = b;
      b = t;
      if ((a & b & 3) === 3) flip ^= 1;
    }
    a -= b;
  }
  return b === 1 ? 1 - 2 * flip : 0;
}

function lessThan(a: Float64Array, b: Float64Array): boolean {
  for (let i = JACOBI_LIMBS - 1; i >= 0; i--) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return false;
}

/** a <- a - b on limbs (a >= b). */
function subtract(a: Float64Array, b: Float64Array): void {
  let borrow = 0;
  for (let i = 0; i < JACOBI_LIMBS; i++) {
    let v = (a[i] as number) - (b[i] as number) - borrow;
    borrow = v < 0 ? 1 : 0;
    if (borrow) v += BASE;
    a[i] = v;
  }
}

/**
 * (x, y) <- ((f0 x + g0 y) / 2^t, (f1 x + g1 y) / 2^t), both of which must be non-negative
 * integers; x and y have no bits above limb n - 1 (n < JACOBI_LIMBS).
 */
function combine(x: Float64Array, y: Float64Array, f0: number, g0: number, f1: number, g1: number, t: number, n: number): void {
  let ca = 0;
  let cb = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i] as number;
    const yi = y[i] as number;
    const va = f0 * xi + g0 * yi + ca;
    const vb = f1 * xi + g1 * yi + cb;
    ca = Math.floor(va * INV_BASE);
    cb = Math.floor(vb * INV_BASE);
    ta[i] = va - ca * BASE;
    tb[i] = vb - cb * BASE;
  }
  const mask = (POW2[t] as number) - 1;
  if (ca < 0 || cb < 0 || (((ta[0] as number) | (tb[0] as number)) & mask) !== 0) throw new Error('jacobi: internal error (batch not exact)');
  ta[n] = ca;
  tb[n] = cb;
  const up = POW2[W - t] as number;
  for (let i = 0; i < n; i++) {
    x[i] = ((ta[i] as number) >>> t) + ((ta[i + 1] as number) & mask) * up;
    y[i] = ((tb[i] as number) >>> t) + ((tb[i + 1] as number) & mask) * up;
  }
}

/**
 * The Jacobi symbol (a/b) for odd b > 0 and a >= 0, both below 2^264 as 12 little-endian
 * 24-bit limbs. Both arrays are overwritten.
 */
export function jacobiLimbs(a: Float64Array, b: Float64Array): number {
  let flip = 0;
  let x = a;
  let y = b;
  for (;;) {
    const la = bitLength(x);
    if (la === 0) return bitLength(y) === 1 ? 1 - 2 * flip : 0;
    const len = Math.max(la, bitLength(y));
    if (len <= 31) return smallJacobi(topBits(x, 0), topBits(y, 0), flip);
    const s = Math.max(0, len - 52);
    let aLo = topBits(x, s);
    let aHi = aLo;
    let bLo = topBits(y, s);
    let bHi = bLo;
    let al = low30(x);
    let bl = low30(y);
    let m = LOW_MASK;
    let f0 = 1;
    let g0 = 0;
    let f1 = 0;
    let g1 = 1;
    let t = 0;
    while (t < W) {
      if ((al & 1) === 0) {
        // Halve a by all its known trailing zeros at once (at most up to the batch's end).
        let z = al === 0 ? W - t : 31 - Math.clz32(al & -al);
        if (z > W - t) z = W - t;
        const r = bl & 7;
        if ((z & 1) === 1 && (r === 3 || r === 5)) flip ^= 1;
        const k = POW2[z] as number;
        const inv = INV_POW2[z] as number;
        al >>>= z;
        m >>>= z;
        bl &= m;
        aLo = Math.floor(aLo * inv);
        aHi = Math.floor(aHi * inv);
        f1 *= k;
        g1 *= k;
        t += z;
        continue;
      }
      if (aHi < bLo) {
        let v = aLo;
        aLo = bLo;
        bLo = v;
        v = aHi;
        aHi = bHi;
        bHi = v;
        v = al;
        al = bl;
        bl = v;
        v = f0;
        f0 = f1;
        f1 = v;
        v = g0;
        g0 = g1;
        g1 = v;
        if ((al & bl & 3) === 3) flip ^= 1;
      } else if (aLo <= bHi) {
        break; // a < b is not certain either way
      }
      al = (al - bl) & m;
      aLo = Math.max(0, aLo - bHi - 1);
      aHi -= bLo;
      f0 -= f1;
      g0 -= g1;
    }
    if (t === 0) {
      // The top 52 bits are equal and a is odd: one exact step (a - b is even; the next batch halves it).
      if (lessThan(x, y)) {
        const tmp = x;
        x = y;
        y = tmp;
        if ((x[0] as number) % 4 === 3 && (y[0] as number) % 4 === 3) flip ^= 1;
      }
      subtract(x, y);
      continue;
    }
    combine(x, y, f0, g0, f1, g1, t, Math.ceil(len / W));
  }
}

/** 12 little-endian 24-bit limbs of x (0 <= x < 2^264). */
export function toLimbs(x: bigint, out: Float64Array): Float64Array {
  const h = x.toString(16).padStart(6 * JACOBI_LIMBS, '0');
  for (let i = 0; i < JACOBI_LIMBS; i++) out[i] = Number.parseInt(h.slice(h.length - 6 * (i + 1), h.length - 6 * i), 16);
  return out;
}

/** The 12 little-endian 24-bit limbs of the 32-byte little-endian number in b at `at`. */
export function limbsFromBytes(b: Uint8Array, at: number, out: Float64Array): Float64Array {
  for (let i = 0; i < 10; i++) {
    const j = at + 3 * i;
    out[i] = (b[j] as number) | ((b[j + 1] as number) << 8) | ((b[j + 2] as number) << 16);
  }
  out[10] = (b[at + 30] as number) | ((b[at + 31] as number) << 8);
  out[11] = 0;
  return out;
}
