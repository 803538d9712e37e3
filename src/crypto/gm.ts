// The national (GM) suite: SM2 signatures, SM3 hash/HMAC, SM4 encryption and SM2-ECDH sealing,
// all on node:crypto's OpenSSL. Node has no SM4-GCM, so symmetric encryption is SM4-CTR plus
// HMAC-SM3 (encrypt-then-MAC), and sealing is ECIES-shaped over the same AEAD.
//
// What node:crypto's "SM2" really computes (checked against the openssl 3.0.19 CLI and an
// independent Z_A computation, see gm.test.ts):
//  - A KeyObject straight from generateKeyPairSync('ec', {namedCurve: 'SM2'}) is an EC-type key,
//    and crypto.sign('sm3', ...) with it is plain ECDSA over the SM2 curve: NOT an SM2 signature.
//  - A key loaded from PEM/DER (SPKI or PKCS#8) is an SM2-type key (asymmetricKeyType undefined
//    on Node 20), and crypto.sign/verify('sm3', m, key) is a true GB/T 32918.2 SM2 signature over
//    e = SM3(Z_A || m), but with an EMPTY distinguishing ID (ENTL = 0), OpenSSL 3.0's default,
//    not the GM/T 0009 default ID "1234567812345678". Node cannot set the ID (no distid option).
//    Interop: `openssl dgst -sm3 -verify` / `pkeyutl -rawin -digest sm3` without `distid` agree
//    both ways; tools that default to ID "1234567812345678" (GmSSL, BouncyCastle) must be told
//    to use the empty ID. This module therefore only ever signs/verifies with PEM/DER-loaded keys.

import crypto from 'node:crypto';
import { assert, CredenceError, Codes } from '../util/errors.js';
import {
  asBuffer,
  digestInto,
  KEY_CACHE_ENTRIES_MAX,
  KeyObjectCache,
  privateKeyFromPem,
  publicKeyFromRaw,
  publicKeyObjectFromPem,
  rawFromSpki,
  SM2_SPKI_PREFIX,
  spkiPem,
} from './rawKeys.js';
import type { CryptoSuite, GeneratedKey, Signer } from './suite.js';

const DIGEST_BYTES = 32;
const SM2_POINT_BYTES = 65;
const SM2_SCALAR_BYTES = 32;
const SM2_SIGNATURE_BYTES_MAX = 72;
const SM4_KEY_BYTES = 16;
const SM4_IV_BYTES = 16;
const TAG_BYTES = 32;
const SYMMETRIC_KEY_BYTES = 32;
const EMPTY = new Uint8Array(0);
const ENC_LABEL = Buffer.from('credence/gm/sm4-ctr/enc', 'ascii');
const MAC_LABEL = Buffer.from('credence/gm/hmac-sm3/mac', 'ascii');
const SEAL_LABEL = Buffer.from('credence/gm/seal/v1', 'ascii');

/** Raw 65-byte point -> SM2-type public KeyObject (null if not a point on the curve). */
export function sm2PublicKeyObject(raw: Uint8Array): crypto.KeyObject | null {
  if (raw.byteLength !== SM2_POINT_BYTES || raw[0] !== 0x04) return null;
  try {
    return publicKeyFromRaw(SM2_SPKI_PREFIX, raw);
  } catch {
    return null;
  }
}

const sm2Keys = new KeyObjectCache(KEY_CACHE_ENTRIES_MAX, sm2PublicKeyObject);

function sm3(data: Uint8Array): Uint8Array {
  return digestInto(crypto.hash('sm3', data, 'binary'), new Uint8Array(DIGEST_BYTES));
}

function hmacSm3(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = crypto.createHmac('sm3', asBuffer(key));
  for (const p of parts) h.update(asBuffer(p));
  return h.digest();
}

function sm2RawPublic(key: crypto.KeyObject): Uint8Array | undefined {
  return rawFromSpki(key, SM2_SPKI_PREFIX, SM2_POINT_BYTES);
}

function generateSm2(): GeneratedKey {
  // The generated KeyObject is EC-type (it would sign ECDSA); only its PEM leaves this function.
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'SM2' });
  const raw = sm2RawPublic(publicKey);
  assert(raw !== undefined, 'SM2 SPKI layout');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKey: raw,
  };
}

/** SM2-type private KeyObject and its raw public point, or BAD_KEY. */
function sm2PrivateFromPem(pem: string, what: string): { key: crypto.KeyObject; publicKey: Uint8Array } {
  const key = privateKeyFromPem(pem, what);
  // 'ec' would mean an EC-type key, which signs ECDSA rather than SM2; OpenSSL 3 loads SM2 PEMs as SM2-type.
  const publicKey = key.asymmetricKeyType === 'ec' ? undefined : sm2RawPublic(crypto.createPublicKey(key));
  if (publicKey === undefined) throw new CredenceError(Codes.BAD_KEY, `${what} is not an SM2 key (the gm suite needs SM2)`);
  return { key, publicKey };
}

