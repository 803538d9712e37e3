// The network commands as an operator runs them, as real processes: `network up` (3 etcd
// members and 2 nodes), `status` as a table and as JSON, a transaction through the CLI,
// `add-org` (refusing an existing id without touching its key, then adding one), and `down`,
// after which none of the processes it started is alive.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliAsync, freePorts } from './helpers.js';

/** Running (a zombie waiting for its new parent to reap it is not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** A transaction from the added org3: its final proof, checked offline, counts org3 too. */
async function finalProofCountsOrg3(data: string): Promise<void> {
  const config = join(data, 'nodes', 'org3', 'config.json');
  const tx = await cliAsync(['tx', 'submit', '--config', config, '--contract', 'kv', '--method', 'put', '--args', '{"key":"b","value":2}']);
  assert.equal(tx.status, 0, tx.stderr);
  const id = (JSON.parse(tx.stdout) as { id: string }).id;
  const file = join(data, 'final.json');
  let verdict: { final?: boolean; members?: string[]; needed?: number } = {};
  for (let k = 0; k < 40 && verdict.final !== true; k++) {
    if (k > 0) await new Promise((r) => setTimeout(r, 300));
    await cliAsync(['tx', 'proof', id, '--final', '--config', config, '--out', file]);
    const v = await cliAsync(['proof', 'verify', file, '--genesis', join(data, 'genesis.json'), '--require-final']);
    verdict = JSON.parse(v.stdout || '{}') as typeof verdict;
  }
  assert.equal(verdict.final, true, JSON.stringify(verdict));
  assert.deepEqual(verdict.members, ['org1', 'org2', 'org3']);
  assert.equal(verdict.needed, 2);
}

describe('credence network up | status | add-org | down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'credence-netcli-'));
  const data = join(dir, 'net');
  after(async () => {
    await cliAsync(['network', 'down', '--data', data], 60_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, reports, grows and stops a network', async () => {
    const [nodePort, etcdPort] = [await freePorts(3), await freePorts(6)];
    const upArgs = [
      'network',
      'up',
      '--ordering',
      'etcd',
      '--orgs',
      '2',
      '--data',
      data,
      '--base-port',
      String(nodePort),
      '--etcd-base-port',
      String(etcdPort),
    ];
    const up = await cliAsync(upArgs, 90_000);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stdout, /is up in .*2 organizations/);

    const tx = await cliAsync([
      'tx',
      'submit',
      '--config',
      join(data, 'nodes', 'org2', 'config.json'),
      '--contract',
      'kv',
      '--method',
      'put',
      '--args',
      '{"key":"a","value":1}',
    ]);
    assert.equal(tx.status, 0, tx.stderr);
    assert.equal(JSON.parse(tx.stdout).status, 'committed');

    const key1 = readFileSync(join(data, 'keys', 'org1.key.pem'), 'utf8');
    const dup = await cliAsync(['network', 'add-org', 'org1', '--data', data]);
    assert.equal(dup.status, 2);
    assert.match(dup.stderr, /error USAGE: organization org1 is already in this network/);
    assert.equal(readFileSync(join(data, 'keys', 'org1.key.pem'), 'utf8'), key1);
    const add = await cliAsync(['network', 'add-org', 'org3', '--data', data], 90_000);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /organization org3 joined/);

    await finalProofCountsOrg3(data);

    const table = await cliAsync(['network', 'status', '--data', data]);
    assert.equal(table.status, 0, table.stdout + table.stderr);
    assert.match(table.stdout, /^ORG +URL +STATUS +HEIGHT +FINAL +LAG/m);
    for (const org of ['org1', 'org2', 'org3']) assert.match(table.stdout, new RegExp(`^${org} +http://127\\.0\\.0\\.1:\\d+ +ok +[1-9]`, 'm'));
    assert.match(table.stdout, /^ETCD +ENDPOINT +HEALTH +ROLE/m);
    assert.equal((table.stdout.match(/^m[123] +http\S+ +up +(leader|follower)/gm) ?? []).length, 3);
    assert.match(table.stdout, /3\/3 nodes ok, head \d+, final \d+, max lag \d+ blocks; etcd 3\/3 members up/);

    const json = await cliAsync(['network', 'status', '--data', data, '--json']);
    const s = JSON.parse(json.stdout) as { nodes: { orgId: string; status: string; height: number }[]; etcd: { role: string }[] };
    assert.deepEqual(
      s.nodes.map((n) => n.orgId),
      ['org1', 'org2', 'org3'],
    );
    assert.ok(s.nodes.every((n) => n.status === 'ok' && n.height >= 2));
    assert.equal(s.etcd.filter((m) => m.role === 'leader').length, 1);

    const run = JSON.parse(readFileSync(join(data, 'run.json'), 'utf8')) as { nodes: Record<string, number>; etcd: Record<string, number> };
    const pids = [...Object.values(run.nodes), ...Object.values(run.etcd)];
    assert.equal(pids.length, 6);
    assert.ok(pids.every(alive));
    const down = await cliAsync(['network', 'down', '--data', data], 60_000);
    assert.equal(down.status, 0, down.stderr);
    assert.ok(!pids.some(alive), 'a process is still alive after network down');
    const after = await cliAsync(['network', 'status', '--data', data]);
    assert.equal(after.status, 1);
    assert.match(after.stdout, /0\/3 nodes ok.*etcd 0\/3 members up: NO QUORUM/);
    assert.ok(existsSync(join(data, 'nodes', 'org3', 'data')));
  });
});
