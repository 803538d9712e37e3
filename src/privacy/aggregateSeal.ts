// Sealing for secure aggregation: each share is sealed (suite `seal`: HPKE in `default`, SM2
// ECIES in `gm`) to a fresh per-job key of the aggregator it is for, and each partial sum to a
// fresh per-job key of the recipient. The associated data binds the job, the bank and the
// aggregator slot, so a sealed share or sum opens only in its own place.
//
//   sealed share: "CAS1" | job id (32) | bank (u16) | aggregator (u8) | count (u32) | seal(vector)
//                 AAD = the 43-byte header before the seal
//   sealed sum:   seal(vector), AAD = "CAP1" | job id (32) | aggregator (u8) | count (u32)
//
// An aggregator's key reaches the banks signed by the aggregator's node key (a member key on
// chain) over `aggregatorKeyDigest`: job id, aggregator index and the sealing public key.

import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { toHex, utf8 } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { AGG_ITEMS_MAX, type ShareMessage, type Vec64 } from './aggregate.js';
import { PrivacyCodes } from './codes.js';

const SHARE_MAGIC = 0x43415331; // "CAS1"
const SUM_MAGIC = 0x43415031; // "CAP1"
const SHARE_HEADER = 4 + 32 + 2 + 1 + 4;
const SUM_AAD = 4 + 32 + 1 + 4;
/** More than any suite's seal adds (HPKE: 32 + 16; gm: 65-byte point + IV + tag). */
const SEAL_OVERHEAD_MAX = 256;
const SHARE_INFO = utf8('credence/aggregate/share/v1');
const SUM_INFO = utf8('credence/aggregate/sum/v1');

/** What an aggregator signs with its node key so that banks can trust its sealing key for the job. */
export function aggregatorKeyDigest(suite: CryptoSuite, jobId: string, aggregator: number, sealKey: Uint8Array): Uint8Array {
  return suite.hash(canonicalJsonBytes({ domain: 'credence/aggregate/key/v1', jobId, aggregator, sealKey: toHex(sealKey) }));
}

/**
 * Forget a sealing private key made with `suite.generateSealingKey()`: the suite keeps the key
 * object of a key it generated until that key's first `open` (see crypto/default.ts), so a job
 * that ends before opening anything would leave it there. An `open` of nothing takes it out
 * (and fails, as it must).
 */
export function discardSealingKey(suite: CryptoSuite, privateKeyPem: string): void {
  try {
    suite.open(privateKeyPem, new Uint8Array(0));
  } catch {
    // expected: nothing to open
  }
}

function vecBytes(v: Vec64): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function vecOf(plain: Uint8Array, count: number, what: string): Vec64 {
  if (plain.byteLength !== 8 * count) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, `the ${what} holds ${plain.byteLength / 8} items, its header ${count}`);
  const v = new Uint32Array(2 * count);
  new Uint8Array(v.buffer).set(plain);
  return v;
}

/** Opens with the suite; a seal that does not open (wrong key, moved, tampered) is BAD_MESSAGE. */
function openOrRefuse(suite: CryptoSuite, keyPem: string, sealed: Uint8Array, info: Uint8Array, aad: Uint8Array, what: string): Uint8Array {
  try {
    return suite.open(keyPem, sealed, info, aad);
  } catch (e) {
    throw new CredenceError(PrivacyCodes.BAD_MESSAGE, `the ${what} does not open with this job's key for this slot (wrong key, moved or tampered)`, {}, e);
  }
}

function shareHeader(job: Uint8Array, bank: number, aggregator: number, count: number): Uint8Array {
  const h = new Uint8Array(SHARE_HEADER);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, SHARE_MAGIC);
  h.set(job, 4);
  dv.setUint16(36, bank);
  h[38] = aggregator;
  dv.setUint32(39, count);
  return h;
}

/** A bank's share for aggregator `m.aggregator`, sealed to that aggregator's key for the job. */
export function sealShare(suite: CryptoSuite, aggregatorKey: Uint8Array, m: ShareMessage): Uint8Array {
  const header = shareHeader(m.job, m.bank, m.aggregator, m.share.length / 2);
  const sealed = suite.seal(aggregatorKey, vecBytes(m.share), SHARE_INFO, header);
  const out = new Uint8Array(SHARE_HEADER + sealed.byteLength);
  out.set(header);
  out.set(sealed, SHARE_HEADER);
  return out;
}

/** The clear header of a sealed share (who sent it, for which slot), before it is opened. */
export function sealedShareHeader(b: Uint8Array): { job: Uint8Array; bank: number; aggregator: number; count: number } {
  if (b.byteLength < SHARE_HEADER) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'malformed sealed share: too short');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0) !== SHARE_MAGIC) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'malformed sealed share: bad magic');
  const count = dv.getUint32(39);
  if (count > AGG_ITEMS_MAX || b.byteLength > SHARE_HEADER + 8 * count + SEAL_OVERHEAD_MAX)
    throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'malformed sealed share: too long');
  return { job: b.slice(4, 36), bank: dv.getUint16(36), aggregator: b[38] as number, count };
}

/** Opens a sealed share with the aggregator's private key; BAD_MESSAGE if it does not open. */
export function openShare(suite: CryptoSuite, privateKeyPem: string, b: Uint8Array): ShareMessage {
  const h = sealedShareHeader(b);
  const plain = openOrRefuse(suite, privateKeyPem, b.subarray(SHARE_HEADER), SHARE_INFO, b.subarray(0, SHARE_HEADER), 'share');
  return { job: h.job, bank: h.bank, aggregator: h.aggregator, share: vecOf(plain, h.count, 'share') };
}

function sumAad(job: Uint8Array, aggregator: number, count: number): Uint8Array {
  const a = new Uint8Array(SUM_AAD);
  const dv = new DataView(a.buffer);
  dv.setUint32(0, SUM_MAGIC);
  a.set(job, 4);
  a[36] = aggregator;
  dv.setUint32(37, count);
  return a;
}

/** An aggregator's partial sum, sealed to the recipient's key for the job. */
export function sealSum(suite: CryptoSuite, recipientKey: Uint8Array, job: Uint8Array, aggregator: number, sum: Vec64): Uint8Array {
  return suite.seal(recipientKey, vecBytes(sum), SUM_INFO, sumAad(job, aggregator, sum.length / 2));
}

/** The recipient opens aggregator `aggregator`'s partial sum of `count` items; BAD_MESSAGE if it does not open. */
export function openSum(suite: CryptoSuite, privateKeyPem: string, job: Uint8Array, aggregator: number, count: number, sealed: Uint8Array): Vec64 {
  if (sealed.byteLength > 8 * count + SEAL_OVERHEAD_MAX) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'malformed sealed partial sum: too long');
  return vecOf(openOrRefuse(suite, privateKeyPem, sealed, SUM_INFO, sumAad(job, aggregator, count), 'partial sum'), count, 'partial sum');
}
