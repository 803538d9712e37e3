// The load generator of `credence bench ledger`, run as its own process so the node under
// test and the client do not share an event loop. Phase 1 saturates the node with a closed
// loop of signed batches and measures the committed rate; phase 2 offers an open-loop load
// at a fraction of that rate and measures submit-to-commit latency. Prints one JSON line.

import { readFileSync } from 'node:fs';
import { loadSigner } from '../src/crypto/keyfile.js';
import { getSuite } from '../src/crypto/suites.js';
import { CredenceClient } from '../src/sdk/client.js';
import { presign } from './presign.js';

export interface LoadArgs {
  url: string;
  /** Spread the load over these nodes (default: just `url`). */
  urls?: string[];
  /** Processes whose CPU time to report over the saturation window (Linux /proc). */
  cpuPids?: number[];
  suite: string;
  chainId: string;
  authKeyFile: string;
  txKeyFiles: string[];
  saturateSeconds: number;
  warmupSeconds: number;
  latencySeconds: number;
  latencyLoadFraction: number;
  batch: number;
  concurrency: number;
  /** Upper bound on the rate, to size the pre-signed pool. */
  rateCeiling: number;
}

export interface LoadResult {
  txPerSec: number;
  saturatedP50Ms: number;
  saturatedP99Ms: number;
  loadTxPerSec: number;
  p50Ms: number;
  p99Ms: number;
  committed: number;
  rejected: number;
  presignSec: number;
  /** CPU seconds this client process used during the saturation window. */
  clientCpuSecSaturated: number;
  /** Transactions committed within the measured saturation window. */
  committedSaturated: number;
  /** CPU seconds each of `cpuPids` used within that window (null where unreadable). */
  pidCpuSecSaturated: (number | null)[];
  /** Where the CPU went during the latency phase (null where /proc is unreadable). */
  atLoad: LoadPhaseCpu;
}

/**
 * CPU during the latency phase, per committed transaction: all threads of `cpuPids`, their
 * main threads, this client, and the seconds every other process on the machine used (a
 * build or test run by someone else shows up here, not in our figures).
 */
export interface LoadPhaseCpu {
  pidsCpuUsPerTx: number | null;
  pidsMainThreadCpuUsPerTx: number | null;
  clientCpuUsPerTx: number;
  otherProcessesCpuSec: number | null;
}

/** The rate and latency figures of a load run, as the benchmarks report them. */
export function rateFields(l: LoadResult) {
  const { txPerSec, p50Ms, p99Ms, loadTxPerSec, saturatedP50Ms, saturatedP99Ms } = l;
  return { txPerSec, p50Ms, p99Ms, loadTxPerSec, saturatedP50Ms, saturatedP99Ms };
}

/**
 * CPU seconds (all threads) a process has used, from /proc on Linux; undefined elsewhere.
 * `pid` may also be "PID/task/TID" for one thread.
 */
export function cpuSeconds(pid: number | string | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has spent busy, all cores (/proc/stat); undefined elsewhere. */
function machineBusySeconds(): number | undefined {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return undefined;
    // user nice system idle iowait irq softirq steal
    return (f.reduce((sum, x) => sum + x, 0) - (f[3] as number) - (f[4] as number)) / 100;
  } catch {
    return undefined;
  }
}

interface CpuSnapshot {
  pids: number | undefined;
  mains: number | undefined;
  machine: number | undefined;
  client: NodeJS.CpuUsage;
}

function cpuSnapshot(pids: readonly number[]): CpuSnapshot {
  const sum = (xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? undefined : xs.reduce((s: number, x) => s + (x as number), 0));
  return {
    pids: sum(pids.map((p) => cpuSeconds(p))),
    mains: sum(pids.map((p) => cpuSeconds(`${p}/task/${p}`))),
    machine: machineBusySeconds(),
    client: process.cpuUsage(),
  };
}

function phaseCpu(a: CpuSnapshot, b: CpuSnapshot, committed: number): LoadPhaseCpu {
  const n = Math.max(1, committed);
  const diff = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? undefined : y - x);
  const us = (sec: number | undefined) => (sec === undefined ? null : Math.round((sec * 1e6) / n));
  const client = process.cpuUsage(a.client);
  const clientSec = (client.user + client.system) / 1e6;
  const pidsSec = diff(a.pids, b.pids);
  const machineSec = diff(a.machine, b.machine);
  const other = machineSec === undefined || pidsSec === undefined ? null : Math.max(0, Math.round((machineSec - pidsSec - clientSec) * 10) / 10);
  return {
    pidsCpuUsPerTx: us(pidsSec),
    pidsMainThreadCpuUsPerTx: us(diff(a.mains, b.mains)),
    clientCpuUsPerTx: Math.round((clientSec * 1e6) / n),
    otherProcessesCpuSec: other,
  };
}

/** The CPU seconds of `pids` at time `at` (performance.now() clock). */
function cpuAt(pids: readonly number[], at: number): Promise<(number | undefined)[]> {
  return new Promise((r) => setTimeout(() => r(pids.map(cpuSeconds)), Math.max(0, at - performance.now())));
}

function percentile(samples: { ms: number; n: number }[], p: number): number {
  const sorted = [...samples].sort((a, b) => a.ms - b.ms);
  const total = sorted.reduce((s, x) => s + x.n, 0);
  let acc = 0;
  for (const s of sorted) {
    acc += s.n;
    if (acc >= total * p) return Math.round(s.ms * 10) / 10;
  }
  return Number.NaN;
}

const log = (s: string) => process.stderr.write(`[load] ${s}\n`);

