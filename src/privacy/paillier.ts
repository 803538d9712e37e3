// Private evaluation of a linear scorecard with Paillier encryption (2048-bit modulus):
//
//   bank (model owner):  key pair; sends Enc(w_1) … Enc(w_k), Enc(bias)
//   provider (features): Enc(score) = Enc(bias) · Π Enc(w_j)^{x_j} · r^n   (mod n²), sends it back
//   bank:                score = Dec(Enc(score))
//
// The provider sees only ciphertexts (it learns nothing of the weights); the bank sees one
// freshly re-randomized ciphertext of the score (it learns the score and nothing else of the
// features). Modular exponentiation runs in OpenSSL: node:crypto has no modexp API, but a
// Diffie–Hellman object with modulus m and private key e computes b^e mod m in computeSecret.

import { createDiffieHellman, generatePrimeSync, randomBytes } from 'node:crypto';
import { CredenceError } from '../util/errors.js';
import { PrivacyCodes } from './codes.js';

export const PAILLIER_BITS = 2048;
export const FEATURES_MAX = 256;
/** Features and weights are integers (scaled by the caller) below 2^40 in magnitude. */
export const VALUE_ABS_MAX = 2 ** 40;

function bytesOf(x: bigint, len?: number): Buffer {
  let h = x.toString(16);
  if (h.length % 2 === 1) h = `0${h}`;
  const b = Buffer.from(h, 'hex');
  return len === undefined || b.length >= len ? b : Buffer.concat([Buffer.alloc(len - b.length), b]);
}

const big = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);

/** b^e mod m in OpenSSL (m odd, at least 512 bits). */
export function modExp(b: bigint, e: bigint, m: bigint): bigint {
  if (e === 0n) return 1n % m;
  const len = Math.ceil(m.toString(16).length / 2);
  const base = ((b % m) + m) % m;
  if (base <= 1n) return base;
  if (base === m - 1n) return (e & 1n) === 1n ? base : 1n;
  const dh = createDiffieHellman(bytesOf(m, len));
  dh.setPrivateKey(bytesOf(e));
  try {
    return big(dh.computeSecret(bytesOf(base, len)));
  } catch {
    // OpenSSL refuses a Diffie–Hellman result of exactly 1 (as a small-subgroup guard), which
    // is a legitimate answer here (e.g. decrypting 0): fall back to BigInt for that case.
    return slowModExp(base, e, m);
  }
}

function slowModExp(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  let x = b % m;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
  }
  return r;
}

export function modInv(x: bigint, m: bigint): bigint {
  let [a, b, u, v] = [((x % m) + m) % m, m, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b] = [b - q * a, a];
    [u, v] = [v - q * u, u];
  }
  if (b !== 1n) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'value is not invertible');
  return ((v % m) + m) % m;
}

export interface PaillierPublic {
  readonly n: bigint;
  readonly n2: bigint;
}

export interface PaillierKey extends PaillierPublic {
  readonly p: bigint;
  readonly q: bigint;
  readonly lambda: bigint;
  readonly mu: bigint;
}

export function paillierKeyGen(bits = PAILLIER_BITS): PaillierKey {
  for (;;) {
    const p = generatePrimeSync(bits / 2, { bigint: true });
    const q = generatePrimeSync(bits / 2, { bigint: true });
    if (p === q) continue;
    const n = p * q;
    const lambda = (p - 1n) * (q - 1n);
    return { n, n2: n * n, p, q, lambda, mu: modInv(lambda, n) };
  }
}

function randomUnit(n: bigint): bigint {
  const len = Math.ceil(n.toString(16).length / 2) + 16;
  return (big(randomBytes(len)) % (n - 2n)) + 2n;
}

