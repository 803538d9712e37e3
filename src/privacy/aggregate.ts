// Secure aggregation by additive secret sharing mod 2^64 across A non-colluding aggregators
// (multi-lending detection): for each SME of a query set, the total outstanding loans over N
// banks, with no bank's amount visible to anyone.
//
//   bank b:        amounts v_b[k] (fen, < 2^53); shares s_b,1 … s_b,A−1 uniformly random,
//                  s_b,A = v_b − Σ s_b,j  (mod 2^64); share j goes to aggregator j only.
//   aggregator j:  t_j = Σ_b s_b,j once every registered bank's share has arrived.
//   recipient:     total = Σ_j t_j (mod 2^64) = Σ_b v_b.
//
// Vectors are Uint32Array pairs (lo, hi) per element so the hot loops stay in 32-bit integers.
// A missing bank or aggregator is PARTY_DROPPED; nothing partial is released.

import { randomFillSync } from 'node:crypto';
import { bytesEqual } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { PrivacyCodes } from './codes.js';

export const AGG_ITEMS_MAX = 1_000_000;
export const AGG_BANKS_MAX = 64;
export const AGG_AGGREGATORS_MIN = 2;
export const AGG_AGGREGATORS_MAX = 3;
const MAGIC = 0x43414731; // "CAG1"
const HEADER = 4 + 32 + 2 + 1 + 4;

/** A vector of n values mod 2^64 as 2n 32-bit words (lo, hi). */
export type Vec64 = Uint32Array;

export function vecFromAmounts(amounts: readonly number[]): Vec64 {
  const v = new Uint32Array(2 * amounts.length);
  amounts.forEach((a, i) => {
    if (!Number.isSafeInteger(a) || a < 0) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'amounts must be non-negative safe integers (fen)', { index: i });
    v[2 * i] = a >>> 0;
    v[2 * i + 1] = Math.floor(a / 2 ** 32);
  });
  return v;
}

export function amountsFromVec(v: Vec64): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 2) {
    const hi = v[i + 1] as number;
    if (hi >= 2 ** 21) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'a total exceeds 2^53 fen: shares are inconsistent', { index: i / 2 });
    out.push(hi * 2 ** 32 + (v[i] as number));
  }
  return out;
}

/** acc += x (mod 2^64), element-wise. */
export function addInto(acc: Vec64, x: Vec64): void {
  for (let i = 0; i < acc.length; i += 2) {
    const lo = (acc[i] as number) + (x[i] as number);
    acc[i] = lo >>> 0;
    acc[i + 1] = ((acc[i + 1] as number) + (x[i + 1] as number) + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  }
}

/** acc −= x (mod 2^64), element-wise. */
function subInto(acc: Vec64, x: Vec64): void {
  for (let i = 0; i < acc.length; i += 2) {
    const lo = (acc[i] as number) - (x[i] as number);
    acc[i] = lo >>> 0;
    acc[i + 1] = ((acc[i + 1] as number) - (x[i + 1] as number) - (lo < 0 ? 1 : 0)) >>> 0;
  }
}

/** Splits a bank's vector into `parts` additive shares. */
export function splitShares(v: Vec64, parts: number): Vec64[] {
  if (!Number.isInteger(parts) || parts < AGG_AGGREGATORS_MIN || parts > AGG_AGGREGATORS_MAX) {
    throw new CredenceError(PrivacyCodes.BAD_MESSAGE, `aggregators must number ${AGG_AGGREGATORS_MIN} to ${AGG_AGGREGATORS_MAX}`);
  }
  const last = v.slice();
  const shares: Vec64[] = [];
  for (let j = 0; j < parts - 1; j++) {
    const s = randomFillSync(new Uint32Array(v.length));
    subInto(last, s);
    shares.push(s);
  }
  shares.push(last);
  return shares;
}

export interface ShareMessage {
  readonly job: Uint8Array;
  readonly bank: number;
  readonly aggregator: number;
  readonly share: Vec64;
}

export function encodeShare(m: ShareMessage): Uint8Array {
  const out = new Uint8Array(HEADER + 4 * m.share.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC);
  out.set(m.job, 4);
  dv.setUint16(36, m.bank);
  out[38] = m.aggregator;
  dv.setUint32(39, m.share.length / 2);
  new Uint8Array(out.buffer, HEADER).set(new Uint8Array(m.share.buffer, m.share.byteOffset, m.share.byteLength));
  return out;
}

function malformed(what: string): CredenceError {
  return new CredenceError(PrivacyCodes.BAD_MESSAGE, `malformed share message: ${what}`);
}

export function decodeShare(b: Uint8Array): ShareMessage {
  if (b.byteLength < HEADER) throw malformed('too short');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0) !== MAGIC) throw malformed('bad magic');
  const n = dv.getUint32(39);
  if (n > AGG_ITEMS_MAX) throw malformed('too many items');
  if (b.byteLength !== HEADER + 8 * n) throw malformed('length does not match the item count');
  const share = new Uint32Array(2 * n);
  new Uint8Array(share.buffer).set(b.subarray(HEADER));
  return { job: b.slice(4, 36), bank: dv.getUint16(36), aggregator: b[38] as number, share };
}