async function saturate(clients: CredenceClient[], pool: Uint8Array[], a: LoadArgs) {
  let next = 0;
  let rejected = 0;
  const t0 = performance.now();
  const from = t0 + a.warmupSeconds * 1000;
  const until = from + a.saturateSeconds * 1000;
  const pids = a.cpuPids ?? [];
  const [cpu0, cpu1] = [cpuAt(pids, from), cpuAt(pids, until)];
  let inWindow = 0;
  const lat: { ms: number; n: number }[] = [];
  const worker = async (w: number) => {
    const client = clients[w % clients.length] as CredenceClient;
    while (performance.now() < until && next < pool.length) {
      const batch = pool.slice(next, next + a.batch);
      next += batch.length;
      const s = performance.now();
      const res = await client.submit(batch, { wait: true, timeoutMs: 30_000 });
      const e = performance.now();
      const ok = res.filter((r) => r.status === 'committed').length;
      rejected += res.length - ok;
      if (e >= from && e <= until) {
        inWindow += ok;
        lat.push({ ms: e - s, n: ok });
      }
    }
  };
  await Promise.all(Array.from({ length: a.concurrency }, (_, w) => worker(w)));
  if (next >= pool.length) log('warning: the pre-signed pool ran out before the end of the window');
  const [c0, c1] = [await cpu0, await cpu1];
  const pidCpu = c0.map((v, i) => (v === undefined || c1[i] === undefined ? null : Math.round(((c1[i] as number) - v) * 100) / 100));
  return { txPerSec: inWindow / a.saturateSeconds, lat, rejected, inWindow, pidCpu };
}

async function steady(clients: CredenceClient[], pool: Uint8Array[], rate: number, seconds: number, pids: readonly number[]) {
  const cpu0 = cpuSnapshot(pids);
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const lat: { ms: number; n: number }[] = [];
  const inflight: Promise<void>[] = [];
  let next = 0;
  let rejected = 0;
  const t0 = performance.now();
  for (let tick = 0; performance.now() - t0 < seconds * 1000 && next < pool.length; tick++) {
    const batch = pool.slice(next, next + perTick);
    next += batch.length;
    const s = performance.now();
    const client = clients[tick % clients.length] as CredenceClient;
    inflight.push(
      client.submit(batch, { wait: true, timeoutMs: 30_000 }).then((res) => {
        const ok = res.filter((r) => r.status === 'committed').length;
        rejected += res.length - ok;
        lat.push({ ms: performance.now() - s, n: ok });
      }),
    );
    const wait = t0 + (tick + 1) * tickMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inflight);
  const cpu = phaseCpu(
    cpu0,
    cpuSnapshot(pids),
    lat.reduce((s, x) => s + x.n, 0),
  );
  const offered = next / seconds;
  return { lat, rejected, offered, cpu };
}

export async function runLoad(a: LoadArgs): Promise<LoadResult> {
  const suite = getSuite(a.suite);
  const signer = loadSigner(suite, a.authKeyFile);
  const clients = (a.urls ?? [a.url]).map((url) => new CredenceClient({ url, suite, signer, chainId: a.chainId, timeoutMs: 60_000 }));
  const keyPems = a.txKeyFiles.map((f) => readFileSync(f, 'utf8'));
  const job = { suite: a.suite, keyPems, chainId: a.chainId, ttlMs: 15 * 60 * 1000 };
  const sizeA = Math.ceil(a.rateCeiling * (a.saturateSeconds + a.warmupSeconds + 2));
  const ps = performance.now();
  log(`pre-signing ${sizeA} transactions on all cores`);
  const poolA = await presign({ ...job, prefix: 'sat' }, sizeA);
  const presignSec = (performance.now() - ps) / 1000;
  log(`saturating for ${a.warmupSeconds}+${a.saturateSeconds} s (batches of ${a.batch}, ${a.concurrency} in flight over ${clients.length} node(s))`);
  const cpu0 = process.cpuUsage();
  const sat = await saturate(clients, poolA, a);
  const cpu = process.cpuUsage(cpu0);
  poolA.length = 0;
  const rate = sat.txPerSec * a.latencyLoadFraction;
  log(`committed ${Math.round(sat.txPerSec)} tx/s; now offering ${Math.round(rate)} tx/s for ${a.latencySeconds} s`);
  const poolB = await presign({ ...job, prefix: 'lat' }, Math.ceil(rate * (a.latencySeconds + 1)));
  const st = await steady(clients, poolB, rate, a.latencySeconds, a.cpuPids ?? []);
  return {
    txPerSec: Math.round(sat.txPerSec),
    saturatedP50Ms: percentile(sat.lat, 0.5),
    saturatedP99Ms: percentile(sat.lat, 0.99),
    loadTxPerSec: Math.round(st.offered),
    p50Ms: percentile(st.lat, 0.5),
    p99Ms: percentile(st.lat, 0.99),
    committed: sat.lat.reduce((s, x) => s + x.n, 0) + st.lat.reduce((s, x) => s + x.n, 0),
    rejected: sat.rejected + st.rejected,
    presignSec: Math.round(presignSec * 10) / 10,
    clientCpuSecSaturated: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
    committedSaturated: sat.inWindow,
    pidCpuSecSaturated: sat.pidCpu,
    atLoad: st.cpu,
  };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\0') && process.argv[2] !== undefined) {
  runLoad(JSON.parse(process.argv[2]) as LoadArgs)
    .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
    .catch((e) => {
      process.stderr.write(`load generator failed: ${(e as Error).message}\n`);
      process.exit(1);
    });
}
