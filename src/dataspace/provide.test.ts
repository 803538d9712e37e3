// When a provider records its gathered delivery outcomes: on the wall clock's multiples of
// OUTCOME_FLUSH_MS, so providers' outcome transactions share a block, and never later than
// OUTCOME_FLUSH_MS after an outcome.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OUTCOME_FLUSH_MS, untilFlush } from './provide.js';

describe('outcome flush times', () => {
  it('known answers', () => {
    assert.equal(untilFlush(5 * OUTCOME_FLUSH_MS), OUTCOME_FLUSH_MS);
    assert.equal(untilFlush(5 * OUTCOME_FLUSH_MS + 1), OUTCOME_FLUSH_MS - 1);
    assert.equal(untilFlush(6 * OUTCOME_FLUSH_MS - 1), 1);
  });

  it('a flush is at most OUTCOME_FLUSH_MS away and falls on a multiple of it, the same for every provider', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 0, max: OUTCOME_FLUSH_MS - 1 }), (now, skew) => {
        const at = now + untilFlush(now);
        assert.ok(untilFlush(now) > 0 && untilFlush(now) <= OUTCOME_FLUSH_MS);
        assert.equal(at % OUTCOME_FLUSH_MS, 0);
        // Two providers noting outcomes within the same period flush at the same moment.
        const start = at - OUTCOME_FLUSH_MS;
        assert.equal(start + skew + untilFlush(start + skew), at);
      }),
    );
  });
});
