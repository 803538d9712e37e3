// Private scorecard evaluation: OpenSSL modexp equals BigInt modexp, encryption round-trips
// (negative values too), the evaluated score equals the plain dot product (property), and
// mismatched sizes and out-of-range ciphertexts get coded errors.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CredenceError } from '../util/errors.js';
import { PrivacyCodes } from './codes.js';
import { decrypt, decryptScore, encrypt, encryptModel, evaluateModel, modExp, paillierKeyGen } from './paillier.js';

const key = paillierKeyGen();
const codeOf = (code: string) => (e: unknown) => e instanceof CredenceError && e.code === code;

function slowPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
}

describe('Paillier scorecard evaluation', () => {
  it('OpenSSL modexp equals BigInt modexp', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: key.n2 - 1n }), fc.bigInt({ min: 0n, max: 2n ** 300n }), (b, e) => {
        assert.equal(modExp(b, e, key.n2), slowPow(b, e, key.n2));
      }),
      { numRuns: 10 },
    );
  });

  it('encryption round-trips, negatives included, and is randomized', () => {
    for (const m of [0n, 1n, -1n, 123456789n, -(2n ** 40n)]) assert.equal(decrypt(key, encrypt(key, m)), m);
    assert.notEqual(encrypt(key, 5n), encrypt(key, 5n));
    assert.equal(decrypt(key, encrypt({ n: key.n, n2: key.n2 }, 77n)), 77n);
  });

  it('the score equals the plain dot product plus bias (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -10_000, max: 10_000 }), fc.integer({ min: -100_000, max: 1_000_000 })), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        (pairs, bias) => {
          const weights = pairs.map(([w]) => w);
          const features = pairs.map(([, x]) => x);
          const answer = evaluateModel(encryptModel(key, weights, bias), features);
          const want = pairs.reduce((s, [w, x]) => s + BigInt(w) * BigInt(x), BigInt(bias));
          assert.equal(decryptScore(key, answer), want);
        },
      ),
      { numRuns: 5 },
    );
  });

  it('refuses mismatched sizes and out-of-range ciphertexts', () => {
    const model = encryptModel(key, [1, 2], 0);
    assert.throws(() => evaluateModel(model, [1, 2, 3]), codeOf(PrivacyCodes.SIZE_MISMATCH));
    assert.throws(() => evaluateModel({ ...model, bias: (key.n2 + 1n).toString(16) }, [1, 2]), codeOf(PrivacyCodes.BAD_POINT));
    assert.throws(() => evaluateModel({ ...model, weights: ['zz', 'zz'] }, [1, 2]), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => evaluateModel(model, [1, 2 ** 41]), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => decryptScore(key, '0'), codeOf(PrivacyCodes.BAD_POINT));
  });
});
