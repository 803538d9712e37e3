// `credence bench ledger`: one node with solo ordering in its own process, a load generator
// in another, and the machine's raw signature-verification rate measured in the same run as
// the reference. Prints a human summary and, last, one JSON line.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetwork, genericOrgs } from '../src/cli/network.js';
import { spawnNode, stopNode, waitHealthy } from '../src/cli/processes.js';
import { measureVerifyLimit } from '../src/crypto/verifyPool.js';
import type { SuiteName } from '../src/crypto/suite.js';
import { type LoadArgs, type LoadResult, cpuSeconds } from './ledgerLoad.js';

export interface LedgerBenchOptions {
  readonly suite: SuiteName;
  readonly seconds: number;
  readonly latencySeconds: number;
  readonly port: number;
  readonly keep?: boolean;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

export async function runLedgerBench(o: LedgerBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'credence-bench-'));
  const layout = createNetwork({
    dir,
    orgs: genericOrgs(1),
    suite: o.suite,
    chainId: 'credence-bench',
    host: '127.0.0.1',
    basePort: o.port,
    extraKeys: 16,
    ordering: { blockTxMax: 4000, cutTimeoutMs: 50 },
  });
  const n = layout.nodes[0];
  if (n === undefined) throw new Error('no node');
  const cores = availableParallelism();
  say(`measuring the raw ${o.suite} verification rate on ${cores} cores…`);
  const limit = await measureVerifyLimit(o.suite, { seconds: 5, threads: cores });
  say(`verifyPerSecLimit = ${Math.round(limit.verifyPerSec)}`);
  const node = spawnNode(n.orgId, n.url, n.config, join(dir, 'node.out'));
  try {
    await waitHealthy(node);
    const args: LoadArgs = {
      url: n.url,
      suite: o.suite,
      chainId: layout.chainId,
      authKeyFile: n.keyFile,
      txKeyFiles: n.extraKeyFiles,
      saturateSeconds: o.seconds,
      warmupSeconds: 3,
      latencySeconds: o.latencySeconds,
      cpuPids: node.child.pid === undefined ? [] : [node.child.pid],
      latencyLoadFraction: 0.8,
      batch: 500,
      concurrency: 8,
      rateCeiling: Math.min(limit.verifyPerSec, 40_000),
    };
    const script = fileURLToPath(new URL('./ledgerLoad.js', import.meta.url));
    const nodeCpu0 = cpuSeconds(node.child.pid);
    const child = execFile(process.execPath, [script, JSON.stringify(args)], { maxBuffer: 16 * 1024 * 1024 });
    child.stderr?.pipe(process.stderr);
    const stdout = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`load generator exited with ${code}`))));
    });
    const load = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as LoadResult;
    const nodeCpu1 = cpuSeconds(node.child.pid);
    const nodeCpuUsPerTx = nodeCpu0 === undefined || nodeCpu1 === undefined ? null : Math.round(((nodeCpu1 - nodeCpu0) * 1e6) / Math.max(1, load.committed));
    const verifyPerSecLimit = Math.round(limit.verifyPerSec);
    return {
      bench: 'ledger',
      suite: o.suite,
      cores,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      seconds: o.seconds,
      txPerSec: load.txPerSec,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      loadTxPerSec: load.loadTxPerSec,
      saturatedP50Ms: load.saturatedP50Ms,
      saturatedP99Ms: load.saturatedP99Ms,
      verifyPerSecLimit,
      ratio: Math.round((load.txPerSec / verifyPerSecLimit) * 1000) / 1000,
      committed: load.committed,
      nodeCpuUsPerTx,
      clientCpuUsPerTx: Math.round((load.clientCpuSecSaturated * 1e6) / Math.max(1, load.txPerSec * o.seconds)),
      rawVerifyUsPerTx: Math.round((1e6 * cores) / verifyPerSecLimit),
      atLoad: {
        nodeCpuUsPerTx: load.atLoad.pidsCpuUsPerTx,
        nodeMainThreadCpuUsPerTx: load.atLoad.pidsMainThreadCpuUsPerTx,
        clientCpuUsPerTx: load.atLoad.clientCpuUsPerTx,
        otherProcessesCpuSec: load.atLoad.otherProcessesCpuSec,
      },
      rejected: load.rejected,
      targetThroughputMet: load.txPerSec >= 0.5 * verifyPerSecLimit,
      targetLatencyMet: load.p99Ms <= 500,
    };
  } finally {
    await stopNode(node);
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