/**
 * One aggregator's state for one job: accepts exactly one share from each of `banks` banks,
 * each of `items` elements, and releases its sum only when all have arrived.
 */
export class Aggregator {
  private readonly sum: Vec64;
  private readonly seen = new Set<number>();

  constructor(
    private readonly job: Uint8Array,
    readonly index: number,
    readonly banks: number,
    readonly items: number,
  ) {
    if (!Number.isInteger(banks) || banks < 1 || banks > AGG_BANKS_MAX)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, `banks must number 1 to ${AGG_BANKS_MAX}`);
    if (!Number.isInteger(items) || items < 1 || items > AGG_ITEMS_MAX)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, `items must number 1 to ${AGG_ITEMS_MAX}`);
    this.sum = new Uint32Array(2 * items);
  }

  accept(m: ShareMessage): void {
    if (!bytesEqual(m.job, this.job)) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'the share belongs to another job');
    if (m.aggregator !== this.index) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'the share is meant for another aggregator');
    if (!Number.isInteger(m.bank) || m.bank >= this.banks) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'unknown bank index', { bank: m.bank });
    if (this.seen.has(m.bank)) throw new CredenceError(PrivacyCodes.REPLAYED, 'this bank has already sent its share', { bank: m.bank });
    if (m.share.length !== 2 * this.items)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, `the share has ${m.share.length / 2} items, the job ${this.items}`);
    addInto(this.sum, m.share);
    this.seen.add(m.bank);
  }

  get missing(): number {
    return this.banks - this.seen.size;
  }

  /** The partial sum, only once every bank's share is in; PARTY_DROPPED otherwise. */
  result(): Vec64 {
    if (this.missing > 0) {
      throw new CredenceError(PrivacyCodes.PARTY_DROPPED, `${this.missing} of ${this.banks} banks have not sent their share; no partial sum is released`, {
        missing: this.missing,
      });
    }
    return this.sum;
  }
}

/** The recipient's step: totals from every aggregator's partial sum. */
export function combine(partials: readonly (Vec64 | undefined)[], aggregators: number, items: number): number[] {
  const got = partials.filter((p): p is Vec64 => p !== undefined);
  if (got.length !== aggregators) {
    throw new CredenceError(PrivacyCodes.PARTY_DROPPED, `${aggregators - got.length} of ${aggregators} aggregators did not answer; no result`, {
      missing: aggregators - got.length,
    });
  }
  const acc = new Uint32Array(2 * items);
  for (const p of got) {
    if (p.length !== 2 * items) throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, 'a partial sum has the wrong length');
    addInto(acc, p);
  }
  return amountsFromVec(acc);
}
