// f25519.ts against BigInt arithmetic mod p: products, sums and differences of values anywhere
// in [0, 2^256) (unpacked, so not reduced), chains of operations that leave limbs out of range,
// the inverse, the canonical encoding (values at and around p and 2^256) and hash_to_field.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { add, type Fe, fe, fromBytes48BE, invert, mul, pack, sub, unpack } from './f25519.js';
import { P25519, readLE, writeLE } from './h2c25519.js';

const mod = (x: bigint) => ((x % P25519) + P25519) % P25519;

function toFe(x: bigint): Fe {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = Number((x >> BigInt(8 * i)) & 0xffn);
  return unpack(fe(), b, 0);
}

function value(a: Fe): bigint {
  const b = new Uint8Array(32);
  pack(b, 0, a);
  return readLE(b);
}

const EDGES = [
  0n,
  1n,
  2n,
  18n,
  19n,
  P25519 - 1n,
  P25519,
  P25519 + 1n,
  P25519 + 18n,
  2n ** 255n - 1n,
  2n ** 255n,
  2n ** 256n - 39n,
  2n ** 256n - 38n,
  2n ** 256n - 1n,
];
const anyValue = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.constantFrom(...EDGES));

describe('f25519 field arithmetic', () => {
  it('pack gives the canonical value of every 256-bit input', () => {
    for (const x of EDGES) assert.equal(value(toFe(x)), mod(x));
    fc.assert(fc.property(anyValue, (x) => assert.equal(value(toFe(x)), mod(x))));
  });

  it('mul, add and sub agree with BigInt, also on unreduced and chained operands', () => {
    fc.assert(
      fc.property(anyValue, anyValue, anyValue, (x, y, z) => {
        const a = toFe(x);
        const b = toFe(y);
        const c = toFe(z);
        const o = fe();
        mul(o, a, b);
        assert.equal(value(o), mod(x * y));
        sub(o, o, c); // limbs may go negative
        add(o, o, a);
        mul(o, o, o);
        sub(o, c, o);
        mul(o, o, b);
        assert.equal(value(o), mod((z - (x * y - z + x) ** 2n) * y));
      }),
      { numRuns: 300 },
    );
  });

  it('invert gives the inverse (and 0 for 0)', () => {
    const o = fe();
    invert(o, toFe(0n));
    assert.equal(value(o), 0n);
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: P25519 - 1n }), (x) => {
        invert(o, toFe(x));
        assert.equal(mod(value(o) * x), 1n);
      }),
      { numRuns: 50 },
    );
  });

  it('fromBytes48BE reduces a 48-byte big-endian number mod p', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), (b) => {
        const o = fe();
        fromBytes48BE(o, b, 0);
        assert.equal(value(o), BigInt(`0x${Buffer.from(b).toString('hex')}`) % P25519);
      }),
    );
    const ones = new Uint8Array(48).fill(0xff);
    const o = fe();
    fromBytes48BE(o, ones, 0);
    assert.equal(value(o), (2n ** 384n - 1n) % P25519);
    const h = createHash('sha384').update('x').digest();
    fromBytes48BE(o, h, 0);
    const w = new Uint8Array(32);
    writeLE(value(o), w, 0);
    assert.equal(readLE(w), BigInt(`0x${h.toString('hex')}`) % P25519);
  });
});
