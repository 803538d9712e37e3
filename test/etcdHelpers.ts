// A real etcd-ordered network for tests: three etcd members and N nodes as child processes on
// free loopback ports, everything under one temporary directory.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdMemberPlan, planEtcd, spawnEtcd, waitEtcdReady } from '../src/cli/etcdCluster.js';
import type { OrderingParams } from '../src/ledger/genesis.js';
import { type TestNetwork, freePorts, startNetwork } from './helpers.js';

export interface EtcdTestNetwork extends TestNetwork {
  readonly etcd: {
    readonly members: EtcdMemberPlan[];
    readonly procs: (ChildProcess | undefined)[];
    start(i: number): void;
    kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  };
}

export async function startEtcdNetwork(o: {
  orgs: number;
  retainBlocks?: number;
  ordering?: Partial<OrderingParams>;
  extraKeys?: number;
  noStart?: boolean;
}): Promise<EtcdTestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'credence-etcd-test-'));
  const members = planEtcd(dir, '127.0.0.1', await freePorts(6), 3);
  const token = `t${Date.now()}`;
  const procs: (ChildProcess | undefined)[] = members.map((m) => spawnEtcd(m, members, token));
  const etcd = {
    members,
    procs,
    start(i: number) {
      const m = members[i];
      if (m !== undefined) procs[i] = spawnEtcd(m, members, token);
    },
    async kill(i: number, signal: NodeJS.Signals = 'SIGKILL') {
      const p = procs[i];
      if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill(signal);
      await exited;
    },
  };
  const endpoints = members.map((m) => m.clientUrl);
  try {
    await waitEtcdReady(endpoints);
    const net = await startNetwork({
      dir,
      orgs: o.orgs,
      ...(o.extraKeys === undefined ? {} : { extraKeys: o.extraKeys }),
      ...(o.ordering === undefined ? {} : { ordering: o.ordering }),
      ...(o.noStart ? { noStart: true } : {}),
      etcd: { endpoints, ...(o.retainBlocks === undefined ? {} : { retainBlocks: o.retainBlocks }) },
    });
    const close = net.close.bind(net);
    return Object.assign(net, {
      etcd,
      async close() {
        await Promise.all(members.map((_, i) => etcd.kill(i, 'SIGTERM')));
        await close();
      },
    });
  } catch (e) {
    await Promise.all(members.map((_, i) => etcd.kill(i)));
    throw e;
  }
}
