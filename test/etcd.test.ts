// Integration: a 3-organization network ordered on a 3-member etcd cluster. Transactions sent
// to different nodes land in one chain; every node has the same blocks and state roots;
// checkpoints make blocks final and the offline proof check accepts a final-block proof.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EtcdTestNetwork, startEtcdNetwork } from './etcdHelpers.js';
import { cli } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('etcd ordering', () => {
  let net: EtcdTestNetwork;
  before(async () => {
    net = await startEtcdNetwork({ orgs: 3 });
  });
  after(async () => {
    await net?.close();
  });

  it('orders transactions from every node into one identical chain', async () => {
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        [0, 1, 2].map(async (i) => {
          const c = net.client(i);
          const txs = await Promise.all(
            Array.from({ length: 20 }, (_, k) => c.signTx({ contract: 'kv', method: 'put', args: { key: `k-${round}-${i}-${k}`, value: k } })),
          );
          return c.submit(txs, { wait: true, timeoutMs: 20_000 });
        }),
      );
      for (const rs of results)
        for (const r of rs) {
          assert.equal(r.status, 'committed', JSON.stringify(r));
          if (r.id !== null) ids.push(r.id);
        }
    }
    let infos = await Promise.all([0, 1, 2].map((i) => net.client(i).info()));
    const deadline = Date.now() + 20_000;
    while (new Set(infos.map((i) => i.headHash)).size !== 1 && Date.now() < deadline) {
      await sleep(100);
      infos = await Promise.all([0, 1, 2].map((i) => net.client(i).info()));
    }
    assert.equal(new Set(infos.map((i) => i.headHash)).size, 1, `heads differ: ${JSON.stringify(infos)}`);
    for (const i of [0, 1, 2]) for (const id of ids) assert.equal((await net.client(i).tx(id)).status, 'committed');
  });

  it('makes blocks final by a majority of checkpoints, and proof verify accepts the final block', async () => {
    const c = net.client(1);
    const r = await c.call({ contract: 'kv', method: 'put', args: { key: 'final-me', value: 1 } });
    assert.equal(r.status, 'committed');
    const id = r.id as string;
    const height = r.height ?? Number.MAX_SAFE_INTEGER;
    let view = await c.request<{ finalHeight: number }>('GET', '/v1/network');
    const deadline = Date.now() + 15_000;
    while (view.finalHeight < height && Date.now() < deadline) {
      await sleep(100);
      view = await c.request<{ finalHeight: number }>('GET', '/v1/network');
    }
    assert.ok(view.finalHeight >= height, `block is final (final height ${view.finalHeight})`);
    const proof = await c.request<{ checkpoints: string[] }>('GET', `/v1/transactions/${id}/final-proof`);
    assert.ok(proof.checkpoints.length >= 2);
    const file = join(net.dir, 'final-proof.json');
    writeFileSync(file, JSON.stringify(proof));
    const ok = cli(['proof', 'verify', file, '--genesis', net.layout.genesisFile, '--require-final']);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /"final": true/);
    // Without enough checkpoints the same proof is not final.
    writeFileSync(file, JSON.stringify({ ...proof, checkpoints: proof.checkpoints.slice(0, 1) }));
    const notFinal = cli(['proof', 'verify', file, '--genesis', net.layout.genesisFile, '--require-final']);
    assert.equal(notFinal.status, 1);
  });
});
