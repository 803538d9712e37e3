// SoloOrderer with an injected clock: an open block is cut only once cutTimeoutMs has passed on
// that clock (or idleCutMs, when the consumer is idle; right after it finishes when busy), blocks reach a slow consumer one at a time and in order, block time never goes
// back with the clock, POOL_FULL bounds the queue, and a failed consumer stops ordering.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type DecodedTx, type Tx, decodeTx, encodeTx } from '../codec/tx.js';
import { getSuite } from '../crypto/suites.js';
import type { OrderingParams } from '../ledger/genesis.js';
import type { ProposedBlock } from './orderer.js';
import { SoloOrderer } from './solo.js';
import { PLACEHOLDER_TX, isCode } from '../../test/fixtures.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const BASE: Tx = PLACEHOLDER_TX;
const hash = getSuite('default').hash;
let nonce = 0;
/** Real decoded txs with distinct ids. */
const txs = (n: number): DecodedTx[] => Array.from({ length: n }, () => decodeTx(hash, encodeTx({ ...BASE, nonce: ++nonce })));

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

describe('SoloOrderer', () => {
  it('cuts a non-empty open block only after cutTimeoutMs on the injected clock', async () => {
    let clock = 1_000_000;
    const params: OrderingParams = { blockTxMax: 100, blockBytesMax: 1 << 20, cutTimeoutMs: 20 };
    const got: ProposedBlock[] = [];
    const o = new SoloOrderer({ params, state: { nextHeight: 3, lastTime: 0 }, now: () => clock, idleCutMs: 20 });
    await o.start((b) => {
      got.push(b);
    });
    try {
      // Nothing open: ticks cut nothing however much time passes.
      clock += 1000;
      await sleep(30);
      assert.equal(got.length, 0);
      const batch = txs(2);
      await o.submit(batch);
      clock += 19;
      await sleep(40); // several real ticks (every 5 ms), but the clock says 19 ms
      assert.equal(got.length, 0, 'not cut before the timeout');
      clock += 1;
      await until(() => got.length === 1, 'the timed cut');
      assert.equal(got[0]?.height, 3);
      assert.equal(got[0]?.time, 1_001_020);
      assert.deepEqual(
        got[0]?.txs.map((t) => t.idHex),
        batch.map((t) => t.idHex),
      );
      await sleep(30);
      assert.equal(got.length, 1, 'one cut per open block');
    } finally {
      await o.stop();
    }
  });

  it('cuts idleCutMs after the first transaction when the consumer is idle, and right after the consumer finishes when it is busy', async () => {
    let clock = 2_000_000;
    const params: OrderingParams = { blockTxMax: 100, blockBytesMax: 1 << 20, cutTimeoutMs: 10_000 };
    const got: ProposedBlock[] = [];
    let release: () => void = () => {};
    const o = new SoloOrderer({ params, state: { nextHeight: 1, lastTime: 0 }, now: () => clock, idleCutMs: 5 });
    await o.start(async (b) => {
      got.push(b);
      if (b.height === 1) await new Promise<void>((r) => (release = r));
    });
    try {
      await o.submit(txs(2));
      clock += 4;
      await sleep(20);
      assert.equal(got.length, 0, 'not cut before idleCutMs on the injected clock');
      clock += 1;
      await until(() => got.length === 1, 'the idle cut');
      assert.equal(got[0]?.txs.length, 2);
      // The consumer is busy with block 1: block 2 stays open, however long, below cutTimeoutMs.
      await o.submit(txs(3));
      clock += 500;
      await sleep(30);
      await o.submit(txs(1));
      await sleep(20);
      assert.equal(got.length, 1, 'no cut while the consumer is busy');
      release();
      await until(() => got.length === 2, 'the cut after the consumer finished');
      assert.equal(got[1]?.txs.length, 4, 'the block holds what arrived during the busy time');
    } finally {
      release();
      await o.stop();
    }
  });

  it('delivers blocks in height order, one at a time, to a slow consumer (random batches)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 4 }), async (sizes, blockTxMax) => {
        let clock = 5000;
        const o = new SoloOrderer({
          params: { blockTxMax, blockBytesMax: 1 << 20, cutTimeoutMs: 10 },
          state: { nextHeight: 1, lastTime: 0 },
          now: () => clock,
        });
        const got: ProposedBlock[] = [];
        let inFlight = 0;
        let overlap = false;
        await o.start(async (b) => {
          inFlight++;
          overlap ||= inFlight > 1;
          await sleep(b.height % 3);
          got.push(b);
          inFlight--;
        });
        try {
          const sent: DecodedTx[] = [];
          for (const n of sizes) {
            const batch = txs(n);
            sent.push(...batch);
            await o.submit(batch);
            clock += 3;
          }
          clock += 10; // let the timer cut whatever is left open
          await until(() => got.reduce((n, b) => n + b.txs.length, 0) === sent.length, 'all txs delivered');
          assert.equal(overlap, false, 'the consumer is never re-entered');
          got.forEach((b, i) => {
            assert.equal(b.height, i + 1);
            assert.ok(b.txs.length <= blockTxMax);
            if (i > 0) assert.ok(b.time >= (got[i - 1]?.time ?? 0));
          });
          assert.deepEqual(
            got.flatMap((b) => b.txs.map((t) => t.idHex)),
            sent.map((t) => t.idHex),
          );
        } finally {
          await o.stop();
        }
      }),
      { numRuns: 15, seed: 7 },
    );
  });

  it('block time never goes back when the clock does, nor below the chain head time', async () => {
    let clock = 2000;
    const got: ProposedBlock[] = [];
    const o = new SoloOrderer({
      params: { blockTxMax: 1, blockBytesMax: 1 << 20, cutTimeoutMs: 1000 },
      state: { nextHeight: 10, lastTime: 3000 },
      now: () => clock,
    });
    await o.start((b) => {
      got.push(b);
    });
    try {
      await o.submit(txs(1));
      clock = 5000;
      await o.submit(txs(1));
      clock = 4000;
      await o.submit(txs(1));
      await until(() => got.length === 3, 'three blocks');
      assert.deepEqual(
        got.map((b) => [b.height, b.time]),
        [
          [10, 3000],
          [11, 5000],
          [12, 5000],
        ],
      );
    } finally {
      await o.stop();
    }
  });

  it('refuses with POOL_FULL once queueBlocksMax blocks wait for a stuck consumer', async () => {
    const seen: number[] = [];
    const o = new SoloOrderer({
      params: { blockTxMax: 1, blockBytesMax: 1 << 20, cutTimeoutMs: 1000 },
      state: { nextHeight: 1, lastTime: 0 },
      now: () => 1,
      queueBlocksMax: 2,
    });
    await o.start((b) => {
      seen.push(b.height);
      return new Promise<void>(() => {}); // never resolves
    });
    try {
      await o.submit(txs(1)); // block 1: handed to the consumer, which never returns
      await o.submit(txs(1)); // block 2: queued
      await o.submit(txs(1)); // block 3: queued (2 waiting)
      await assert.rejects(o.submit(txs(1)), isCode('POOL_FULL'));
      await assert.rejects(o.submit(txs(1)), isCode('POOL_FULL'));
      assert.deepEqual(seen, [1]);
    } finally {
      await o.stop();
    }
  });

  it('after a consumer failure, submit refuses with UNAVAILABLE', async () => {
    const o = new SoloOrderer({ params: { blockTxMax: 1, blockBytesMax: 1 << 20, cutTimeoutMs: 1000 }, state: { nextHeight: 1, lastTime: 0 }, now: () => 1 });
    let calls = 0;
    await o.start(() => {
      calls++;
      throw new Error('commit failed');
    });
    try {
      await o.submit(txs(1));
      await until(() => calls === 1, 'the failing consumer');
      await sleep(5);
      await assert.rejects(o.submit(txs(1)), isCode('UNAVAILABLE'));
      assert.equal(calls, 1);
    } finally {
      await o.stop();
    }
  });
});
