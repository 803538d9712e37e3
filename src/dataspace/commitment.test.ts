import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getSuite } from '../crypto/suites.js';
import { batchIdOf, recordIdAt, splitRecordId } from '../contracts/recordBatch.js';
import { BATCH_RECORDS_MAX, BatchTree, batchRoot, commit, inclusionProof, newSalt, verifyInclusion } from './commitment.js';
import { type Record, addYearsMs, dateMs, parseRecord } from './record.js';

const suite = getSuite('default');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function sample(i: number): Record {
  return {
    id: recordIdAt(batchIdOf(suite.hash, 'tax', 'ab'.repeat(16)), i),
    schema: 'tax-payment',
    subject: 'E:91110000600037341L',
    provider: 'tax',
    version: 1,
    data: { amountCents: 1000 + i, period: '2023-01' },
  };
}

describe('records and commitments', () => {
  it('commitment is H(salt || canonicalJson(record)) (known answer)', () => {
    const salt = new Uint8Array(32).fill(1);
    const r = sample(0);
    const canon = `{"data":{"amountCents":1000,"period":"2023-01"},"id":"${r.id}","provider":"tax","schema":"tax-payment","subject":"E:91110000600037341L","version":1}`;
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(salt), Buffer.from(canon)]))
      .digest('hex');
    assert.equal(hex(commit(suite, r, salt)), expected);
    assert.throws(() => commit(suite, r, new Uint8Array(16)), /salt/);
  });

  it('record ids are the batch id (H of provider and nonce, 28 bytes) and the index (known answer)', () => {
    const nonce = 'ab'.repeat(16);
    const batch = createHash('sha256').update(`{"domain":"credence/batch/v1","nonce":"${nonce}","provider":"tax"}`).digest('hex').slice(0, 56);
    assert.equal(batchIdOf(suite.hash, 'tax', nonce), batch);
    assert.equal(recordIdAt(batch, 0x1a2b), `${batch}00001a2b`);
    assert.deepEqual(splitRecordId(`${batch}00001a2b`), { batch, index: 0x1a2b });
    assert.notEqual(batchIdOf(suite.hash, 'bank', nonce), batch, 'another provider cannot take the batch id');
    assert.equal(splitRecordId('ab'.repeat(31)), undefined);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 28, maxLength: 28 }), fc.integer({ min: 0, max: BATCH_RECORDS_MAX - 1 }), (bytes, i) => {
        const b = hex(bytes);
        assert.deepEqual(splitRecordId(recordIdAt(b, i)), { batch: b, index: i });
      }),
    );
  });

  it('property: BatchTree gives the root and the proofs of the one-shot Merkle functions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (n, pick) => {
        const cs = Array.from({ length: n }, (_, i) => suite.hash(new Uint8Array([i & 255, i >> 8])));
        const tree = new BatchTree(suite, cs);
        assert.deepEqual(tree.root, batchRoot(suite, cs));
        const i = pick % n;
        assert.deepEqual(tree.proof(i), inclusionProof(suite, cs, i));
      }),
      { numRuns: 60 },
    );
  });

  it('property: every record of a batch is proven under the root; a changed record or salt is not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (n, pick) => {
        const records = Array.from({ length: n }, (_, i) => sample(i));
        const salts = records.map(() => newSalt());
        const cs = records.map((r, i) => commit(suite, r, salts[i] as Uint8Array));
        const root = batchRoot(suite, cs);
        const i = pick % n;
        const proof = inclusionProof(suite, cs, i);
        assert.ok(verifyInclusion(suite, root, cs[i] as Uint8Array, proof));
        const forged = commit(suite, { ...(records[i] as Record), data: { amountCents: 1, period: '2023-01' } }, salts[i] as Uint8Array);
        assert.ok(!verifyInclusion(suite, root, forged, proof));
        assert.ok(!verifyInclusion(suite, root, commit(suite, records[i] as Record, newSalt()), proof));
      }),
      { numRuns: 50 },
    );
  });

  it(`batches hold 1 to ${BATCH_RECORDS_MAX} records`, () => {
    assert.throws(() => batchRoot(suite, []), /batch/);
    const cs = Array.from({ length: BATCH_RECORDS_MAX + 1 }, () => new Uint8Array(32));
    assert.throws(() => batchRoot(suite, cs), /batch/);
    assert.equal(batchRoot(suite, cs.slice(1)).byteLength, 32);
  });

  it('parseRecord checks the shape and links', () => {
    const r = sample(1);
    assert.deepEqual(parseRecord(JSON.parse(JSON.stringify(r))), r);
    assert.throws(() => parseRecord({ ...r, version: 2 }), /version/);
    assert.throws(() => parseRecord({ ...r, subject: 'P:1234' }), /subject/);
    assert.throws(() => parseRecord({ ...r, extra: 1 }), /unknown field/);
    assert.throws(() => parseRecord({ ...r, conductEnd: '2023-02-30' }), /date/);
    assert.deepEqual(parseRecord({ ...r, version: 2, supersedes: r.id }).supersedes, r.id);
  });

  it('dates and retention arithmetic', () => {
    assert.equal(dateMs('2020-02-29'), Date.UTC(2020, 1, 29));
    assert.equal(addYearsMs('2019-06-30', 5), Date.UTC(2024, 5, 30));
    assert.equal(addYearsMs('2020-02-29', 5), Date.UTC(2025, 2, 1));
  });
});
