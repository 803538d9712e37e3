// `credence bench network --orgs N --ordering etcd`: N nodes and a 3-member etcd cluster on
// this machine, transactions pre-signed before the clock starts, then a closed loop of
// signed batches spread over all nodes. Every node verifies every transaction, so on one
// machine the ceiling is verifyPerSecLimit / orgs (measured in the same run). Prints a human
// summary on stderr and, last, one JSON line.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkProcesses, createEtcdNetwork, nodeClient } from '../src/cli/netops.js';
import { measureVerifyLimit } from '../src/crypto/verifyPool.js';
import { presign } from './presign.js';

export interface NetworkBenchOptions {
  readonly orgs: number;
  readonly seconds: number;
  readonly basePort: number;
  readonly batch: number;
  readonly concurrency: number;
  readonly keep?: boolean;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number) * 10) / 10;
}

export async function runNetworkBench(o: NetworkBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'credence-netbench-'));
  const net = createEtcdNetwork({ dir, orgs: o.orgs, basePort: o.basePort, chainId: 'credence-netbench', extraKeys: 4, ordering: { cutTimeoutMs: 50 } });
  const cores = availableParallelism();
  const procs = new NetworkProcesses(net);
  try {
    say(`measuring the raw verification rate on ${cores} cores…`);
    const limit = Math.round((await measureVerifyLimit('default', { seconds: 3, threads: cores })).verifyPerSec);
    const ceiling = limit / o.orgs;
    say(`verifyPerSecLimit = ${limit}; ceiling with ${o.orgs} orgs = ${Math.round(ceiling)} tx/s`);
    const count = Math.ceil(Math.min(ceiling, 20_000) * (o.seconds + 5) * 1.2);
    say(`pre-signing ${count} transactions…`);
    const keyPems = net.layout.nodes.flatMap((n) => n.extraKeyFiles).map((f) => readFileSync(f, 'utf8'));
    const pool = await presign({ suite: 'default', keyPems, chainId: net.layout.chainId, prefix: 'nb', ttlMs: 30 * 60_000 }, count);
    say('starting etcd and the nodes…');
    await procs.up(say);
    const clients = net.layout.nodes.map((_, i) => nodeClient(net, i, 60_000));
    let next = 0;
    let committed = 0;
    let rejected = 0;
    const lat: number[] = [];
    const warmupMs = 3000;
    const t0 = performance.now();
    const from = t0 + warmupMs;
    const until = from + o.seconds * 1000;
    const load0 = loadavg()[0] ?? 0;
    const worker = async (w: number) => {
      const c = clients[w % clients.length];
      if (c === undefined) return;
      while (performance.now() < until && next < pool.length) {
        const batch = pool.slice(next, next + o.batch);
        next += batch.length;
        const s = performance.now();
        const res = await c.submit(batch, { wait: true, timeoutMs: 30_000 });
        const e = performance.now();
        const ok = res.filter((r) => r.status === 'committed').length;
        rejected += res.length - ok;
        if (e >= from && e <= until) {
          committed += ok;
          for (let k = 0; k < ok; k++) lat.push(e - s);
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency * clients.length }, (_, w) => worker(w)));
    if (next >= pool.length) say('warning: the pre-signed pool ran out before the end of the window');
    lat.sort((a, b) => a - b);
    const txPerSec = Math.round(committed / o.seconds);
    const p99Ms = percentile(lat, 0.99);
    const heads = await Promise.all(clients.map((c) => c.info()));
    return {
      bench: 'network',
      ordering: 'etcd',
      orgs: o.orgs,
      cores,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAvgAtStart: Math.round(load0 * 100) / 100,
      seconds: o.seconds,
      batch: o.batch,
      concurrencyPerNode: o.concurrency,
      txPerSec,
      p50Ms: percentile(lat, 0.5),
      p99Ms,
      verifyPerSecLimit: limit,
      ceilingTxPerSec: Math.round(ceiling),
      ratioToCeiling: Math.round((txPerSec / ceiling) * 1000) / 1000,
      committed,
      rejected,
      height: Math.min(...heads.map((h) => h.height)),
      targetThroughputMet: txPerSec >= 0.4 * ceiling,
      targetLatencyMet: p99Ms <= 1000,
    };
  } finally {
    await procs.down();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
