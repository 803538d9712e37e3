// waitNodeHealthy must not mistake another node on the same port for ours.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { waitNodeHealthy } from '../src/cli/processes.js';

describe('waitNodeHealthy', () => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', orgId: 'other-org', height: 3, reasons: [] }));
  });
  after(() => server.close());

  it('waits for the named node and times out when a different node answers', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await waitNodeHealthy(url, 'other-org', undefined, 2000);
    await assert.rejects(waitNodeHealthy(url, 'org1', undefined, 500), { code: 'TIMEOUT' });
  });
});