function requireDigest(digest: Uint8Array): void {
  if (digest.byteLength !== DIGEST_BYTES) {
    throw new CredenceError(Codes.MALFORMED, `a signer signs ${DIGEST_BYTES}-byte digests`, { bytes: digest.byteLength });
  }
}

function signerFromPem(privateKeyPem: string): Signer {
  const { key, publicKey } = sm2PrivateFromPem(privateKeyPem, 'signing key');
  return {
    publicKey,
    sign: async (digest) => {
      requireDigest(digest);
      return new Uint8Array(crypto.sign('sm3', asBuffer(digest), key));
    },
  };
}

function publicKeyFromPem(publicKeyPem: string): Uint8Array {
  const raw = sm2RawPublic(publicKeyObjectFromPem(publicKeyPem, 'public key'));
  if (raw === undefined) throw new CredenceError(Codes.BAD_KEY, 'public key is not an SM2 key');
  return raw;
}

function publicKeyToPem(publicKey: Uint8Array): string {
  if (sm2Keys.get(publicKey) === null) {
    throw new CredenceError(Codes.BAD_KEY, `not a ${SM2_POINT_BYTES}-byte SM2 public key on the curve`);
  }
  return spkiPem(Buffer.concat([SM2_SPKI_PREFIX, asBuffer(publicKey)]));
}

function verify(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  if (digest.byteLength !== DIGEST_BYTES || signature.byteLength === 0 || signature.byteLength > SM2_SIGNATURE_BYTES_MAX) {
    return false;
  }
  const key = sm2Keys.get(publicKey);
  if (key === null) return false;
  try {
    return crypto.verify('sm3', asBuffer(digest), key, asBuffer(signature));
  } catch {
    return false;
  }
}

// --- SM4-CTR + HMAC-SM3 (encrypt-then-MAC) --------------------------------------------------

function subkeys(key: Uint8Array): { enc: Buffer; mac: Buffer } {
  return { enc: hmacSm3(key, ENC_LABEL).subarray(0, SM4_KEY_BYTES), mac: hmacSm3(key, MAC_LABEL) };
}

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function tagOf(mac: Buffer, aad: Uint8Array, iv: Uint8Array, ct: Uint8Array): Buffer {
  return hmacSm3(mac, lengthPrefix(aad.byteLength), aad, iv, ct);
}

/** SM4-CTR/HMAC-SM3 under a 32-byte key: iv (16) || ciphertext || tag (32). */
function encrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  if (key.byteLength !== SYMMETRIC_KEY_BYTES) {
    throw new CredenceError(Codes.BAD_KEY, `symmetric key must be ${SYMMETRIC_KEY_BYTES} bytes`, { bytes: key.byteLength });
  }
  const { enc, mac } = subkeys(key);
  const iv = crypto.randomBytes(SM4_IV_BYTES);
  const c = crypto.createCipheriv('sm4-ctr', enc, iv);
  const ct = Buffer.concat([c.update(asBuffer(plaintext)), c.final()]);
  return new Uint8Array(Buffer.concat([iv, ct, tagOf(mac, aad, iv, ct)]));
}

function decrypt(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  if (key.byteLength !== SYMMETRIC_KEY_BYTES || sealed.byteLength < SM4_IV_BYTES + TAG_BYTES) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'decryption failed: wrong key size or truncated ciphertext');
  }
  const { enc, mac } = subkeys(key);
  const b = asBuffer(sealed);
  const iv = b.subarray(0, SM4_IV_BYTES);
  const ct = b.subarray(SM4_IV_BYTES, b.length - TAG_BYTES);
  const tag = b.subarray(b.length - TAG_BYTES);
  if (!crypto.timingSafeEqual(tag, tagOf(mac, aad, iv, ct))) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'decryption failed: wrong key or tampered ciphertext');
  }
  const d = crypto.createDecipheriv('sm4-ctr', enc, iv);
  return new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
}

// --- Sealing: ephemeral SM2 ECDH + HKDF-SM3 + the AEAD above ---------------------------------

function sealKey(sharedX: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array, info: Uint8Array): Uint8Array {
  const kdfInfo = Buffer.concat([SEAL_LABEL, asBuffer(ephemeral), asBuffer(recipient), asBuffer(info)]);
  return new Uint8Array(crypto.hkdfSync('sm3', asBuffer(sharedX), Buffer.alloc(0), kdfInfo, SYMMETRIC_KEY_BYTES));
}

