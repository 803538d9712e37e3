import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type BucketOp, bucketEntries, entryCount, isBucket, mergeBucket } from './bucketBlob.js';

/** The layout from its definition: entries sorted by key bytes, [u16be len | key | value hash]*. */
function encode(model: Map<string, Uint8Array>): Buffer {
  const keys = [...model.keys()].map((k) => Buffer.from(k, 'hex')).sort(Buffer.compare);
  return Buffer.concat(keys.flatMap((k) => [Buffer.from([k.length >> 8, k.length & 255]), k, model.get(k.toString('hex')) as Uint8Array]));
}

const key = fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b).toString('hex'));
const valueHash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const opsArb = fc.dictionary(key, fc.option(valueHash, { nil: undefined }), { maxKeys: 12 });

describe('bucketBlob', () => {
  it('merging any ops into any bucket gives the encoding of the merged map', () => {
    fc.assert(
      fc.property(fc.dictionary(key, valueHash, { maxKeys: 12 }), opsArb, (start, writes) => {
        const model = new Map(Object.entries(start));
        const blob = encode(model);
        assert.ok(isBucket(blob));
        const ops: BucketOp[] = Object.entries(writes).map(([k, l]) => ({ keyBytes: Buffer.from(k, 'hex'), valueHash: l }));
        for (const [k, l] of Object.entries(writes)) {
          if (l === undefined) model.delete(k);
          else model.set(k, l);
        }
        const merged = mergeBucket(blob, ops);
        assert.equal(merged.toString('hex'), encode(model).toString('hex'));
        assert.ok(isBucket(merged));
        assert.equal(entryCount(merged), model.size);
        assert.deepEqual(
          bucketEntries(merged).map((e) => e.keyBytes.toString('hex')),
          [...model.keys()]
            .map((k) => Buffer.from(k, 'hex'))
            .sort(Buffer.compare)
            .map((k) => k.toString('hex')),
        );
        const sortedKeys = [...model.keys()].map((k) => Buffer.from(k, 'hex')).sort(Buffer.compare);
        const hashes = sortedKeys.map((k) => Buffer.from(model.get(k.toString('hex')) as Uint8Array));
        assert.equal(Buffer.concat(bucketEntries(merged).map((e) => e.valueHash)).toString('hex'), Buffer.concat(hashes).toString('hex'));
      }),
    );
  });

  it('refuses damaged buckets: truncated, zero-length key, unsorted or repeated keys', () => {
    const l = new Uint8Array(32);
    const e = (k: number[]) => Buffer.concat([Buffer.from([0, k.length]), Buffer.from(k), l]);
    assert.ok(isBucket(Buffer.concat([e([1]), e([1, 0]), e([2])])));
    for (const bad of [
      e([1]).subarray(0, 20),
      Buffer.concat([e([1]), Buffer.from([0])]),
      Buffer.concat([Buffer.from([0, 0]), l]),
      Buffer.concat([e([2]), e([1])]),
      Buffer.concat([e([1]), e([1])]),
      Buffer.concat([e([1, 0]), e([1])]),
    ]) {
      assert.equal(isBucket(bad), false, bad.toString('hex'));
    }
  });
});
