// Secure aggregation: totals equal the plain sums (property, 2 and 3 aggregators), and the coded
// errors for a dropped bank or aggregator, a replayed, foreign, mis-sized or malformed share.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CredenceError } from '../util/errors.js';
import { Aggregator, combine, decodeShare, encodeShare, splitShares, vecFromAmounts } from './aggregate.js';
import { PrivacyCodes } from './codes.js';

const codeOf = (code: string) => (e: unknown) => e instanceof CredenceError && e.code === code;
const job = new Uint8Array(randomBytes(32));

function run(books: number[][], parts: number): number[] {
  const items = books[0]?.length ?? 0;
  const aggs = Array.from({ length: parts }, (_, j) => new Aggregator(job, j, books.length, items));
  books.forEach((amounts, bank) => {
    splitShares(vecFromAmounts(amounts), parts).forEach((share, j) => {
      aggs[j]?.accept(decodeShare(encodeShare({ job, bank, aggregator: j, share })));
    });
  });
  return combine(
    aggs.map((a) => a.result()),
    parts,
    items,
  );
}

describe('secure aggregation', () => {
  it('totals equal the plain sums (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom(2, 3),
        fc.infiniteStream(fc.integer({ min: 0, max: 2 ** 48 })),
        (banks, items, parts, amounts) => {
          const it = amounts[Symbol.iterator]();
          const books = Array.from({ length: banks }, () => Array.from({ length: items }, () => it.next().value as number));
          const want = Array.from({ length: items }, (_, k) => books.reduce((s, b) => s + (b[k] as number), 0));
          assert.deepEqual(run(books, parts), want);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('one share alone does not equal the amounts', () => {
    const v = vecFromAmounts([5, 7, 9]);
    for (const s of splitShares(v, 3)) assert.notDeepEqual(s, v);
  });

  it('a bank that drops out: PARTY_DROPPED, no partial sum', () => {
    const a = new Aggregator(job, 0, 3, 2);
    const [s0] = splitShares(vecFromAmounts([1, 2]), 2);
    a.accept({ job, bank: 0, aggregator: 0, share: s0 as Uint32Array });
    assert.throws(() => a.result(), codeOf(PrivacyCodes.PARTY_DROPPED));
  });

  it('an aggregator that drops out: PARTY_DROPPED at the recipient', () => {
    assert.throws(() => combine([new Uint32Array(4), undefined, new Uint32Array(4)], 3, 2), codeOf(PrivacyCodes.PARTY_DROPPED));
  });

  it('refuses replayed, foreign, misaddressed, mis-sized and malformed shares', () => {
    const a = new Aggregator(job, 1, 2, 2);
    const share = new Uint32Array(4);
    a.accept({ job, bank: 0, aggregator: 1, share });
    assert.throws(() => a.accept({ job, bank: 0, aggregator: 1, share }), codeOf(PrivacyCodes.REPLAYED));
    assert.throws(() => a.accept({ job: new Uint8Array(32), bank: 1, aggregator: 1, share }), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => a.accept({ job, bank: 1, aggregator: 0, share }), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => a.accept({ job, bank: 5, aggregator: 1, share }), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => a.accept({ job, bank: 1, aggregator: 1, share: new Uint32Array(6) }), codeOf(PrivacyCodes.SIZE_MISMATCH));
    const bytes = encodeShare({ job, bank: 1, aggregator: 1, share });
    assert.throws(() => decodeShare(bytes.subarray(0, bytes.length - 1)), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => decodeShare(new Uint8Array(5)), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => vecFromAmounts([-1]), codeOf(PrivacyCodes.BAD_MESSAGE));
  });
});
