// `credence bench anchor`: one provider node (solo ordering, its own process, a real SQLite
// vault and chain), fed synthetic tax-payment rows over its REST import route, several calls
// in flight. Each record is validated, committed (salted hash), encrypted under its own data
// key, wrapped, stored, and anchored on chain in batches (a 5,000-row call of 16 rows per SME
// is one batch: its Merkle root and subject runs on chain). The reference, measured in
// the same run on this machine: the single-thread rate of the vault's own cryptography per
// record (two AEAD seals and a hash over the same bytes), i.e. what the node could do if
// import were nothing but crypto on one core.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJsonBytes } from '../src/codec/canonicalJson.js';
import { registerSchemas } from '../src/cli/data.js';
import { createNetwork, genericOrgs } from '../src/cli/network.js';
import { spawnNode, stopNode, waitHealthy } from '../src/cli/processes.js';
import { loadSigner } from '../src/crypto/keyfile.js';
import { getSuite } from '../src/crypto/suites.js';
import { SyntheticData } from '../src/dataspace/synthetic.js';
import { CredenceClient } from '../src/sdk/client.js';
import { ProviderClient } from '../src/sdk/provider.js';

export interface AnchorBenchOptions {
  readonly records: number;
  /** Records imported first, untimed, so that the timed part runs on compiled code (see docs/benchmarks.md, session 7). */
  readonly warmup: number;
  readonly concurrency: number;
  readonly port: number;
  readonly keep?: boolean;
}

type Row = { [k: string]: string | number | boolean };

const CALL_ROWS = 5000;
const say = (s: string) => process.stderr.write(`${s}\n`);

/** Tax-payment rows for enough synthetic SMEs (4 years × 4 quarters each), cut to `n`. */
function rows(n: number): Row[] {
  const data = new SyntheticData({ smes: Math.ceil(n / 16), persons: 0, years: 4 });
  const tax = data.sources().find((s) => s.schema === 'tax-payment')?.rows ?? [];
  return (tax as Row[]).slice(0, n);
}

/** Records per second of the vault's per-record crypto alone, one thread: seal + wrap + commit. */
export function referenceRate(sample: Row, seconds = 2): number {
  const suite = getSuite('default');
  const vaultKey = randomBytes(32);
  const plain = canonicalJsonBytes({ record: sample, salt: randomBytes(32).toString('hex') });
  const aad = new Uint8Array(64);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) {
      const dataKey = randomBytes(32);
      suite.encrypt(dataKey, plain, aad);
      suite.encrypt(vaultKey, dataKey, aad);
      suite.hash(plain);
    }
    n += 256;
  }
  return n / seconds;
}

/** CPU seconds (user + system) of a process, or of one of its threads, from /proc (Linux; 0 elsewhere). */
function cpuSeconds(pid: number | undefined, thread?: number): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of each thread of a process by thread id, from /proc (Linux; empty elsewhere). */
function threadCpu(pid: number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  if (pid === undefined) return out;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) out.set(Number(t), cpuSeconds(pid, Number(t)));
  } catch {
    // the process ended meanwhile
  }
  return out;
}

/** CPU µs per record of each thread that used any between two snapshots, busiest first. */
function threadCpuPerRecord(before: Map<number, number>, after: Map<number, number>, records: number): number[] {
  return [...after]
    .map(([tid, s]) => Math.round(((s - (before.get(tid) ?? 0)) * 1e6) / records))
    .filter((us) => us > 0)
    .sort((a, b) => b - a);
}

/** The rows as JSONL files of CALL_ROWS lines each, as a provider's source would be: bytes made once, before the clock starts. */
function jsonlCalls(all: readonly Row[]): { bytes: Uint8Array; firstRow: number }[] {
  const calls: { bytes: Uint8Array; firstRow: number }[] = [];
  for (let at = 0; at < all.length; at += CALL_ROWS) {
    const text = all
      .slice(at, at + CALL_ROWS)
      .map((r) => JSON.stringify(r))
      .join('\n');
    calls.push({ bytes: Buffer.from(text, 'utf8'), firstRow: at + 1 });
  }
  return calls;
}