function seal(recipientPublicKey: Uint8Array, plaintext: Uint8Array, info: Uint8Array = EMPTY, aad: Uint8Array = EMPTY): Uint8Array {
  if (recipientPublicKey.byteLength !== SM2_POINT_BYTES || recipientPublicKey[0] !== 0x04) {
    throw new CredenceError(Codes.BAD_KEY, `recipient public key must be a ${SM2_POINT_BYTES}-byte uncompressed SM2 point`);
  }
  const ecdh = crypto.createECDH('SM2');
  const ephemeral = ecdh.generateKeys();
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(asBuffer(recipientPublicKey));
  } catch (e) {
    throw new CredenceError(Codes.BAD_KEY, 'recipient public key is not a point on the SM2 curve', {}, e);
  }
  const key = sealKey(shared, ephemeral, recipientPublicKey, info);
  return new Uint8Array(Buffer.concat([ephemeral, asBuffer(encrypt(key, plaintext, aad))]));
}

/** Reads one DER TLV at `at`; returns tag, content bounds and the next offset, or undefined. */
function derTlv(b: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  const tag = b[at];
  let len = b[at + 1];
  if (tag === undefined || len === undefined) return undefined;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 2 || start + n > b.length) return undefined;
    len = b.readUIntBE(start, n);
    start += n;
  }
  const end = start + len;
  return end <= b.length ? { tag, start, end } : undefined;
}

/** The private scalar of an SM2 PKCS#8 key (RFC 5208 wrapping an RFC 5915 ECPrivateKey). */
export function sm2PrivateScalar(key: crypto.KeyObject): Uint8Array | undefined {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const outer = derTlv(der, 0); // PrivateKeyInfo
  if (outer?.tag !== 0x30) return undefined;
  const version = derTlv(der, outer.start);
  const alg = version && derTlv(der, version.end);
  const octets = alg && derTlv(der, alg.end);
  if (octets?.tag !== 0x04) return undefined;
  const ecKey = derTlv(der, octets.start); // ECPrivateKey
  const ecVersion = ecKey?.tag === 0x30 ? derTlv(der, ecKey.start) : undefined;
  const d = ecVersion && derTlv(der, ecVersion.end);
  if (d?.tag !== 0x04 || d.end - d.start !== SM2_SCALAR_BYTES) return undefined;
  return new Uint8Array(der.subarray(d.start, d.end));
}

function open(recipientPrivateKeyPem: string, sealed: Uint8Array, info: Uint8Array = EMPTY, aad: Uint8Array = EMPTY): Uint8Array {
  const { key, publicKey } = sm2PrivateFromPem(recipientPrivateKeyPem, 'sealing key');
  const d = sm2PrivateScalar(key);
  if (d === undefined) throw new CredenceError(Codes.BAD_KEY, 'sealing key has an unexpected PKCS#8 layout');
  if (sealed.byteLength < SM2_POINT_BYTES + SM4_IV_BYTES + TAG_BYTES) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'sealed message is too short');
  }
  const ephemeral = sealed.subarray(0, SM2_POINT_BYTES);
  const ecdh = crypto.createECDH('SM2');
  ecdh.setPrivateKey(asBuffer(d));
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(asBuffer(ephemeral));
  } catch (e) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'sealed message is malformed', {}, e);
  }
  return decrypt(sealKey(shared, ephemeral, publicKey, info), sealed.subarray(SM2_POINT_BYTES), aad);
}

/**
 * The national (GM) suite.
 * @example
 * const k = gmSuite.generateSigningKey();
 * const s = gmSuite.signerFromPem(k.privateKeyPem);
 * const d = gmSuite.hash(utf8('tx'));           // SM3
 * gmSuite.verify(s.publicKey, d, await s.sign(d)); // true (SM2, empty user ID)
 */
export const gmSuite: CryptoSuite = {
  name: 'gm',
  hashBytes: DIGEST_BYTES,
  hash: sm3,
  hashInto: (data, out, offset) => {
    digestInto(crypto.hash('sm3', data, 'binary'), out, offset);
  },
  hmac: (key, data) => new Uint8Array(hmacSm3(key, data)),
  publicKeyBytes: SM2_POINT_BYTES,
  signatureBytesMax: SM2_SIGNATURE_BYTES_MAX,
  generateSigningKey: generateSm2,
  signerFromPem,
  publicKeyFromPem,
  publicKeyToPem,
  verify,
  encrypt,
  sealedLength: (plaintextBytes) => SM4_IV_BYTES + plaintextBytes + TAG_BYTES,
  encryptInto: (key, plaintext, aad, out, offset) => {
    out.set(encrypt(key, plaintext, aad), offset);
  },
  decrypt,
  generateSealingKey: generateSm2,
  seal,
  open,
};
