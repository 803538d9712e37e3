// The default suite: Ed25519 signatures over 32-byte digests, SHA-256, AES-256-GCM and HPKE
// (RFC 9180 base mode, X25519/HKDF-SHA256/AES-256-GCM) for sealing to a recipient. Everything
// is node:crypto; public keys are cached as KeyObjects because building one costs a verification.

import crypto from 'node:crypto';
import { assert, CredenceError, Codes } from '../util/errors.js';
import { AEAD_AES_256_GCM, HPKE_X25519_ENC_BYTES, openBase, rawPublicOf, sealBase } from './hpke.js';
import { freshRandomInto } from './randomPool.js';
import {
  asBuffer,
  ED25519_SPKI_PREFIX,
  digestInto,
  KEY_CACHE_ENTRIES_MAX,
  KeyObjectCache,
  privateKeyFromPem,
  publicKeyFromRaw,
  publicKeyObjectFromPem,
  rawFromSpki,
  spkiPem,
  X25519_PKCS8_PREFIX,
  X25519_SPKI_PREFIX,
} from './rawKeys.js';
import type { CryptoSuite, GeneratedKey, Signer } from './suite.js';

const DIGEST_BYTES = 32;
const ED25519_PUBLIC_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const AES_KEY_BYTES = 32;
const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
const EMPTY = new Uint8Array(0);

const ed25519Keys = new KeyObjectCache(KEY_CACHE_ENTRIES_MAX, (raw) => {
  try {
    return publicKeyFromRaw(ED25519_SPKI_PREFIX, raw);
  } catch {
    return null;
  }
});

function requireDigest(digest: Uint8Array): void {
  if (digest.byteLength !== DIGEST_BYTES) {
    throw new CredenceError(Codes.MALFORMED, `a signer signs ${DIGEST_BYTES}-byte digests`, {
      bytes: digest.byteLength,
    });
  }
}

function requireSymmetricKey(key: Uint8Array, code: string): void {
  if (key.byteLength !== AES_KEY_BYTES) {
    throw new CredenceError(code, `symmetric key must be ${AES_KEY_BYTES} bytes`, { bytes: key.byteLength });
  }
}

function generateSigningKey(): GeneratedKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const raw = rawFromSpki(publicKey, ED25519_SPKI_PREFIX, ED25519_PUBLIC_BYTES);
  assert(raw !== undefined, 'Ed25519 SPKI layout');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKey: raw,
  };
}

function signerFromPem(privateKeyPem: string): Signer {
  const key = privateKeyFromPem(privateKeyPem, 'signing key');
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new CredenceError(Codes.BAD_KEY, 'signing key is not an Ed25519 key (the default suite needs Ed25519)');
  }
  const publicKey = rawFromSpki(crypto.createPublicKey(key), ED25519_SPKI_PREFIX, ED25519_PUBLIC_BYTES);
  if (publicKey === undefined) throw new CredenceError(Codes.BAD_KEY, 'signing key has no Ed25519 public key');
  return {
    publicKey,
    sign: async (digest) => {
      requireDigest(digest);
      return new Uint8Array(crypto.sign(null, asBuffer(digest), key));
    },
  };
}

function publicKeyFromPem(publicKeyPem: string): Uint8Array {
  const key = publicKeyObjectFromPem(publicKeyPem, 'public key');
  const raw = key.asymmetricKeyType === 'ed25519' ? rawFromSpki(key, ED25519_SPKI_PREFIX, ED25519_PUBLIC_BYTES) : undefined;
  if (raw === undefined) throw new CredenceError(Codes.BAD_KEY, 'public key is not an Ed25519 key');
  return raw;
}

function publicKeyToPem(publicKey: Uint8Array): string {
  if (publicKey.byteLength !== ED25519_PUBLIC_BYTES || ed25519Keys.get(publicKey) === null) {
    throw new CredenceError(Codes.BAD_KEY, `not a ${ED25519_PUBLIC_BYTES}-byte Ed25519 public key`);
  }
  return spkiPem(Buffer.concat([ED25519_SPKI_PREFIX, asBuffer(publicKey)]));
}

