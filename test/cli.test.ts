// The operator's path through the real CLI: create a network, start its nodes, submit and
// query, govern, and the README's demo command (`credence demo --exit --data DIR`).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, describe, it } from 'node:test';
import { type NodeProcess, spawnNode, stopNode, waitHealthy } from '../src/cli/processes.js';
import type { NetworkLayout } from '../src/cli/network.js';
import { SMALL_SCALE, SyntheticData } from '../src/dataspace/synthetic.js';
import { cli, cliAsync, freePorts } from './helpers.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe('credence CLI', () => {
  const dirs: string[] = [];
  const procs: NodeProcess[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => stopNode(p)));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('prints help and refuses bad usage with a clear error', () => {
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    for (const cmd of ['network', 'node', 'tx', 'verify', 'proof', 'demo', 'bench']) assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
    const bad = cli(['network', 'create', '--dir', join(tmpdir(), 'x'), '--orgs', '0']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /error USAGE: --orgs must be from 1 to 64/);
    const noNode = cli(['info', '--url', 'http://127.0.0.1:1']);
    assert.equal(noNode.status, 1);
    assert.match(noNode.stderr, /error UNAVAILABLE: cannot reach node/);
  });

  it('creates a network, starts it, submits, queries and governs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'credence-cli-'));
    dirs.push(dir);
    const base = await freePorts(3);
    const created = cli(['network', 'create', '--dir', dir, '--orgs', '3', '--base-port', String(base), '--suite', 'gm']);
    assert.equal(created.status, 0, created.stderr);
    const layout = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkLayout;
    assert.equal(layout.suite, 'gm');
    for (const n of layout.nodes) {
      const p = spawnNode(n.orgId, n.url, n.config, join(dir, `${n.orgId}.out`));
      procs.push(p);
      await waitHealthy(p);
    }
    const [n0, n1, n2] = layout.nodes;
    assert.ok(n0 && n1 && n2);
    const put = cli(['tx', 'submit', '--config', n1.config, '--contract', 'kv', '--method', 'put', '--args', '{"key":"greeting","value":"hello"}']);
    assert.equal(put.status, 0, put.stderr);
    assert.equal(JSON.parse(put.stdout).status, 'committed');
    const refused = cli(['tx', 'submit', '--config', n1.config, '--contract', 'kv', '--method', 'del', '--args', '{"key":"missing"}']);
    assert.equal(refused.status, 1);
    assert.equal(JSON.parse(refused.stdout).code, 'NOT_FOUND');
    const state = cli(['state', 'kv/org2/greeting', '--config', n2.config]);
    assert.equal(state.status, 0, state.stderr);
    assert.equal(JSON.parse(state.stdout).value, 'hello');
    const prop = cli(['gov', 'propose', '--config', n0.config, '--set-policy', 'txTtlMaxMs=600000']);
    assert.equal(prop.status, 0, prop.stderr);
    const id = JSON.parse(prop.stdout).value.proposalId as number;
    const vote = cli(['gov', 'vote', String(id), '--yes', '--config', n2.config]);
    assert.equal(vote.status, 0, vote.stderr);
    assert.equal(JSON.parse(vote.stdout).value.status, 'passed');
    const shown = cli(['gov', 'show', String(id), '--config', n1.config]);
    assert.equal(JSON.parse(shown.stdout).status, 'passed');
    const info = cli(['info', '--config', n2.config]);
    assert.equal(JSON.parse(info.stdout).suite, 'gm');
  });

  it('runs the README demo with --exit: the data story, verifiable data directories, no personal data outside vaults', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'credence-demo-'));
    dirs.push(dir);
    const base = await freePorts(7);
    const r = await cliAsync(['demo', '--exit', '--small', '--data', dir, '--base-port', String(base)], 300_000);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all 7 nodes agree on block/);
    assert.match(r.stdout, /9 credit-data schemas registered/);
    assert.match(r.stdout, /bank-b asked for person's records without a consent: refused \(CONSENT_NOT_FOUND\)/);
    assert.match(r.stdout, /bank-a asked for sme's .* records: authorized and logged on chain/);
    assert.match(r.stdout, /the record is marked as disputed on chain at once/);
    assert.match(r.stdout, /the report shows the dispute mark and the subject's statement/);
    assert.match(r.stdout, /court resolved the dispute \(upheld\)/);
    assert.ok(existsSync(join(dir, 'reports', 'report-sme.html')));
    assert.match(r.stdout, /the chain shows the record expired/);
    assert.match(r.stdout, /demo complete/);
    for (const org of ['zj-credit', 'tax', 'court', 'bank-a', 'js-credit', 'bank-b', 'regulator'])
      assert.ok(existsSync(join(dir, 'nodes', org, 'data', 'chain.db')));
    assert.ok(existsSync(join(dir, 'sources', 'tax-tax-payment.jsonl')));
    const v = cli(['verify', join(dir, 'nodes', 'court', 'data')]);
    assert.equal(v.status, 0, v.stdout);
    // Privacy: outside the providers' vaults and sources/, no raw resident ID number and no record content.
    const data = new SyntheticData(SMALL_SCALE);
    const needles = [...data.persons, 'sales contract dispute', 'private lending dispute', 'Hangzhou Xihu District Court'];
    // reports/ is bank-a's own copy of the report it was authorized to receive (it holds record content by design).
    const files = walk(dir).filter((f) => !f.includes(`${sep}vault${sep}`) && !f.startsWith(join(dir, 'sources')) && !f.startsWith(join(dir, 'reports')));
    assert.ok(files.some((f) => f.endsWith('chain.db')) && files.some((f) => f.endsWith('node.log')));
    for (const f of files) {
      const text = readFileSync(f).toString('latin1');
      const utf = readFileSync(f).toString('utf8');
      for (const n of needles) assert.ok(!text.includes(n) && !utf.includes(n), `${f} contains synthetic personal data or record content`);
    }
  });
});
