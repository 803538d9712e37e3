// BlockCutter as a pure function of the log: for random logs of tx batches and cut markers,
// blocks respect the tx and byte limits, heights are consecutive, times never decrease, every
// tx appears once in order, stray markers are ignored, and equal logs (or a restart) cut equally.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type DecodedTx, type Tx, decodeTx, encodeTx } from '../codec/tx.js';
import { getSuite } from '../crypto/suites.js';
import type { OrderingParams } from '../ledger/genesis.js';
import { BlockCutter, type CutterState, type LogEntry } from './cutter.js';
import type { ProposedBlock } from './orderer.js';
import { PLACEHOLDER_TX } from '../../test/fixtures.js';

const SEED = 9001;
const BASE: Tx = PLACEHOLDER_TX;
const REAL = decodeTx(getSuite('default').hash, encodeTx(BASE));

/** The cutter only reads a tx's encoded size and keeps its identity; `idHex` names it here. */
function fakeTx(seq: number, bytes: number): DecodedTx {
  return { ...REAL, bytes: new Uint8Array(bytes), idHex: `tx${seq}` };
}

const sizeOf = (b: ProposedBlock): number => b.txs.reduce((n, t) => n + t.bytes.byteLength, 0);
const summary = (bs: readonly ProposedBlock[]) => bs.map((b) => ({ height: b.height, time: b.time, ids: b.txs.map((t) => t.idHex) }));

interface Scenario {
  params: OrderingParams;
  state: CutterState;
  log: LogEntry[];
}

type RawEntry = { kind: 'txs'; time: number; sizes: number[] } | { kind: 'cut'; time: number; dh: number };

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record(
    {
      blockTxMax: fc.integer({ min: 1, max: 6 }),
      blockBytesMax: fc.integer({ min: 20, max: 300 }),
      nextHeight: fc.integer({ min: 0, max: 1000 }),
      lastTime: fc.integer({ min: 0, max: 1_000_000 }),
      raw: fc.array(
        fc.oneof(
          {
            weight: 3,
            arbitrary: fc.record(
              {
                kind: fc.constant('txs' as const),
                time: fc.integer({ min: 0, max: 2_000_000 }),
                sizes: fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 6 }),
              },
              { noNullPrototype: true },
            ),
          },
          // Marker heights near the start, so some hit the open block and some do not.
          {
            weight: 2,
            arbitrary: fc.record(
              { kind: fc.constant('cut' as const), time: fc.integer({ min: 0, max: 2_000_000 }), dh: fc.integer({ min: -1, max: 12 }) },
              { noNullPrototype: true },
            ),
          },
        ),
        { maxLength: 40 },
      ),
    },
    { noNullPrototype: true },
  )
  .map(({ blockTxMax, blockBytesMax, nextHeight, lastTime, raw }) => {
    let seq = 0;
    const log = (raw as RawEntry[]).map(
      (e): LogEntry =>
        e.kind === 'txs' ? { kind: 'txs', time: e.time, txs: e.sizes.map((s) => fakeTx(seq++, s)) } : { kind: 'cut', time: e.time, height: nextHeight + e.dh },
    );
    return { params: { blockTxMax, blockBytesMax, cutTimeoutMs: 100 }, state: { nextHeight, lastTime }, log };
  });

function run(s: Scenario, from = 0, state = s.state): ProposedBlock[] {
  const c = new BlockCutter(s.params, state);
  return s.log.slice(from).flatMap((e) => c.push(e));
}