/** Enc(m) = (1 + m·n) · r^n mod n², with r^n computed by CRT when the secret key is at hand. */
export function encrypt(pub: PaillierPublic | PaillierKey, m: bigint): bigint {
  const mm = ((m % pub.n) + pub.n) % pub.n;
  const rn = 'p' in pub ? rnCrt(pub, randomUnit(pub.n)) : modExp(randomUnit(pub.n), pub.n, pub.n2);
  return (((1n + mm * pub.n) % pub.n2) * rn) % pub.n2;
}

function rnCrt(k: PaillierKey, r: bigint): bigint {
  const p2 = k.p * k.p;
  const q2 = k.q * k.q;
  const a = modExp(r, k.n % ((k.p - 1n) * k.p), p2);
  const b = modExp(r, k.n % ((k.q - 1n) * k.q), q2);
  // CRT: x ≡ a (mod p²), x ≡ b (mod q²)
  return (a + p2 * (((b - a) * modInv(p2, q2)) % q2) + k.n2 * 2n) % k.n2;
}

/** Dec(c), as a signed integer (values above n/2 are negative). */
export function decrypt(k: PaillierKey, c: bigint): bigint {
  if (c <= 0n || c >= k.n2) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'ciphertext out of range');
  const u = modExp(c, k.lambda, k.n2);
  const m = (((u - 1n) / k.n) * k.mu) % k.n;
  return m > k.n / 2n ? m - k.n : m;
}

function checkValue(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || Math.abs(v) >= VALUE_ABS_MAX)
    throw new CredenceError(PrivacyCodes.BAD_MESSAGE, `${what} must be integers below 2^40 in magnitude`);
}

export interface EncryptedModel {
  readonly n: string;
  readonly weights: string[];
  readonly bias: string;
}

/** Bank: encrypts its scorecard (weights and bias) under its own key. */
export function encryptModel(k: PaillierKey, weights: readonly number[], bias: number): EncryptedModel {
  if (weights.length < 1 || weights.length > FEATURES_MAX) throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, `a scorecard has 1 to ${FEATURES_MAX} weights`);
  for (const w of [...weights, bias]) checkValue(w, 'weights and bias');
  return { n: k.n.toString(16), weights: weights.map((w) => encrypt(k, BigInt(w)).toString(16)), bias: encrypt(k, BigInt(bias)).toString(16) };
}

function parseCipher(h: unknown, n2: bigint): bigint {
  if (typeof h !== 'string' || !/^[0-9a-f]{1,1100}$/.test(h)) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'a ciphertext must be lowercase hex');
  const c = BigInt(`0x${h}`);
  if (c <= 0n || c >= n2) throw new CredenceError(PrivacyCodes.BAD_POINT, 'a ciphertext is out of range');
  return c;
}

/** Provider: evaluates the encrypted scorecard on its features, re-randomized. */
export function evaluateModel(model: EncryptedModel, features: readonly number[]): string {
  if (typeof model.n !== 'string' || !/^[0-9a-f]{400,600}$/.test(model.n))
    throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'the model modulus must be 1600-2400 bits of hex');
  const n = BigInt(`0x${model.n}`);
  if ((n & 1n) === 0n) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'the model modulus must be odd');
  if (!Array.isArray(model.weights) || model.weights.length !== features.length) {
    throw new CredenceError(
      PrivacyCodes.SIZE_MISMATCH,
      `the model has ${Array.isArray(model.weights) ? model.weights.length : 0} weights, the provider ${features.length} features`,
    );
  }
  const n2 = n * n;
  let acc = parseCipher(model.bias, n2);
  model.weights.forEach((w, j) => {
    const x = features[j] as number;
    checkValue(x, 'features');
    const c = parseCipher(w, n2);
    const term = x >= 0 ? modExp(c, BigInt(x), n2) : modExp(modInv(c, n2), BigInt(-x), n2);
    acc = (acc * term) % n2;
  });
  return ((acc * modExp(randomUnit(n), n, n2)) % n2).toString(16);
}

/** Bank: the score from the provider's answer. */
export function decryptScore(k: PaillierKey, answer: string): bigint {
  return decrypt(k, parseCipher(answer, k.n2));
}
