// Behaviour every CryptoSuite must share, run against both suites: sign/verify round trips,
// verify never throwing on garbage, AEAD and seal round trips with tampering, PEM round trips.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { utf8 } from '../util/bytes.js';
import { getSuite, SUITE_NAMES } from './suites.js';
import { isCode } from '../../test/fixtures.js';

const flip = (b: Uint8Array, i: number) => {
  const c = b.slice();
  c[i % c.length] = (c[i % c.length] ?? 0) ^ 0x01;
  return c;
};

describe('getSuite', () => {
  it('resolves every SUITE_NAME and rejects others with UNSUPPORTED_SUITE', () => {
    for (const n of SUITE_NAMES) assert.equal(getSuite(n).name, n);
    assert.throws(() => getSuite('rsa'), isCode('UNSUPPORTED_SUITE'));
  });
});

for (const name of SUITE_NAMES) {
  const suite = getSuite(name);

  describe(`${name} suite`, () => {
    const key = suite.generateSigningKey();
    const signer = suite.signerFromPem(key.privateKeyPem);
    const digest = suite.hash(utf8('a transaction'));

    it('hash and key sizes', () => {
      assert.equal(digest.length, suite.hashBytes);
      assert.equal(key.publicKey.length, suite.publicKeyBytes);
      assert.deepEqual(signer.publicKey, key.publicKey);
    });

    it('sign/verify round trip; tampered signature, digest or key fail', async () => {
      const sig = await signer.sign(digest);
      assert.ok(sig.length <= suite.signatureBytesMax);
      assert.equal(suite.verify(key.publicKey, digest, sig), true);
      for (const i of [0, 5, sig.length - 1]) assert.equal(suite.verify(key.publicKey, digest, flip(sig, i)), false);
      assert.equal(suite.verify(key.publicKey, flip(digest, 7), sig), false);
      assert.equal(suite.verify(suite.generateSigningKey().publicKey, digest, sig), false);
      assert.equal(suite.verify(flip(key.publicKey, 10), digest, sig), false);
    });

    it('verify never throws on garbage of any length', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 100 }), (pk, d, s) => {
          assert.equal(suite.verify(pk, d, s), false);
          assert.equal(suite.verify(key.publicKey, digest, s), false);
          assert.equal(suite.verify(pk, digest, s), false);
        }),
        { numRuns: 300 },
      );
    });

    it('signer rejects a digest that is not 32 bytes', async () => {
      await assert.rejects(signer.sign(new Uint8Array(31)), isCode('MALFORMED'));
    });

    it("PEM round trips and refuses the other suite's keys", () => {
      assert.deepEqual(suite.publicKeyFromPem(key.publicKeyPem), key.publicKey);
      assert.deepEqual(suite.publicKeyFromPem(suite.publicKeyToPem(key.publicKey)), key.publicKey);
      const other = getSuite(name === 'default' ? 'gm' : 'default').generateSigningKey();
      assert.throws(() => suite.signerFromPem(other.privateKeyPem), isCode('BAD_KEY'));
      assert.throws(() => suite.publicKeyFromPem(other.publicKeyPem), isCode('BAD_KEY'));
      assert.throws(() => suite.signerFromPem('not a pem'), isCode('BAD_KEY'));
      assert.throws(() => suite.signerFromPem(key.publicKeyPem), isCode('BAD_KEY'));
      assert.throws(() => suite.publicKeyToPem(new Uint8Array(7)), isCode('BAD_KEY'));
    });

    it('encrypt/decrypt round trip (property) and any tampering fails with DECRYPT_FAILED', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ maxLength: 40 }),
          fc.nat(),
          (k, pt, aad, at) => {
            const sealed = suite.encrypt(k, pt, aad);
            assert.deepEqual(suite.decrypt(k, sealed, aad), pt);
            assert.throws(() => suite.decrypt(k, flip(sealed, at), aad), isCode('DECRYPT_FAILED'));
            assert.throws(() => suite.decrypt(flip(k, at), sealed, aad), isCode('DECRYPT_FAILED'));
            assert.throws(() => suite.decrypt(k, sealed, utf8('other aad')), isCode('DECRYPT_FAILED'));
            assert.throws(() => suite.decrypt(k, sealed.subarray(0, sealed.length - 1), aad), isCode('DECRYPT_FAILED'));
          },
        ),
        { numRuns: 100 },
      );
      assert.throws(() => suite.decrypt(new Uint8Array(32), new Uint8Array(3)), isCode('DECRYPT_FAILED'));
      assert.throws(() => suite.encrypt(new Uint8Array(16), utf8('x')), isCode('BAD_KEY'));
    });

    it('ciphertexts of the same plaintext differ (random nonce)', () => {
      const k = crypto.randomBytes(32);
      assert.notDeepEqual(suite.encrypt(k, utf8('same')), suite.encrypt(k, utf8('same')));
    });

    it('seal/open round trip; tampering, wrong info/aad or wrong key fail with DECRYPT_FAILED', () => {
      const r = suite.generateSealingKey();
      const pt = utf8('credit report for 91350100M000100Y43');
      const info = utf8('consent:42');
      const aad = utf8('request:7');
      const sealed = suite.seal(r.publicKey, pt, info, aad);
      assert.deepEqual(suite.open(r.privateKeyPem, sealed, info, aad), pt);
      assert.deepEqual(suite.open(r.privateKeyPem, suite.seal(r.publicKey, pt)), pt);
      for (const i of [0, 3, 40, 70, sealed.length - 1]) {
        assert.throws(() => suite.open(r.privateKeyPem, flip(sealed, i), info, aad), isCode('DECRYPT_FAILED'));
      }
      assert.throws(() => suite.open(r.privateKeyPem, sealed, utf8('consent:43'), aad), isCode('DECRYPT_FAILED'));
      assert.throws(() => suite.open(r.privateKeyPem, sealed, info), isCode('DECRYPT_FAILED'));
      assert.throws(() => suite.open(suite.generateSealingKey().privateKeyPem, sealed, info, aad), isCode('DECRYPT_FAILED'));
      assert.throws(() => suite.open(r.privateKeyPem, sealed.subarray(0, 20), info, aad), isCode('DECRYPT_FAILED'));
      assert.throws(() => suite.seal(new Uint8Array(5), pt), isCode('BAD_KEY'));
      assert.throws(() => suite.open('garbage', sealed), isCode('BAD_KEY'));
    });
  });
}
