// Known answers for the default suite's primitives: SHA-256 (FIPS 180-2), Ed25519 (RFC 8032
// test 1, on the node:crypto primitive the suite signs with) and the HPKE output layout.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { fromHex, toHex, utf8 } from '../util/bytes.js';
import { defaultSuite } from './default.js';
import { ED25519_SPKI_PREFIX } from './rawKeys.js';

describe('default suite known answers', () => {
  it('SHA-256("abc")', () => {
    assert.equal(toHex(defaultSuite.hash(utf8('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('HMAC-SHA-256 (RFC 4231 test case 2)', () => {
    assert.equal(
      toHex(defaultSuite.hmac(utf8('Jefe'), utf8('what do ya want for nothing?'))),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('Ed25519 RFC 8032 test 1 (empty message)', () => {
    const seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
    const pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
    const sig = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
    const priv = crypto.createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed, 'hex')]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' });
    assert.equal(spki.subarray(ED25519_SPKI_PREFIX.length).toString('hex'), pub);
    assert.equal(crypto.sign(null, Buffer.alloc(0), priv).toString('hex'), sig);
    // The suite's signer is the same primitive applied to a 32-byte digest.
    const signer = defaultSuite.signerFromPem(priv.export({ format: 'pem', type: 'pkcs8' }).toString());
    assert.equal(toHex(signer.publicKey), pub);
    const d = defaultSuite.hash(utf8('tx'));
    assert.equal(defaultSuite.verify(fromHex(pub), d, new Uint8Array(crypto.sign(null, d, priv))), true);
  });

  it('AES-256-GCM output is nonce (12) || ciphertext || tag (16)', () => {
    const k = crypto.randomBytes(32);
    const sealed = defaultSuite.encrypt(k, utf8('abcd'));
    assert.equal(sealed.length, 12 + 4 + 16);
    const d = crypto.createDecipheriv('aes-256-gcm', k, sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(16));
    assert.equal(Buffer.concat([d.update(sealed.subarray(12, 16)), d.final()]).toString(), 'abcd');
  });

  it('HPKE seal output is enc (32) || ciphertext || tag (16)', () => {
    const r = defaultSuite.generateSealingKey();
    assert.equal(r.publicKey.length, 32);
    assert.equal(defaultSuite.seal(r.publicKey, utf8('abc')).length, 32 + 3 + 16);
  });

  it("a sealing key's public PEM and raw key are OpenSSL's, and it opens what is sealed to it", () => {
    for (let i = 0; i < 20; i++) {
      const r = defaultSuite.generateSealingKey();
      const pub = crypto.createPublicKey(r.publicKeyPem);
      assert.equal(pub.export({ format: 'pem', type: 'spki' }).toString(), r.publicKeyPem);
      assert.deepEqual(new Uint8Array(pub.export({ format: 'der', type: 'spki' }).subarray(12)), r.publicKey);
      assert.deepEqual(crypto.createPublicKey(r.privateKeyPem).export({ format: 'pem', type: 'spki' }).toString(), r.publicKeyPem);
      assert.deepEqual(defaultSuite.open(r.privateKeyPem, defaultSuite.seal(r.publicKey, utf8('abc'))), utf8('abc'));
    }
  });
});