async function importAll(
  provider: ProviderClient,
  calls: { bytes: Uint8Array; firstRow: number }[],
  concurrency: number,
  progress: (done: number) => void,
): Promise<number> {
  let next = 0;
  let anchored = 0;
  const worker = async () => {
    for (let call = calls[next++]; call !== undefined; call = calls[next++]) {
      const r = await provider.importJsonl('tax-payment', call.bytes, call.firstRow);
      if (r.errors.length > 0 || r.pending.length > 0)
        throw new Error(`import left ${r.errors.length} errors, ${r.pending.length} pending: ${r.errors[0]?.message}`);
      anchored += r.anchored;
      progress(anchored);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return anchored;
}

export async function runAnchorBench(o: AnchorBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'credence-bench-anchor-'));
  const layout = createNetwork({
    dir,
    orgs: genericOrgs(1),
    suite: 'default',
    chainId: 'credence-bench',
    host: '127.0.0.1',
    basePort: o.port,
    ordering: { blockTxMax: 4000, cutTimeoutMs: 20 },
  });
  const n = layout.nodes[0];
  if (n === undefined) throw new Error('no node');
  const suite = getSuite('default');
  const generated = rows(o.warmup + o.records);
  const warm = generated.slice(0, o.warmup);
  const all = generated.slice(o.warmup);
  say(`generated ${generated.length} tax-payment rows (${warm.length} to warm up)`);
  const cores = availableParallelism();
  const refPerSec = referenceRate(all[0] as Row);
  say(`reference: ${Math.round(refPerSec)} records/s of seal + wrap + commit crypto on one thread`);
  const node = spawnNode(n.orgId, n.url, n.config, join(dir, 'node.out'));
  try {
    await waitHealthy(node);
    const client = new CredenceClient({ url: n.url, suite, signer: loadSigner(suite, n.keyFile), chainId: layout.chainId });
    await registerSchemas(client, [], ['tax-payment']);
    const provider = new ProviderClient(client);
    const calls = jsonlCalls(all);
    const warmStart = performance.now();
    const warmed = await importAll(provider, jsonlCalls(warm), o.concurrency, (done) => process.stderr.write(`\rwarm-up ${done}/${warm.length}`));
    const warmSeconds = (performance.now() - warmStart) / 1000;
    if (warm.length > 0) process.stderr.write('\n');
    const load0 = loadavg()[0] ?? 0;
    const pid = node.child.pid;
    const cpu0 = { process: cpuSeconds(pid), main: cpuSeconds(pid, pid), threads: threadCpu(pid), client: process.cpuUsage() };
    const t0 = performance.now();
    const anchored = await importAll(provider, calls, o.concurrency, (done) => process.stderr.write(`\ranchored ${done}/${all.length}`));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = {
      process: cpuSeconds(pid) - cpu0.process,
      main: cpuSeconds(pid, pid) - cpu0.main,
      threads: threadCpu(pid),
      client: process.cpuUsage(cpu0.client),
    };
    process.stderr.write('\n');
    const stats = await provider.vaultStats();
    const recordsPerSec = Math.round(anchored / seconds);
    return {
      bench: 'anchor',
      cores,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavg1: Math.round(load0 * 100) / 100,
      records: anchored,
      vaultLive: stats.live - warmed,
      concurrency: o.concurrency,
      // The untimed warm-up import on the same node, before the timed one: the first records of a fresh node pay V8's compilation of the import path.
      warmupRecords: warmed,
      warmupRecordsPerSec: warmed === 0 ? null : Math.round(warmed / warmSeconds),
      seconds: Math.round(seconds * 100) / 100,
      recordsPerSec,
      // CPU the node spent per record (all its threads, and its main thread alone), from /proc: steadier than wall time on a shared machine.
      nodeCpuUsPerRecord: Math.round((cpu.process * 1e6) / anchored),
      nodeMainThreadCpuUsPerRecord: Math.round((cpu.main * 1e6) / anchored),
      // The node's CPU per record of each busy thread (main, seal workers, V8's GC helpers ...), and the bench client's own.
      nodeThreadCpuUsPerRecord: threadCpuPerRecord(cpu0.threads, cpu.threads, anchored),
      clientCpuUsPerRecord: Math.round((cpu.client.user + cpu.client.system) / anchored),
      referenceCryptoPerSec: Math.round(refPerSec),
      ratio: Math.round((recordsPerSec / refPerSec) * 1000) / 1000,
      target: 50_000,
      targetMet: recordsPerSec >= 50_000,
    };
  } finally {
    await stopNode(node);
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
