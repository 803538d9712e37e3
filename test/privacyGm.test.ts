// Secure aggregation on a `gm` chain between real node processes (SM2 node keys sign the
// aggregators' sealing keys; shares and partial sums are sealed with SM2-ECDH + SM4): the totals
// equal the plain sums and the job is done on chain.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNetwork, type TestNetwork } from './helpers.js';

let net: TestNetwork;

interface Status {
  local: { status: string; result?: { totals: Record<string, number> }; error?: { code: string } } | null;
  chain: { status: string; participants: string[] } | null;
}

describe('secure aggregation on a gm chain', () => {
  before(async () => {
    net = await startNetwork({ orgs: 4, suite: 'gm' });
  });
  after(() => net?.close());

  it('sealed with the gm suite, the totals equal the plain sums and the job is done on chain', async () => {
    const smes = Array.from({ length: 20 }, (_, i) => `91350100G${String(i).padStart(8, '0')}Z`);
    const book = smes.filter((_, i) => i % 3 !== 1).map((c, i) => `${c},${(i + 1) * 1_000_003}`);
    await net.client(1).request('PUT', '/v1/privacy/datasets/loans', new Uint8Array(Buffer.from(book.join('\n'))));
    await net.client(0).request('PUT', '/v1/privacy/datasets/smes', new Uint8Array(Buffer.from(smes.join('\n'))));
    const n = net.layout.nodes;
    const job = await net.client(0).request<{ id: string }>('POST', '/v1/privacy/aggregate', {
      dataset: 'smes',
      banks: [{ org: 'org2', url: n[1]?.url ?? '', dataset: 'loans' }],
      aggregators: [
        { org: 'org3', url: n[2]?.url ?? '' },
        { org: 'org4', url: n[3]?.url ?? '' },
      ],
    });
    let s: Status | undefined;
    for (let i = 0; i < 200 && (s?.local?.status ?? 'running') === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await net.client(0).request<Status>('GET', `/v1/privacy/jobs/${job.id}`);
    }
    assert.equal(s?.local?.status, 'done', JSON.stringify(s));
    const want: Record<string, number> = Object.fromEntries(smes.map((c) => [c, 0]));
    for (const row of book) {
      const [c, a] = row.split(',');
      want[c as string] = Number(a);
    }
    assert.deepEqual(s?.local?.result?.totals, want);
    assert.equal(s?.chain?.status, 'done');
  });
});
