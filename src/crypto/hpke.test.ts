// Known answers for hpke.ts: RFC 9180 Appendix A.1 (base mode, DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256, AES-128-GCM) checked value by value, and RFC 5869 test case 1 for the HKDF core.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex, utf8 } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  decap,
  deriveKeyPairX25519,
  encap,
  generateX25519,
  hkdfExpand,
  hkdfExtract,
  keySchedule,
  openBase,
  sealBase,
} from './hpke.js';

// RFC 9180 Appendix A.1.1 and A.1.1.1 (sequence number 0).
const A1 = {
  info: '4f6465206f6e2061204772656369616e2055726e',
  ikmE: '7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234',
  pkEm: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
  skEm: '52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736',
  ikmR: '6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037',
  pkRm: '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d',
  skRm: '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8',
  enc: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
  sharedSecret: 'fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc',
  keyScheduleContext: '00725611c9d98c07c03f60095cd32d400d8347d45ed67097bbad50fc56da742d07cb6cffde367bb0565ba28bb02c90744a20f5ef37f30523526106f637abb05449',
  secret: '12fff91991e93b48de37e7daddb52981084bd8aa64289c3788471d9a9712f397',
  key: '4531685d41d65f03dc48f6b8302c05b0',
  baseNonce: '56d890e5accaaf011cff4b7d',
  exporterSecret: '45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8',
  pt: '4265617574792069732074727574682c20747275746820626561757479', // "Beauty is truth, truth beauty"
  aad: '436f756e742d30', // "Count-0"
  ct: 'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a',
};

describe('HKDF-SHA256 (RFC 5869 test case 1)', () => {
  it('extract and expand', () => {
    const prk = hkdfExtract(fromHex('000102030405060708090a0b0c'), new Uint8Array(22).fill(0x0b));
    assert.equal(toHex(prk), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    const okm = hkdfExpand(prk, fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    assert.equal(toHex(okm), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
});

describe('HPKE RFC 9180 A.1 (X25519, HKDF-SHA256, AES-128-GCM, base)', () => {
  it('DeriveKeyPair reproduces skEm/pkEm and skRm/pkRm', () => {
    const e = deriveKeyPairX25519(fromHex(A1.ikmE));
    assert.equal(toHex(e.sk), A1.skEm);
    assert.equal(toHex(e.pk), A1.pkEm);
    const r = deriveKeyPairX25519(fromHex(A1.ikmR));
    assert.equal(toHex(r.sk), A1.skRm);
    assert.equal(toHex(r.pk), A1.pkRm);
  });

  it('Encap with the vector ephemeral key gives enc and shared_secret; Decap agrees', () => {
    const { sharedSecret, enc } = encap(fromHex(A1.pkRm), { sk: fromHex(A1.skEm), pk: fromHex(A1.pkEm) });
    assert.equal(toHex(enc), A1.enc);
    assert.equal(toHex(sharedSecret), A1.sharedSecret);
    assert.equal(toHex(decap(fromHex(A1.enc), fromHex(A1.skRm))), A1.sharedSecret);
  });

  it('key schedule gives context, secret, key, base_nonce, exporter_secret', () => {
    const ks = keySchedule(AEAD_AES_128_GCM, fromHex(A1.sharedSecret), fromHex(A1.info));
    assert.equal(toHex(ks.keyScheduleContext), A1.keyScheduleContext);
    assert.equal(toHex(ks.secret), A1.secret);
    assert.equal(toHex(ks.key), A1.key);
    assert.equal(toHex(ks.baseNonce), A1.baseNonce);
    assert.equal(toHex(ks.exporterSecret), A1.exporterSecret);
  });

  it('first encryption matches; open recovers the plaintext', () => {
    const { enc, ct } = sealBase(AEAD_AES_128_GCM, fromHex(A1.pkRm), fromHex(A1.info), fromHex(A1.aad), fromHex(A1.pt), {
      sk: fromHex(A1.skEm),
      pk: fromHex(A1.pkEm),
    });
    assert.equal(toHex(enc), A1.enc);
    assert.equal(toHex(ct), A1.ct);
    const pt = openBase(AEAD_AES_128_GCM, fromHex(A1.skRm), enc, fromHex(A1.info), fromHex(A1.aad), ct);
    assert.equal(toHex(pt), A1.pt);
  });

  it('tampering with enc, ct, info or aad fails with DECRYPT_FAILED', () => {
    const skR = fromHex(A1.skRm);
    const info = fromHex(A1.info);
    const aad = fromHex(A1.aad);
    const enc = fromHex(A1.enc);
    const ct = fromHex(A1.ct);
    const flip = (b: Uint8Array, i: number) => {
      const c = b.slice();
      c[i] = (c[i] ?? 0) ^ 1;
      return c;
    };
    const cases: [Uint8Array, Uint8Array, Uint8Array, Uint8Array][] = [
      [flip(enc, 0), info, aad, ct],
      [enc, flip(info, 3), aad, ct],
      [enc, info, flip(aad, 0), ct],
      [enc, info, aad, flip(ct, ct.length - 1)],
      [enc, info, aad, ct.subarray(0, 10)],
      [new Uint8Array(32), info, aad, ct], // small-order point: all-zero DH output
    ];
    for (const [e, i, a, c] of cases) {
      assert.throws(
        () => openBase(AEAD_AES_128_GCM, skR, e, i, a, c),
        (err: unknown) => {
          return err instanceof CredenceError && err.code === 'DECRYPT_FAILED';
        },
      );
    }
  });

  it('AES-256-GCM round trip with random keys', () => {
    const r = generateX25519();
    const { enc, ct } = sealBase(AEAD_AES_256_GCM, r.pk, utf8('info'), utf8('aad'), utf8('hello'));
    assert.equal(Buffer.from(openBase(AEAD_AES_256_GCM, r.sk, enc, utf8('info'), utf8('aad'), ct)).toString(), 'hello');
  });
});