function verify(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== ED25519_PUBLIC_BYTES || digest.byteLength !== DIGEST_BYTES || signature.byteLength !== ED25519_SIGNATURE_BYTES) {
    return false;
  }
  const key = ed25519Keys.get(publicKey);
  if (key === null) return false;
  try {
    return crypto.verify(null, asBuffer(digest), key, asBuffer(signature));
  } catch {
    return false;
  }
}

const sealedLength = (plaintextBytes: number) => GCM_NONCE_BYTES + plaintextBytes + GCM_TAG_BYTES;

function encrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(sealedLength(plaintext.byteLength));
  encryptInto(key, plaintext, aad, out, 0);
  return out;
}

/** `encrypt` written into `at` (which must have sealedLength(plaintext) bytes from `offset`). */
function encryptInto(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, at: Uint8Array, offset: number): void {
  requireSymmetricKey(key, Codes.BAD_KEY);
  // nonce ‖ ciphertext ‖ tag (GCM's ciphertext is as long as the plaintext).
  if (at.byteLength < offset + sealedLength(plaintext.byteLength)) throw new RangeError('encryptInto: no room for the sealed bytes');
  const nonce = freshRandomInto(at.subarray(offset, offset + GCM_NONCE_BYTES));
  const c = crypto.createCipheriv('aes-256-gcm', asBuffer(key), nonce, { authTagLength: GCM_TAG_BYTES });
  c.setAAD(asBuffer(aad));
  const body = c.update(asBuffer(plaintext));
  const ct = offset + GCM_NONCE_BYTES;
  at.set(body, ct);
  at.set(c.final(), ct + body.byteLength);
  at.set(c.getAuthTag(), ct + plaintext.byteLength);
}

function decrypt(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  requireSymmetricKey(key, Codes.DECRYPT_FAILED);
  if (sealed.byteLength < GCM_NONCE_BYTES + GCM_TAG_BYTES) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'ciphertext is too short');
  }
  const b = asBuffer(sealed);
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', asBuffer(key), b.subarray(0, GCM_NONCE_BYTES), {
      authTagLength: GCM_TAG_BYTES,
    });
    d.setAAD(asBuffer(aad));
    d.setAuthTag(b.subarray(b.length - GCM_TAG_BYTES));
    return new Uint8Array(Buffer.concat([d.update(b.subarray(GCM_NONCE_BYTES, b.length - GCM_TAG_BYTES)), d.final()]));
  } catch (e) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'decryption failed: wrong key or tampered ciphertext', {}, e);
  }
}

/**
 * Sealing keys generated in this process, by PEM, so that `open` need not decode them again
 * (OpenSSL 3's PKCS#8 decoder costs ~0.5 ms a key; a report opens one delivery per provider
 * under a fresh key). Bounded; an entry is taken by its first `open`.
 */
const generatedKeys = new Map<string, crypto.KeyObject>();
const GENERATED_KEYS_MAX = 256;

