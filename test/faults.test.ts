// Fault tests on a real etcd-ordered network (fixed seed, bounded time): under steady load,
// SIGKILL and restart nodes, SIGKILL one etcd member of three, SIGSTOP/SIGCONT a node, and
// SIGKILL two etcd members (ordering stops, nothing forks) and bring them back. The log is
// compacted aggressively, so lagging nodes must sync blocks from their peers. Afterwards:
// every acknowledged transaction committed exactly once on every node, identical block
// hashes and state roots, and the recovery times are reported.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChaos } from '../bench/chaos.js';
import { freePorts } from './helpers.js';

describe('fault mix on an etcd network', () => {
  it('loses, duplicates and forks nothing, and recovers from every fault', async (t) => {
    const base = await freePorts(3);
    const etcdBase = await freePorts(6);
    const report = await runChaos({ durationSec: 40, seed: 20261121, orgs: 3, basePort: base, etcdBasePort: etcdBase, retainBlocks: 10 });
    t.diagnostic(`faults: ${report.faultLog.join('; ')}`);
    t.diagnostic(
      `acknowledged ${report.acknowledged}, height ${report.height}, max recovery ${report.maxRecoveryMs} ms, by fault ${JSON.stringify(report.recoveryMs)}`,
    );
    assert.ok(report.faults >= 4, `every kind of fault ran (${report.faults})`);
    assert.ok(report.acknowledged > 100, `the load made progress (${report.acknowledged})`);
    assert.equal(report.lost, 0, 'acknowledged transactions missing on some node');
    assert.equal(report.duplicated, 0, 'transactions committed more than once');
    assert.equal(report.diverged, 0, 'heights where nodes hold different blocks or state roots');
    assert.equal(report.forkedWhileOrderingDown, 0, 'nodes advanced or forked while etcd had no majority');
  });
});
