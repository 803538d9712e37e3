// HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-GCM, built from
// node:crypto HMAC, X25519 and AES-GCM. Written out step by step (LabeledExtract/Expand, KEM, key
// schedule) so every intermediate value can be checked against the RFC's Appendix A vectors.

import crypto from 'node:crypto';
import { CredenceError, Codes } from '../util/errors.js';
import { asBuffer, X25519_PKCS8_PREFIX, X25519_SPKI_PREFIX } from './rawKeys.js';

export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;
export const AEAD_AES_256_GCM = 0x0002;
export type AeadId = typeof AEAD_AES_128_GCM | typeof AEAD_AES_256_GCM;

const MODE_BASE = 0x00;
const NH = 32; // HKDF-SHA256 output
const NSECRET = 32; // DHKEM(X25519) shared secret
const NPK = 32; // X25519 public key / enc
const NN = 12; // AES-GCM nonce
const NT = 16; // AES-GCM tag
const HPKE_V1 = Buffer.from('HPKE-v1', 'ascii');

/** An X25519 key pair as raw 32-byte strings. */
export interface X25519KeyPair {
  readonly sk: Uint8Array;
  readonly pk: Uint8Array;
}

function i2osp(n: number, len: number): Buffer {
  const out = Buffer.alloc(len);
  out.writeUIntBE(n, 0, len);
  return out;
}

const KEM_SUITE_ID = Buffer.concat([Buffer.from('KEM', 'ascii'), i2osp(KEM_X25519_HKDF_SHA256, 2)]);

/** suite_id for the key schedule: "HPKE" || kem_id || kdf_id || aead_id. */
export function hpkeSuiteId(aeadId: AeadId): Uint8Array {
  return Buffer.concat([Buffer.from('HPKE', 'ascii'), i2osp(KEM_X25519_HKDF_SHA256, 2), i2osp(KDF_HKDF_SHA256, 2), i2osp(aeadId, 2)]);
}

function aeadParams(aeadId: AeadId): { cipher: 'aes-128-gcm' | 'aes-256-gcm'; nk: number } {
  return aeadId === AEAD_AES_128_GCM ? { cipher: 'aes-128-gcm', nk: 16 } : { cipher: 'aes-256-gcm', nk: 32 };
}

/** HKDF-Extract (RFC 5869) with SHA-256: HMAC(salt, ikm); an empty salt equals Nh zero bytes. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.createHmac('sha256', asBuffer(salt)).update(asBuffer(ikm)).digest());
}

/** HKDF-Expand (RFC 5869) with SHA-256. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * NH) {
    throw new CredenceError(Codes.MALFORMED, `HKDF-Expand length ${length} out of range`);
  }
  const out = Buffer.alloc(length);
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1, done = 0; done < length; i++) {
    t = crypto
      .createHmac('sha256', asBuffer(prk))
      .update(t)
      .update(asBuffer(info))
      .update(Buffer.from([i]))
      .digest();
    done += t.copy(out, done);
  }
  return new Uint8Array(out);
}

/** LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
export function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(salt, Buffer.concat([HPKE_V1, asBuffer(suiteId), Buffer.from(label, 'ascii'), asBuffer(ikm)]));
}

/** LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L). */
export function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  const labeledInfo = Buffer.concat([i2osp(length, 2), HPKE_V1, asBuffer(suiteId), Buffer.from(label, 'ascii'), asBuffer(info)]);
  return hkdfExpand(prk, labeledInfo, length);
}

function x25519Private(sk: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, asBuffer(sk)]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** As JWK: OpenSSL 3's DER decoders cost ~10x more per key (~0.1 ms here, 0.6 ms for PKCS#8). */
function x25519Public(pk: Uint8Array): crypto.KeyObject {
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: asBuffer(pk).toString('base64url') }, format: 'jwk' });
}