function generateSealingKey(): GeneratedKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  const raw = rawPublicOf(publicKey);
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  if (generatedKeys.size >= GENERATED_KEYS_MAX) generatedKeys.delete(generatedKeys.keys().next().value as string);
  generatedKeys.set(privateKeyPem, privateKey);
  return {
    privateKeyPem,
    // Built from the raw key: OpenSSL's SPKI export costs ~60 us; the PEM is the same text.
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([X25519_SPKI_PREFIX, raw]).toString('base64')}\n-----END PUBLIC KEY-----\n`,
    publicKey: raw,
  };
}

function seal(recipientPublicKey: Uint8Array, plaintext: Uint8Array, info: Uint8Array = EMPTY, aad: Uint8Array = EMPTY): Uint8Array {
  const { enc, ct } = sealBase(AEAD_AES_256_GCM, recipientPublicKey, info, aad, plaintext);
  return new Uint8Array(Buffer.concat([asBuffer(enc), asBuffer(ct)]));
}

/** The PEM label of an unencrypted PKCS#8 private key (RFC 7468). */
const PKCS8_LABEL = ['PRIVATE', 'KEY'].join(' ');

/** The X25519 scalar of a PKCS#8 PEM read without OpenSSL's key decoders (~0.4 ms a key); undefined unless exactly that layout. */
function x25519ScalarOfPem(pem: string): Uint8Array | undefined {
  const m = /^-----BEGIN ([A-Z ]{1,40})-----\r?\n([A-Za-z0-9+/=\r\n]{1,200})-----END \1-----\r?\n?$/.exec(pem);
  const der = m?.[1] !== PKCS8_LABEL || m[2] === undefined ? undefined : Buffer.from(m[2].replace(/\s/g, ''), 'base64');
  const n = X25519_PKCS8_PREFIX.length;
  if (der === undefined || der.length !== n + 32 || !der.subarray(0, n).equals(X25519_PKCS8_PREFIX)) return undefined;
  return new Uint8Array(der.subarray(n));
}

/** The X25519 scalar of any private-key PEM, through OpenSSL; BAD_KEY unless X25519. */
function x25519ScalarOfKey(pem: string): Uint8Array {
  const key = privateKeyFromPem(pem, 'sealing key');
  if (key.asymmetricKeyType !== 'x25519') {
    throw new CredenceError(Codes.BAD_KEY, 'sealing key is not an X25519 key (the default suite seals with HPKE/X25519)');
  }
  const der = key.export({ format: 'der', type: 'pkcs8' });
  if (der.length !== X25519_PKCS8_PREFIX.length + 32 || !der.subarray(0, X25519_PKCS8_PREFIX.length).equals(X25519_PKCS8_PREFIX)) {
    throw new CredenceError(Codes.BAD_KEY, 'sealing key has an unexpected PKCS#8 layout');
  }
  return new Uint8Array(der.subarray(X25519_PKCS8_PREFIX.length));
}

function open(recipientPrivateKeyPem: string, sealed: Uint8Array, info: Uint8Array = EMPTY, aad: Uint8Array = EMPTY): Uint8Array {
  const generated = generatedKeys.get(recipientPrivateKeyPem);
  generatedKeys.delete(recipientPrivateKeyPem);
  const skR = generated ?? x25519ScalarOfPem(recipientPrivateKeyPem) ?? x25519ScalarOfKey(recipientPrivateKeyPem);
  if (sealed.byteLength < HPKE_X25519_ENC_BYTES + GCM_TAG_BYTES) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'sealed message is too short');
  }
  const enc = sealed.subarray(0, HPKE_X25519_ENC_BYTES);
  const ct = sealed.subarray(HPKE_X25519_ENC_BYTES);
  return openBase(AEAD_AES_256_GCM, skR, enc, info, aad, ct);
}

/**
 * The default suite.
 * @example
 * const k = defaultSuite.generateSigningKey();
 * const s = defaultSuite.signerFromPem(k.privateKeyPem);
 * const d = defaultSuite.hash(utf8('tx'));
 * defaultSuite.verify(s.publicKey, d, await s.sign(d)); // true
 */
export const defaultSuite: CryptoSuite = {
  name: 'default',
  hashBytes: DIGEST_BYTES,
  // crypto.hash (one-shot, Node >= 20.12) is ~1.5x faster than createHash for small inputs, and ~2x faster again as a latin1 ('binary') string.
  hash: (data) => digestInto(crypto.hash('sha256', data, 'binary'), new Uint8Array(DIGEST_BYTES)),
  hashInto: (data, out, offset) => {
    digestInto(crypto.hash('sha256', data, 'binary'), out, offset);
  },
  hmac: (key, data) => new Uint8Array(crypto.createHmac('sha256', asBuffer(key)).update(asBuffer(data)).digest()),
  publicKeyBytes: ED25519_PUBLIC_BYTES,
  signatureBytesMax: ED25519_SIGNATURE_BYTES,
  generateSigningKey,
  signerFromPem,
  publicKeyFromPem,
  publicKeyToPem,
  verify,
  encrypt,
  sealedLength,
  encryptInto,
  decrypt,
  generateSealingKey,
  seal,
  open,
};
