// Cutting an import into anchor transactions: every batch fits the transaction args cap and
// the 500-record limit, no row is lost, duplicated or reordered.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import { TX_LIMITS } from '../codec/tx.js';
import { freshRandom } from '../crypto/randomPool.js';
import { toHex } from '../util/bytes.js';
import { BATCH_RECORDS_MAX } from './commitment.js';
import { anchorBatches } from './importer.js';

function item(i: number) {
  const anchor = { id: toHex(freshRandom(32)), subject: `E:91330100MA2${String(i).padStart(7, '0')}`, commitment: toHex(freshRandom(32)), negative: false };
  return { i, anchor, anchorBytes: canonicalJsonBytes(anchor).byteLength };
}

describe('anchorBatches', () => {
  it('keeps 500 realistic anchor items under the 64 KiB args cap by cutting them into two transactions', () => {
    const rows = Array.from({ length: BATCH_RECORDS_MAX }, (_, i) => item(i));
    const batches = anchorBatches(rows);
    assert.ok(batches.length >= 2);
    for (const b of batches) {
      const args = canonicalJsonBytes({ schema: 'tax-payment', root: '0'.repeat(64), items: b.map((r) => r.anchor) });
      assert.ok(args.byteLength <= TX_LIMITS.argsBytesMax, `args of ${args.byteLength} bytes`);
    }
  });

  it('never loses, repeats or reorders rows, and respects both limits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 1500 }), fc.integer({ min: 3000, max: 70_000 }), (sizes, cap) => {
        const rows = sizes.map((anchorBytes, i) => ({ i, anchorBytes }));
        const batches = anchorBatches(rows, cap);
        assert.deepEqual(
          batches.flat().map((r) => r.i),
          rows.map((r) => r.i),
        );
        for (const b of batches) {
          assert.ok(b.length >= 1 && b.length <= BATCH_RECORDS_MAX);
          if (b.length > 1) assert.ok(b.reduce((n, r) => n + r.anchorBytes + 1, 0) <= cap);
        }
      }),
    );
  });

  it('fresh random bytes are never handed out twice', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 2000; k++) seen.add(toHex(freshRandom(32)));
    assert.equal(seen.size, 2000);
    assert.throws(() => freshRandom(4096), RangeError);
  });
});
