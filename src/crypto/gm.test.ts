// Known answers for the GM suite (SM3, SM4) and a pin on exactly what its SM2 signatures are:
// an independent BigInt SM2 verifier shows they are true GB/T 32918.2 SM2 with an empty user ID,
// and that an un-reloaded generateKeyPairSync key would have produced plain ECDSA instead.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fromHex, toHex, utf8 } from '../util/bytes.js';
import { gmSuite } from './gm.js';

describe('SM3 / SM4 known answers', () => {
  it('SM3("abc") (GB/T 32905 example 1)', () => {
    assert.equal(toHex(gmSuite.hash(utf8('abc'))), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('SM4 single block (GB/T 32907 example 1)', () => {
    const k = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');
    const c = crypto.createCipheriv('sm4-ecb', k, null);
    c.setAutoPadding(false);
    const ct = Buffer.concat([c.update(k), c.final()]);
    assert.equal(ct.toString('hex'), '681edf34d206965e86b3e94f536e4246');
  });

  it('HMAC-SM3 is the RFC 2104 construction over SM3', () => {
    const key = utf8('key');
    const data = utf8('The quick brown fox');
    const block = Buffer.alloc(64);
    Buffer.from(key).copy(block);
    const ipad = Buffer.from(block.map((b) => b ^ 0x36));
    const opad = Buffer.from(block.map((b) => b ^ 0x5c));
    const inner = gmSuite.hash(Buffer.concat([ipad, data]));
    assert.equal(toHex(gmSuite.hmac(key, data)), toHex(gmSuite.hash(Buffer.concat([opad, inner]))));
  });
});

// --- an independent, slow SM2 verifier (affine BigInt arithmetic) ---------------------------

const P = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF');
const A = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC');
const B = BigInt('0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93');
const N = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');
const GX = BigInt('0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7');
const GY = BigInt('0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0');
type Pt = { x: bigint; y: bigint } | null;

const mod = (v: bigint, m: bigint) => ((v % m) + m) % m;
function inv(v: bigint, m: bigint): bigint {
  let [a, b, x0, x1] = [mod(v, m), m, 1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b, x0, x1] = [b, a - q * b, x1, x0 - q * x1];
  }
  return mod(x0, m);
}
function add(p: Pt, q: Pt): Pt {
  if (p === null) return q;
  if (q === null) return p;
  if (p.x === q.x && mod(p.y + q.y, P) === 0n) return null;
  const l = p.x === q.x && p.y === q.y ? mod((3n * p.x * p.x + A) * inv(2n * p.y, P), P) : mod((q.y - p.y) * inv(q.x - p.x, P), P);
  const x = mod(l * l - p.x - q.x, P);
  return { x, y: mod(l * (p.x - x) - p.y, P) };
}
function mul(k: bigint, p: Pt): Pt {
  let r: Pt = null;
  for (let q = p; k > 0n; k >>= 1n, q = add(q, q)) if (k & 1n) r = add(r, q);
  return r;
}
const big = (b: Uint8Array) => BigInt(`0x${toHex(b) || '0'}`);
const be32 = (v: bigint) => fromHex(v.toString(16).padStart(64, '0'));

function derSig(sig: Uint8Array): { r: bigint; s: bigint } {
  const b = Buffer.from(sig);
  assert.equal(b[0], 0x30);
  const rLen = b[3] as number;
  const r = big(b.subarray(4, 4 + rLen));
  const sLen = b[5 + rLen] as number;
  return { r, s: big(b.subarray(6 + rLen, 6 + rLen + sLen)) };
}

function zA(id: Uint8Array, pub: Uint8Array): Uint8Array {
  const entl = Buffer.from([(id.length * 8) >> 8, (id.length * 8) & 0xff]);
  return gmSuite.hash(Buffer.concat([entl, id, be32(A), be32(B), be32(GX), be32(GY), pub.subarray(1)]));
}

/** GB/T 32918.2 verification: t = r + s, (x1, y1) = sG + tP, check r == e + x1 (mod n). */
function sm2VerifyRef(pub: Uint8Array, id: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const { r, s } = derSig(sig);
  const e = big(gmSuite.hash(Buffer.concat([zA(id, pub), msg])));
  const Q = { x: big(pub.subarray(1, 33)), y: big(pub.subarray(33)) };
  const X = add(mul(s, { x: GX, y: GY }), mul(mod(r + s, N), Q));
  return X !== null && mod(e + X.x, N) === r;
}

/** Plain ECDSA over the SM2 curve with e = SM3(msg). */
function ecdsaVerifyRef(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const { r, s } = derSig(sig);
  const e = big(gmSuite.hash(msg));
  const w = inv(s, N);
  const Q = { x: big(pub.subarray(1, 33)), y: big(pub.subarray(33)) };
  const X = add(mul(mod(e * w, N), { x: GX, y: GY }), mul(mod(r * w, N), Q));
  return X !== null && mod(X.x, N) === r;
}

describe('SM2 signatures: what node:crypto computes', () => {
  const key = gmSuite.generateSigningKey();
  const signer = gmSuite.signerFromPem(key.privateKeyPem);
  const digest = gmSuite.hash(utf8('credence sm2'));

  it('is true SM2 (Z_A prehash) with an EMPTY user ID, not the default "1234567812345678"', async () => {
    const sig = await signer.sign(digest);
    assert.ok(sig.length <= gmSuite.signatureBytesMax);
    assert.equal(sm2VerifyRef(signer.publicKey, new Uint8Array(0), digest, sig), true);
    assert.equal(sm2VerifyRef(signer.publicKey, utf8('1234567812345678'), digest, sig), false);
    assert.equal(ecdsaVerifyRef(signer.publicKey, digest, sig), false);
  });

  it('a generateKeyPairSync KeyObject (not reloaded from PEM) would sign plain ECDSA: the trap gm.ts avoids', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const pub = new Uint8Array(spki.subarray(spki.length - 65));
    const sig = new Uint8Array(crypto.sign('sm3', digest, privateKey));
    assert.equal(ecdsaVerifyRef(pub, digest, sig), true);
    assert.equal(sm2VerifyRef(pub, new Uint8Array(0), digest, sig), false);
    assert.equal(gmSuite.verify(pub, digest, sig), false);
  });

  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
  it('interoperates both ways with `openssl dgst -sm3` (no distid)', { skip: !hasOpenssl && 'no openssl CLI' }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credence-sm2-'));
    try {
      const f = (n: string) => path.join(dir, n);
      fs.writeFileSync(f('pub.pem'), key.publicKeyPem);
      fs.writeFileSync(f('priv.pem'), key.privateKeyPem, { mode: 0o600 });
      fs.writeFileSync(f('msg'), digest);
      fs.writeFileSync(f('sig'), await signer.sign(digest));
      const v = spawnSync('openssl', ['dgst', '-sm3', '-verify', f('pub.pem'), '-signature', f('sig'), f('msg')]);
      assert.match(v.stdout.toString(), /Verified OK/);
      const s = spawnSync('openssl', ['dgst', '-sm3', '-sign', f('priv.pem'), '-out', f('osig'), f('msg')]);
      assert.equal(s.status, 0);
      assert.equal(gmSuite.verify(signer.publicKey, digest, fs.readFileSync(f('osig'))), true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SM4-CTR + HMAC-SM3 layout', () => {
  it('is iv (16) || ciphertext || tag (32) and decrypts', () => {
    const k = crypto.randomBytes(32);
    const pt = utf8('national secret');
    const sealed = gmSuite.encrypt(k, pt, utf8('aad'));
    assert.equal(sealed.length, 16 + pt.length + 32);
    assert.deepEqual(gmSuite.decrypt(k, sealed, utf8('aad')), pt);
  });

  it('seal output starts with the 65-byte ephemeral point', () => {
    const r = gmSuite.generateSealingKey();
    const sealed = gmSuite.seal(r.publicKey, utf8('x'));
    assert.equal(sealed.length, 65 + 16 + 1 + 32);
    assert.equal(sealed[0], 0x04);
  });
});
