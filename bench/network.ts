// `credence bench network --orgs N --ordering etcd`: N nodes and a 3-member etcd cluster on
// this machine, measured like `bench ledger`: the load generator runs in its own process and
// spreads signed batches over all nodes; phase 1 saturates the network (closed loop) for
// txPerSec, phase 2 offers 80% of that rate (open loop) for p50/p99. Every node verifies and
// executes every transaction, so on one machine the ceiling is verifyPerSecLimit / orgs
// (measured in the same run). Because wall-clock rates depend on what else the machine runs,
// it also reports CPU microseconds per transaction for each node, etcd and the client, against
// the CPU microseconds of one raw signature verification: those hold on a loaded machine.
// Prints a human summary on stderr and, last, one JSON line.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetworkProcesses, createEtcdNetwork } from '../src/cli/netops.js';
import { getSuite } from '../src/crypto/suites.js';
import { measureVerifyLimit } from '../src/crypto/verifyPool.js';
import { type LoadArgs, type LoadResult, rateFields } from './ledgerLoad.js';

export interface NetworkBenchOptions {
  readonly orgs: number;
  readonly seconds: number;
  readonly latencySeconds: number;
  readonly basePort: number;
  readonly batch: number;
  /** Batches in flight per node during saturation. */
  readonly concurrency: number;
  /** The genesis cut timeout (default 50 ms, as in `bench ledger`). */
  readonly cutTimeoutMs?: number;
  readonly keep?: boolean;
}

const CUT_TIMEOUT_MS = 50;
const say = (s: string) => process.stderr.write(`${s}\n`);
const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits;

/** CPU microseconds of one signature verification on this thread (not wall time). */
async function rawVerifyCpuUs(): Promise<number> {
  const suite = getSuite('default');
  const key = suite.generateSigningKey();
  const digest = suite.hash(new Uint8Array(64));
  const sig = await suite.signerFromPem(key.privateKeyPem).sign(digest);
  for (let i = 0; i < 200; i++) suite.verify(key.publicKey, digest, sig);
  const n = 3000;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) suite.verify(key.publicKey, digest, sig);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

function runLoad(args: LoadArgs): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./ledgerLoad.js', import.meta.url));
  const child = execFile(process.execPath, [script, JSON.stringify(args)], { maxBuffer: 16 * 1024 * 1024 });
  child.stderr?.pipe(process.stderr);
  return new Promise<LoadResult>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as LoadResult) : reject(new Error(`load generator exited with ${code}`)),
    );
  });
}

/** CPU µs per committed transaction from CPU seconds over the saturation window. */
function perTx(cpuSec: readonly (number | null)[], committed: number): number[] {
  return cpuSec.map((s) => (s === null ? Number.NaN : round((s * 1e6) / Math.max(1, committed))));
}

export async function runNetworkBench(o: NetworkBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'credence-netbench-'));
  const net = createEtcdNetwork({
    dir,
    orgs: o.orgs,
    basePort: o.basePort,
    chainId: 'credence-netbench',
    extraKeys: 4,
    ordering: { cutTimeoutMs: o.cutTimeoutMs ?? CUT_TIMEOUT_MS },
  });
  const cores = availableParallelism();
  const procs = new NetworkProcesses(net);
  try {
    say(`measuring the raw verification rate on ${cores} cores…`);
    const limit = Math.round((await measureVerifyLimit('default', { seconds: 3, threads: cores })).verifyPerSec);
    const verifyCpuUs = await rawVerifyCpuUs();
    const ceiling = limit / o.orgs;
    say(`verifyPerSecLimit = ${limit} (${round(verifyCpuUs, 1)} CPU µs per verify); ceiling with ${o.orgs} orgs = ${Math.round(ceiling)} tx/s`);
    say('starting etcd and the nodes…');
    await procs.up(say);
    const nodePids = procs.nodeProcs.map((c) => c?.pid ?? 0);
    const etcdPids = procs.etcdProcs.map((c) => c?.pid ?? 0);
    const first = net.layout.nodes[0];
    if (first === undefined) throw new Error('no node');
    const load0 = loadavg()[0] ?? 0;
    const load = await runLoad({
      url: first.url,
      urls: net.layout.nodes.map((n) => n.url),
      suite: 'default',
      chainId: net.layout.chainId,
      authKeyFile: first.keyFile,
      txKeyFiles: net.layout.nodes.flatMap((n) => n.extraKeyFiles),
      saturateSeconds: o.seconds,
      warmupSeconds: 3,
      latencySeconds: o.latencySeconds,
      latencyLoadFraction: 0.8,
      batch: o.batch,
      concurrency: o.concurrency * o.orgs,
      rateCeiling: Math.min(ceiling * 1.5, 20_000),
      cpuPids: [...nodePids, ...etcdPids],
    });
    const cpu = perTx(load.pidCpuSecSaturated, load.committedSaturated);
    const nodeCpu = cpu.slice(0, o.orgs);
    const etcdCpu = cpu.slice(o.orgs);
    const nodeCpuUsPerTx = round(nodeCpu.reduce((a, b) => a + b, 0) / nodeCpu.length);
    const clientCpuUsPerTx = round((load.clientCpuSecSaturated * 1e6) / Math.max(1, load.committedSaturated));
    const etcdCpuUsPerTx = round(etcdCpu.reduce((a, b) => a + b, 0));
    return {
      bench: 'network',
      ordering: 'etcd',
      orgs: o.orgs,
      cores,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAvg1mAtStart: round(load0, 2),
      loadAvg1mAtEnd: round(loadavg()[0] ?? 0, 2),
      seconds: o.seconds,
      latencySeconds: o.latencySeconds,
      batch: o.batch,
      concurrencyPerNode: o.concurrency,
      cutTimeoutMs: o.cutTimeoutMs ?? CUT_TIMEOUT_MS,
      ...rateFields(load),
      verifyPerSecLimit: limit,
      ceilingTxPerSec: Math.round(ceiling),
      ratioToCeiling: round(load.txPerSec / ceiling, 3),
      rawVerifyCpuUsPerTx: round(verifyCpuUs, 1),
      nodeCpuUsPerTx,
      nodeCpuUsPerTxEach: nodeCpu,
      nodeCpuPerVerify: round(nodeCpuUsPerTx / verifyCpuUs, 2),
      etcdCpuUsPerTx,
      clientCpuUsPerTx,
      /** The rate the measured CPU costs allow on these cores if nothing else ran. */
      cpuBoundTxPerSec: Math.round((cores * 1e6) / (nodeCpuUsPerTx * o.orgs + etcdCpuUsPerTx + clientCpuUsPerTx)),
      committed: load.committed,
      rejected: load.rejected,
      targetThroughputMet: load.txPerSec >= 0.4 * ceiling,
      targetLatencyMet: load.p99Ms <= 1000,
    };
  } finally {
    await procs.down();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
