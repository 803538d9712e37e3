// Cutting an import into anchor transactions and the on-chain batch encoding: every batch
// fits the transaction args cap and the batch limits, no row is lost, duplicated or moved
// out of its subject's order, each subject is one run per batch, and the encoding round-trips
// through the contract's parser (known answer and property).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import { TX_LIMITS } from '../codec/tx.js';
import { type AnchorArgs, BATCH_LINKS_MAX, BATCH_RECORDS_MAX, BATCH_SUBJECTS_MAX, anchorArgsJson, parseAnchorArgs } from '../contracts/recordBatch.js';
import { conductEndMs } from '../contracts/records.js';
import { freshRandom } from '../crypto/randomPool.js';
import { toHex } from '../util/bytes.js';
import { anchorBatches } from './importer.js';

type Row = { i: number; subject: string; negative?: true; link?: true };

const usccSubject = (n: number) => `E:91330100MA2${String(n).padStart(7, '0')}`;
const personSubject = (n: number) => `P:${n.toString(16).padStart(64, '0')}`;

/** The arguments the importer would send for a batch, with worst-case values. */
function argsOf(batch: Row[]): AnchorArgs {
  const subjects: [string, number][] = [];
  for (const r of batch) {
    const last = subjects[subjects.length - 1];
    if (last?.[0] === r.subject) last[1]++;
    else subjects.push([r.subject, 1]);
  }
  return {
    schema: 'administrative-penalty',
    nonce: toHex(freshRandom(16)),
    root: toHex(freshRandom(32)),
    count: batch.length,
    subjects,
    negatives: batch.flatMap((r, i) => (r.negative ? [[i, 4_102_444_800_000] as const] : [])),
    links: batch.flatMap((r, i) => (r.link ? [[i, 'supersedes', toHex(freshRandom(32))] as const] : [])),
  };
}

describe('anchorBatches and the batch encoding', () => {
  it('known answer: the arguments of a two-subject batch', () => {
    const a: AnchorArgs = {
      schema: 'court-judgment',
      nonce: '00'.repeat(16),
      root: '11'.repeat(32),
      count: 3,
      subjects: [
        [usccSubject(1), 2],
        [personSubject(2), 1],
      ],
      negatives: [[1, 1_700_000_000_000]],
      links: [],
    };
    assert.equal(
      Buffer.from(canonicalJsonBytes(anchorArgsJson(a))).toString(),
      `{"count":3,"negatives":[[1,1700000000000]],"nonce":"${'00'.repeat(16)}","root":"${'11'.repeat(32)}","schema":"court-judgment","subjects":[["E:91330100MA20000001",2],["P:${'0'.repeat(63)}2",1]]}`,
    );
    assert.deepEqual(parseAnchorArgs(anchorArgsJson(a), conductEndMs), a);
  });

  it('5,000 tax-payment rows of 16 per SME go in one transaction', () => {
    const rows: Row[] = Array.from({ length: 5000 }, (_, i) => ({ i, subject: usccSubject(Math.floor(i / 16)) }));
    const batches = anchorBatches(rows);
    assert.equal(batches.length, 1);
    assert.ok(canonicalJsonBytes(anchorArgsJson(argsOf(batches[0] as Row[]))).byteLength <= TX_LIMITS.argsBytesMax);
  });

  it('property: rows kept in subject order, limits held, arguments fit and parse back', () => {
    const rowArb = fc.record(
      { s: fc.integer({ min: 0, max: 900 }), person: fc.boolean(), negative: fc.boolean(), link: fc.integer({ min: 0, max: 9 }) },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 3000 }), fc.integer({ min: 2000, max: 70_000 }), (specs, cap) => {
        const rows: Row[] = specs.map((r, i) => ({
          i,
          subject: r.person ? personSubject(r.s) : usccSubject(r.s),
          ...(r.negative ? { negative: true as const } : {}),
          ...(r.link === 0 ? { link: true as const } : {}),
        }));
        const batches = anchorBatches(rows, cap);
        const flat = batches.flat();
        assert.deepEqual(
          flat.map((r) => r.i).sort((x, y) => x - y),
          rows.map((r) => r.i),
        );
        const seen = new Map<string, number>();
        for (const r of flat) {
          assert.ok((seen.get(r.subject) ?? -1) < r.i, 'a subject’s rows stay in order');
          seen.set(r.subject, r.i);
        }
        for (const b of batches) {
          const args = argsOf(b);
          assert.ok(b.length >= 1 && b.length <= BATCH_RECORDS_MAX);
          assert.ok(args.subjects.length <= BATCH_SUBJECTS_MAX && (args.links?.length ?? 0) <= BATCH_LINKS_MAX);
          const json = anchorArgsJson(args);
          if (b.length > 1) assert.ok(canonicalJsonBytes(json).byteLength <= cap, `args of ${canonicalJsonBytes(json).byteLength} bytes > ${cap}`);
          assert.deepEqual(parseAnchorArgs(json, conductEndMs), args);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('the parser refuses runs that do not cover the batch, repeated subjects and unordered indexes', () => {
    const base = argsOf([
      { i: 0, subject: usccSubject(1), negative: true },
      { i: 1, subject: usccSubject(2), negative: true },
    ]);
    const code = (a: AnchorArgs) => {
      try {
        parseAnchorArgs(anchorArgsJson(a), conductEndMs);
        return 'OK';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    assert.equal(code(base), 'OK');
    assert.equal(code({ ...base, count: 3 }), 'BAD_ANCHOR');
    assert.equal(
      code({
        ...base,
        subjects: [
          [usccSubject(1), 1],
          [usccSubject(1), 1],
        ],
      }),
      'BAD_ANCHOR',
    );
    assert.equal(
      code({
        ...base,
        negatives: [
          [1, 0],
          [0, 0],
        ],
      }),
      'BAD_ANCHOR',
    );
    assert.equal(code({ ...base, negatives: [[2, 0]] }), 'BAD_ANCHOR');
    assert.equal(code({ ...base, subjects: [['110101199003074514', 2]] }), 'BAD_SUBJECT');
    assert.equal(code({ ...base, nonce: 'xyz' }), 'BAD_ANCHOR');
  });

  it('fresh random bytes are never handed out twice', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 2000; k++) seen.add(toHex(freshRandom(32)));
    assert.equal(seen.size, 2000);
    assert.throws(() => freshRandom(4096), RangeError);
  });
});