/** As JWK too: exporting SPKI DER costs ~25x more (~130 us a key here). */
export function rawPublicOf(key: crypto.KeyObject): Uint8Array {
  const x = (key.type === 'private' ? crypto.createPublicKey(key) : key).export({ format: 'jwk' }).x;
  const raw = typeof x === 'string' ? Buffer.from(x, 'base64url') : undefined;
  if (raw?.length !== NPK) throw new CredenceError(Codes.BAD_KEY, 'not an X25519 key');
  return new Uint8Array(raw);
}

/** Raw X25519 public key for a raw private scalar. */
export function x25519PublicFromPrivate(sk: Uint8Array): Uint8Array {
  return rawPublicOf(x25519Private(sk));
}

/** A fresh random X25519 key pair. */
export function generateX25519(): X25519KeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  const skDer = privateKey.export({ format: 'der', type: 'pkcs8' });
  const pkDer = publicKey.export({ format: 'der', type: 'spki' });
  return {
    sk: new Uint8Array(skDer.subarray(X25519_PKCS8_PREFIX.length)),
    pk: new Uint8Array(pkDer.subarray(X25519_SPKI_PREFIX.length)),
  };
}

/** DeriveKeyPair(ikm) for DHKEM(X25519, HKDF-SHA256) (RFC 9180 section 7.1.3). */
export function deriveKeyPairX25519(ikm: Uint8Array): X25519KeyPair {
  const dkpPrk = labeledExtract(KEM_SUITE_ID, new Uint8Array(0), 'dkp_prk', ikm);
  const sk = labeledExpand(KEM_SUITE_ID, dkpPrk, 'sk', new Uint8Array(0), 32);
  return { sk, pk: x25519PublicFromPrivate(sk) };
}

/** X25519(sk, pk); OpenSSL refuses an all-zero result (a small-order pk), as RFC 9180 requires. */
function dh(sk: crypto.KeyObject, pk: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.diffieHellman({ privateKey: sk, publicKey: x25519Public(pk) }));
}

function extractAndExpand(dhOut: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, new Uint8Array(0), 'eae_prk', dhOut);
  return labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, NSECRET);
}

/**
 * Encap(pkR). `ephemeral` is for known-answer tests only: production callers let it default to a
 * fresh random key pair. Throws CredenceError BAD_KEY if pkR is not a usable X25519 key.
 */
export function encap(pkR: Uint8Array, ephemeral?: X25519KeyPair): { sharedSecret: Uint8Array; enc: Uint8Array } {
  if (pkR.byteLength !== NPK) {
    throw new CredenceError(Codes.BAD_KEY, `recipient public key must be ${NPK} bytes`, { bytes: pkR.byteLength });
  }
  // A fresh ephemeral key stays a KeyObject: no export and re-import of its scalar.
  const skE = ephemeral === undefined ? crypto.generateKeyPairSync('x25519').privateKey : x25519Private(ephemeral.sk);
  const enc = ephemeral === undefined ? rawPublicOf(skE) : ephemeral.pk;
  let dhOut: Uint8Array;
  try {
    dhOut = dh(skE, pkR);
  } catch (e) {
    throw new CredenceError(Codes.BAD_KEY, 'recipient public key is not a usable X25519 key', {}, e);
  }
  return { sharedSecret: extractAndExpand(dhOut, Buffer.concat([asBuffer(enc), asBuffer(pkR)])), enc };
}

/** Decap(enc, skR) (skR raw, or an X25519 private KeyObject). Throws CredenceError DECRYPT_FAILED on a malformed or small-order enc. */
export function decap(enc: Uint8Array, skR: Uint8Array | crypto.KeyObject, pkR?: Uint8Array): Uint8Array {
  if (enc.byteLength !== NPK) throw new CredenceError(Codes.DECRYPT_FAILED, 'sealed message is malformed');
  const key = skR instanceof Uint8Array ? x25519Private(skR) : skR;
  const pk = pkR ?? rawPublicOf(key);
  let dhOut: Uint8Array;
  try {
    dhOut = dh(key, enc);
  } catch (e) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'sealed message is malformed', {}, e);
  }
  return extractAndExpand(dhOut, Buffer.concat([asBuffer(enc), asBuffer(pk)]));
}

