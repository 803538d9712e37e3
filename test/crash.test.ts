// Fault test: SIGKILL the orderer host and a follower at random moments (fixed seed) while
// a client keeps submitting. After every restart each node is at a consistent height, every
// acknowledged (committed) transaction is still there exactly once, the network carries
// on, the nodes converge on the same head, and offline verification passes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rng } from '../src/util/rng.js';
import type { SubmitResult } from '../src/codec/api.js';
import { verifyDataDir } from '../src/node/verifyDataDir.js';
import type { CredenceClient } from '../src/sdk/client.js';
import { type TestNetwork, startNetwork } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Submit batches until stopped; collect the ids the node acknowledged as committed. */
function load(client: () => CredenceClient, acked: Set<string>, stop: { done: boolean }, seq: { n: number }): Promise<void> {
  return (async () => {
    while (!stop.done) {
      const c = client();
      try {
        const txs = await Promise.all(
          Array.from({ length: 40 }, () => {
            seq.n += 1;
            return c.signTx({ contract: 'kv', method: 'put', args: { key: `crash-${seq.n}`, value: seq.n } });
          }),
        );
        const res: SubmitResult[] = await c.submit(txs, { wait: true, timeoutMs: 5000 });
        for (const r of res) if (r.status === 'committed' && r.id !== null) acked.add(r.id);
      } catch {
        await sleep(50); // the node is down: keep trying
      }
    }
  })();
}

async function headsAgree(net: TestNetwork, timeoutMs: number): Promise<{ height: number; hash: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all([net.client(0).info(), net.client(1).info()]);
    const [a, b] = infos;
    if (a !== undefined && b !== undefined && a.headHash === b.headHash) return { height: a.height, hash: a.headHash };
    if (Date.now() > deadline) assert.fail(`nodes did not converge: ${a?.height}/${a?.headHash} vs ${b?.height}/${b?.headHash}`);
    await sleep(100);
  }
}

describe('SIGKILL under load', () => {
  let net: TestNetwork;
  before(async () => {
    net = await startNetwork({ orgs: 2 });
  });
  after(async () => {
    await net?.close();
  });

  it('restarts at a consistent height, loses nothing acknowledged, and converges', async () => {
    const rand = rng(20261121);
    const acked = new Set<string>();
    const seq = { n: 0 };
    const stop = { done: false };
    // Alternate clients between the two nodes so some load goes through the follower.
    let turn = 0;
    const running = load(() => net.client(turn++ % 2), acked, stop, seq);
    let lastHeights = [0, 0];
    for (let round = 0; round < 6; round++) {
      await sleep(300 + Math.floor(rand() * 700));
      const victim = rand() < 0.5 ? 0 : 1;
      await net.kill(victim, 'SIGKILL');
      await sleep(Math.floor(rand() * 300));
      await net.start(victim);
      const info = await net.client(victim).info();
      assert.ok(info.height >= (lastHeights[victim] ?? 0), `node ${victim} went back from ${lastHeights[victim]} to ${info.height}`);
      lastHeights = [...lastHeights];
      lastHeights[victim] = info.height;
    }
    await sleep(500);
    stop.done = true;
    await running;
    assert.ok(acked.size > 100, `the load made progress (${acked.size} acknowledged)`);

    const head = await headsAgree(net, 20_000);
    for (const i of [0, 1]) {
      const c = net.client(i);
      for (const id of acked) {
        const s = await c.tx(id);
        assert.equal(s.status, 'committed', `acknowledged ${id} is committed on node ${i}`);
      }
    }
    // Exactly once: the index maps each id to one place, and no block holds an id twice.
    const seen = new Set<string>();
    for (let h = 1; h <= head.height; h++) {
      const b = await net.client(0).block(h);
      for (const id of b.txIds) {
        assert.ok(!seen.has(id) || b.results?.[b.txIds.indexOf(id)]?.code === 'TX_REPLAYED', `tx ${id} committed twice`);
        seen.add(id);
      }
    }
    await net.stop(0);
    await net.stop(1);
    for (const n of net.layout.nodes) {
      const report = await verifyDataDir(n.dataDir);
      assert.equal(report.ok, true, `${n.orgId}: ${report.reason}`);
      assert.equal(report.height, head.height);
    }
  });
});
