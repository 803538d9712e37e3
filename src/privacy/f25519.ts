// Arithmetic modulo p = 2^255 - 19 for the hash to curve, without BigInt: an element is 16
// little-endian limbs of 16 bits held in a Float64Array (the classic radix-2^16 layout). Limbs
// may be negative or a little above 2^16 between operations; products of such limbs summed 16
// at a time, plus the fold of the upper half by 38 (2^256 = 38 mod p), stay below 2^46, so all
// arithmetic is exact in doubles. Only `pack` produces the canonical value. Variable time: it
// computes hashes of a party's own items, as the Jacobi symbol in jacobi.ts does.

export type Fe = Float64Array;

export const LIMBS = 16;

export function fe(): Fe {
  return new Float64Array(LIMBS);
}

const wide = new Float64Array(2 * LIMBS - 1);

/** Propagates carries once; the carry out of the top limb re-enters limb 0 times 38. */
function carry(o: Fe): void {
  let c = 0;
  for (let i = 0; i < LIMBS; i++) {
    const v = (o[i] as number) + c;
    c = Math.floor(v / 65536);
    o[i] = v - c * 65536;
  }
  o[0] = (o[0] as number) + 38 * c;
}

/** o = a * b mod p (o may be a or b). The inner loop is unrolled: b stays in locals. */
export function mul(o: Fe, a: Fe, b: Fe): void {
  const b0 = b[0] as number;
  const b1 = b[1] as number;
  const b2 = b[2] as number;
  const b3 = b[3] as number;
  const b4 = b[4] as number;
  const b5 = b[5] as number;
  const b6 = b[6] as number;
  const b7 = b[7] as number;
  const b8 = b[8] as number;
  const b9 = b[9] as number;
  const b10 = b[10] as number;
  const b11 = b[11] as number;
  const b12 = b[12] as number;
  const b13 = b[13] as number;
  const b14 = b[14] as number;
  const b15 = b[15] as number;
  const t = wide;
  t.fill(0);
  for (let i = 0; i < LIMBS; i++) {
    const v = a[i] as number;
    t[i + 0] = (t[i + 0] as number) + v * b0;
    t[i + 1] = (t[i + 1] as number) + v * b1;
    t[i + 2] = (t[i + 2] as number) + v * b2;
    t[i + 3] = (t[i + 3] as number) + v * b3;
    t[i + 4] = (t[i + 4] as number) + v * b4;
    t[i + 5] = (t[i + 5] as number) + v * b5;
    t[i + 6] = (t[i + 6] as number) + v * b6;
    t[i + 7] = (t[i + 7] as number) + v * b7;
    t[i + 8] = (t[i + 8] as number) + v * b8;
    t[i + 9] = (t[i + 9] as number) + v * b9;
    t[i + 10] = (t[i + 10] as number) + v * b10;
    t[i + 11] = (t[i + 11] as number) + v * b11;
    t[i + 12] = (t[i + 12] as number) + v * b12;
    t[i + 13] = (t[i + 13] as number) + v * b13;
    t[i + 14] = (t[i + 14] as number) + v * b14;
    t[i + 15] = (t[i + 15] as number) + v * b15;
  }
  for (let i = 0; i < LIMBS - 1; i++) o[i] = (t[i] as number) + 38 * (t[i + LIMBS] as number);
  o[LIMBS - 1] = t[LIMBS - 1] as number;
  carry(o);
  carry(o);
}

export function add(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = (a[i] as number) + (b[i] as number);
}

export function sub(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = (a[i] as number) - (b[i] as number);
}

/**
 * The addition chain for p - 2 (254 squarings, 11 multiplications): step i makes power i + 1 as
 * power `from`, squared `squarings` times, times power `times` (-1: none); power 0 is a.
 * Powers 1..12 are a^2, a^9, a^11, a^(2^5-1), a^(2^10-1), a^(2^20-1), a^(2^40-1), a^(2^50-1),
 * a^(2^100-1), a^(2^200-1), a^(2^250-1) and a^(2^255-21) = a^(p-2).
 */
const CHAIN: readonly (readonly [from: number, squarings: number, times: number])[] = [
  [0, 1, -1],
  [1, 2, 0],
  [2, 0, 1],
  [3, 1, 2],
  [4, 5, 4],
  [5, 10, 5],
  [6, 20, 6],
  [7, 10, 5],
  [8, 50, 8],
  [9, 100, 9],
  [10, 50, 8],
  [11, 5, 3],
];
const powers = Array.from({ length: CHAIN.length + 1 }, fe);

/** o = a^(p-2) = 1/a (0 for 0). */
export function invert(o: Fe, a: Fe): void {
  (powers[0] as Fe).set(a);
  CHAIN.forEach(([from, squarings, times], i) => {
    const dst = powers[i + 1] as Fe;
    dst.set(powers[from] as Fe);
    for (let k = 0; k < squarings; k++) mul(dst, dst, dst);
    if (times >= 0) mul(dst, dst, powers[times] as Fe);
  });
  o.set(powers[CHAIN.length] as Fe);
}

const pt = fe();
const pm = fe();

/** The canonical value of a (0 <= v < p) as 32 little-endian bytes into out at `at`. */
export function pack(out: Uint8Array, at: number, a: Fe): void {
  const t = pt;
  const m = pm;
  t.set(a);
  carry(t);
  carry(t);
  carry(t);
  // Now 0 <= t < 2^256 < 3p: subtract p while that does not borrow (at most twice).
  for (let k = 0; k < 2; k++) {
    let borrow = 0;
    for (let i = 0; i < LIMBS; i++) {
      const pi = i === 0 ? 0xffed : i === LIMBS - 1 ? 0x7fff : 0xffff;
      const v = (t[i] as number) - pi - borrow;
      borrow = v < 0 ? 1 : 0;
      m[i] = v + 65536 * borrow;
    }
    if (borrow === 0) t.set(m);
  }
  for (let i = 0; i < LIMBS; i++) {
    const v = t[i] as number;
    out[at + 2 * i] = v & 0xff;
    out[at + 2 * i + 1] = v >>> 8;
  }
}

/** o = the 48-byte big-endian integer in b[at..at+48) mod p (hash_to_field with L = 48), not yet canonical. */
export function fromBytes48BE(o: Fe, b: Uint8Array, at: number): void {
  for (let k = 0; k < LIMBS; k++) {
    const lo = ((b[at + 46 - 2 * k] as number) << 8) | (b[at + 47 - 2 * k] as number);
    const hi = k < 8 ? ((b[at + 14 - 2 * k] as number) << 8) | (b[at + 15 - 2 * k] as number) : 0;
    o[k] = lo + 38 * hi;
  }
  carry(o);
}

/** o = the field element of the small non-negative integer n (< 2^32). */
export function fromSmall(o: Fe, n: number): Fe {
  o.fill(0);
  o[0] = n % 65536;
  o[1] = Math.floor(n / 65536);
  return o;
}

/** o = the 32-byte little-endian number in b at `at` (below 2^256; taken mod p by later operations). */
export function unpack(o: Fe, b: Uint8Array, at: number): Fe {
  for (let i = 0; i < LIMBS; i++) o[i] = (b[at + 2 * i] as number) | ((b[at + 2 * i + 1] as number) << 8);
  return o;
}