/** The base-mode key schedule's outputs (RFC 9180 section 5.1). */
export interface KeySchedule {
  readonly keyScheduleContext: Uint8Array;
  readonly secret: Uint8Array;
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

/** KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = ""). */
export function keySchedule(aeadId: AeadId, sharedSecret: Uint8Array, info: Uint8Array): KeySchedule {
  const suiteId = hpkeSuiteId(aeadId);
  const empty = new Uint8Array(0);
  const pskIdHash = labeledExtract(suiteId, empty, 'psk_id_hash', empty);
  const infoHash = labeledExtract(suiteId, empty, 'info_hash', info);
  const keyScheduleContext = Buffer.concat([Buffer.from([MODE_BASE]), asBuffer(pskIdHash), asBuffer(infoHash)]);
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', empty);
  const { nk } = aeadParams(aeadId);
  return {
    keyScheduleContext: new Uint8Array(keyScheduleContext),
    secret,
    key: labeledExpand(suiteId, secret, 'key', keyScheduleContext, nk),
    baseNonce: labeledExpand(suiteId, secret, 'base_nonce', keyScheduleContext, NN),
    exporterSecret: labeledExpand(suiteId, secret, 'exp', keyScheduleContext, NH),
  };
}

/** Seal with the context's first nonce (sequence number 0 = base_nonce): ct || tag. */
export function aeadSeal(aeadId: AeadId, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
  const c = crypto.createCipheriv(aeadParams(aeadId).cipher, asBuffer(key), asBuffer(nonce), { authTagLength: NT });
  c.setAAD(asBuffer(aad));
  return new Uint8Array(Buffer.concat([c.update(asBuffer(pt)), c.final(), c.getAuthTag()]));
}

/** Open ct || tag; throws CredenceError DECRYPT_FAILED on any mismatch. */
export function aeadOpen(aeadId: AeadId, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
  if (ct.byteLength < NT) throw new CredenceError(Codes.DECRYPT_FAILED, 'ciphertext is shorter than its tag');
  const body = asBuffer(ct).subarray(0, ct.byteLength - NT);
  const tag = asBuffer(ct).subarray(ct.byteLength - NT);
  try {
    const d = crypto.createDecipheriv(aeadParams(aeadId).cipher, asBuffer(key), asBuffer(nonce), { authTagLength: NT });
    d.setAAD(asBuffer(aad));
    d.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([d.update(body), d.final()]));
  } catch (e) {
    throw new CredenceError(Codes.DECRYPT_FAILED, 'decryption failed: wrong key or tampered ciphertext', {}, e);
  }
}

/**
 * Single-shot base-mode seal: SetupBaseS then one Seal. Returns enc and ct separately; the suite
 * concatenates them. `ephemeral` exists for known-answer tests.
 */
export function sealBase(
  aeadId: AeadId,
  pkR: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
  ephemeral?: X25519KeyPair,
): { enc: Uint8Array; ct: Uint8Array } {
  const { sharedSecret, enc } = ephemeral === undefined ? encap(pkR) : encap(pkR, ephemeral);
  const ks = keySchedule(aeadId, sharedSecret, info);
  return { enc, ct: aeadSeal(aeadId, ks.key, ks.baseNonce, aad, pt) };
}

/** Single-shot base-mode open; throws CredenceError DECRYPT_FAILED. */
export function openBase(aeadId: AeadId, skR: Uint8Array | crypto.KeyObject, enc: Uint8Array, info: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
  const sharedSecret = decap(enc, skR);
  const ks = keySchedule(aeadId, sharedSecret, info);
  return aeadOpen(aeadId, ks.key, ks.baseNonce, aad, ct);
}

/** Bytes of `enc` in DHKEM(X25519). */
export const HPKE_X25519_ENC_BYTES = NPK;