describe('BlockCutter properties', () => {
  it('limits, consecutive heights, monotonic times, each tx once in order, stray markers ignored', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const c = new BlockCutter(s.params, s.state);
        const blocks: ProposedBlock[] = [];
        const pushed: DecodedTx[] = [];
        let lastTime = s.state.lastTime;
        for (const e of s.log) {
          const heightBefore = c.nextHeight;
          const openBefore = c.openCount;
          const out = c.push(e);
          if (e.kind === 'cut') {
            if (e.height === heightBefore && openBefore > 0) {
              assert.equal(out.length, 1);
              assert.equal(out[0]?.txs.length, openBefore);
              assert.equal(out[0]?.time, Math.max(lastTime, e.time));
            } else {
              // A marker for another height (or an empty block) changes nothing.
              assert.equal(out.length, 0);
              assert.equal(c.nextHeight, heightBefore);
              assert.equal(c.openCount, openBefore);
            }
          } else {
            pushed.push(...e.txs);
            // Closed by the limits: full, or the next tx would not have fitted.
            for (const b of out) {
              const next = pushed[blocks.reduce((n, x) => n + x.txs.length, 0) + b.txs.length];
              const full = b.txs.length === s.params.blockTxMax;
              const overflow = next !== undefined && sizeOf(b) + next.bytes.byteLength > s.params.blockBytesMax;
              assert.ok(full || overflow, 'a block closes early only on a cut marker');
              assert.equal(b.time, Math.max(lastTime, e.time));
              blocks.push(b);
              lastTime = b.time;
            }
            continue;
          }
          for (const b of out) {
            blocks.push(b);
            lastTime = b.time;
          }
        }
        blocks.forEach((b, i) => {
          assert.equal(b.height, s.state.nextHeight + i, 'consecutive heights');
          assert.ok(b.time >= (i === 0 ? s.state.lastTime : (blocks[i - 1]?.time ?? 0)), 'time never decreases');
          assert.ok(b.txs.length >= 1 && b.txs.length <= s.params.blockTxMax, 'tx count within limits');
          assert.ok(b.txs.length === 1 || sizeOf(b) <= s.params.blockBytesMax, 'bytes within limits (a lone oversize tx gets its own block)');
        });
        assert.equal(c.nextHeight, s.state.nextHeight + blocks.length);
        const emitted = blocks.flatMap((b) => b.txs.map((t) => t.idHex));
        assert.deepEqual(
          emitted,
          pushed.slice(0, emitted.length).map((t) => t.idHex),
          'every tx once, in log order',
        );
        assert.equal(emitted.length + c.openCount, pushed.length);
      }),
      { numRuns: 400, seed: SEED },
    );
  });

  it('is deterministic: two cutters fed the same log cut identical blocks', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => assert.deepEqual(summary(run(s)), summary(run(s)))),
      { numRuns: 200, seed: SEED },
    );
  });

  it('restarting from the last block (height, time) wherever the open block is empty cuts the same blocks', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const all = run(s);
        const c = new BlockCutter(s.params, s.state);
        let done = 0;
        s.log.forEach((e, i) => {
          done += c.push(e).length;
          if (c.openCount !== 0) return;
          const last = all[done - 1];
          const state = last === undefined ? s.state : { nextHeight: last.height + 1, lastTime: last.time };
          assert.deepEqual(summary(run(s, i + 1, state)), summary(all.slice(done)));
        });
      }),
      { numRuns: 100, seed: SEED },
    );
  });
});

describe('BlockCutter examples', () => {
  const params: OrderingParams = { blockTxMax: 3, blockBytesMax: 100, cutTimeoutMs: 50 };

  it('cuts at blockTxMax, keeps the rest open, and reports when the open block began', () => {
    const c = new BlockCutter(params, { nextHeight: 5, lastTime: 1000 });
    assert.equal(c.openSince, undefined);
    const out = c.push({ kind: 'txs', time: 1010, txs: [1, 2, 3, 4].map((i) => fakeTx(i, 10)) });
    assert.deepEqual(summary(out), [{ height: 5, time: 1010, ids: ['tx1', 'tx2', 'tx3'] }]);
    assert.equal(c.nextHeight, 6);
    assert.equal(c.openCount, 1);
    assert.equal(c.openSince, 1010);
  });

  it('cuts before a tx that would overflow blockBytesMax; a lone oversize tx gets its own block', () => {
    const c = new BlockCutter(params, { nextHeight: 1, lastTime: 0 });
    const out = c.push({ kind: 'txs', time: 5, txs: [fakeTx(1, 60), fakeTx(2, 41), fakeTx(3, 500), fakeTx(4, 1)] });
    assert.deepEqual(
      out.map((b) => b.txs.map((t) => t.idHex)),
      [['tx1'], ['tx2'], ['tx3']],
    );
    assert.equal(c.openCount, 1);
  });

  it('a marker cuts only the open height; later markers for a closed height are ignored', () => {
    const c = new BlockCutter(params, { nextHeight: 1, lastTime: 100 });
    assert.deepEqual(c.push({ kind: 'cut', time: 150, height: 1 }), [], 'empty open block is not cut');
    c.push({ kind: 'txs', time: 120, txs: [fakeTx(1, 10)] });
    assert.deepEqual(c.push({ kind: 'cut', time: 200, height: 2 }), [], 'marker for a future height');
    assert.deepEqual(c.push({ kind: 'cut', time: 200, height: 0 }), [], 'marker for a past height');
    assert.deepEqual(summary(c.push({ kind: 'cut', time: 90, height: 1 })), [{ height: 1, time: 100, ids: ['tx1'] }], 'time never below lastTime');
    c.push({ kind: 'txs', time: 300, txs: [fakeTx(2, 10)] });
    assert.deepEqual(c.push({ kind: 'cut', time: 301, height: 1 }), [], 'a second marker for height 1');
    assert.equal(c.openCount, 1);
    assert.deepEqual(summary(c.push({ kind: 'cut', time: 302, height: 2 })), [{ height: 2, time: 302, ids: ['tx2'] }]);
  });

  it('an empty batch changes nothing', () => {
    const c = new BlockCutter(params, { nextHeight: 1, lastTime: 0 });
    assert.deepEqual(c.push({ kind: 'txs', time: 5, txs: [] }), []);
    assert.equal(c.openSince, undefined);
    assert.equal(c.nextHeight, 1);
  });
});
