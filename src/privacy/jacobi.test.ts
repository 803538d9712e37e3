// jacobi.ts (batched binary Jacobi on 24-bit limbs) against the BigInt reference in
// h2c25519.ts, on random odd moduli of every size up to 2^256 and on the cases that exercise
// its edges: equal top bits (the exact step), a = 0, a = n, a >= n, small values.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jacobi, P25519 } from './h2c25519.js';
import { JACOBI_LIMBS, jacobiLimbs, toLimbs } from './jacobi.js';

const limbs = (x: bigint) => toLimbs(x, new Float64Array(JACOBI_LIMBS));
const fast = (a: bigint, n: bigint) => jacobiLimbs(limbs(a), limbs(n));
const MAX = (1n << 256n) - 1n;

describe('Jacobi symbol on limbs', () => {
  it('equals the BigInt algorithm for random odd moduli and any a below 2^256', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.bigInt({ min: 0n, max: MAX >> 1n }), fc.integer({ min: 0, max: 255 }), (a, h, bits) => {
        const n = ((h >> BigInt(bits)) << 1n) | 1n;
        assert.equal(fast(a, n), jacobi(a, n));
      }),
      { numRuns: 3000 },
    );
  });

  it('equals the BigInt algorithm when the top bits agree, and at the edges', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n << 200n, max: MAX >> 1n }), fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }), (h, d) => {
        const n = (h << 1n) | 1n;
        const a = n + 2n * d;
        if (a >= 0n && a <= MAX) assert.equal(fast(a, n), jacobi(a, n));
      }),
      { numRuns: 1000 },
    );
    for (const [a, n] of [
      [0n, 1n],
      [0n, P25519],
      [1n, P25519],
      [P25519, P25519],
      [P25519 - 1n, P25519],
      [2n ** 52n, P25519],
      [2n ** 31n - 1n, 2n ** 31n + 1n],
      [MAX, P25519],
      [5n, 1n],
    ] as const) {
      assert.equal(fast(a, n), jacobi(a, n), `(${a}/${n})`);
    }
  });
});
