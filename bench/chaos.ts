// `credence chaos`: an etcd-ordered network under steady load while a seeded schedule of
// faults hits it — SIGKILL a node and restart it, SIGKILL one etcd member of three,
// SIGSTOP a node and later SIGCONT it, SIGKILL two etcd members (ordering must stop and
// nothing may fork) and bring them back. Afterwards every node must hold every acknowledged
// transaction exactly once, and all nodes the same block hashes and state roots.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SubmitResult } from '../src/codec/api.js';
import { NetworkProcesses, createEtcdNetwork, nodeClient } from '../src/cli/netops.js';
import type { CredenceClient } from '../src/sdk/client.js';
import { rng } from '../src/util/rng.js';

export interface ChaosOptions {
  readonly durationSec: number;
  readonly seed: number;
  readonly orgs: number;
  readonly basePort: number;
  readonly etcdBasePort?: number;
  /** Small, so that killed or paused nodes fall behind the log and must sync from peers. */
  readonly retainBlocks?: number;
  readonly log?: (s: string) => void;
  readonly keep?: boolean;
}

export interface ChaosReport {
  readonly seed: number;
  readonly durationSec: number;
  readonly faults: number;
  readonly faultLog: string[];
  readonly acknowledged: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly diverged: number;
  readonly forkedWhileOrderingDown: number;
  readonly maxRecoveryMs: number;
  readonly recoveryMs: Record<string, number[]>;
  readonly height: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAULTS = ['kill-node', 'kill-etcd-member', 'pause-node', 'kill-two-etcd'] as const;
type Fault = (typeof FAULTS)[number];

class Load {
  readonly acked = new Set<string>();
  private seq = 0;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly clients: CredenceClient[]) {}

  start(): void {
    this.clients.forEach((c, i) => {
      this.loops.push(this.loop(c, i));
    });
  }

  private async loop(c: CredenceClient, i: number): Promise<void> {
    while (!this.stopped) {
      try {
        const txs = await Promise.all(
          Array.from({ length: 20 }, () => {
            this.seq += 1;
            return c.signTx({ contract: 'kv', method: 'put', args: { key: `chaos-${i}-${this.seq}`, value: this.seq } });
          }),
        );
        const res: SubmitResult[] = await c.submit(txs, { wait: true, timeoutMs: 5000 });
        for (const r of res) if (r.status === 'committed' && r.id !== null) this.acked.add(r.id);
      } catch {
        await sleep(100); // node down or ordering stopped: keep trying
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'credence-chaos-'));
  const net = createEtcdNetwork({
    dir,
    orgs: o.orgs,
    basePort: o.basePort,
    ...(o.etcdBasePort === undefined ? {} : { etcdBasePort: o.etcdBasePort }),
    retainBlocks: o.retainBlocks ?? 20,
    chainId: 'credence-chaos',
    ordering: { cutTimeoutMs: 50 },
  });
  const procs = new NetworkProcesses(net);
  const rand = rng(o.seed);
  const clients = net.layout.nodes.map((_, i) => nodeClient(net, i, 8000));
  const recovery: Record<string, number[]> = {};
  const faultLog: string[] = [];
  let forked = 0;
  const load = new Load(clients);
  try {
    await procs.up(log);
    load.start();
    const end = Date.now() + o.durationSec * 1000;
    for (let k = 0; Date.now() < end; k++) {
      await sleep(500 + Math.floor(rand() * 1000));
      const fault = FAULTS[k % FAULTS.length] as Fault;
      const t0 = Date.now();
      const { what, restoredAt, extra } = await inject(fault, procs, clients, rand);
      forked += extra;
      const ms = await recovered(clients, restoredAt);
      faultLog.push(`${what}: recovered in ${ms} ms (fault took ${restoredAt - t0} ms)`);
      log(faultLog[faultLog.length - 1] as string);
      recovery[fault] = [...(recovery[fault] ?? []), ms];
    }
    await load.stop();
    const check = await verifyNetwork(clients, load.acked);
    return {
      seed: o.seed,
      durationSec: o.durationSec,
      faults: faultLog.length,
      faultLog,
      acknowledged: load.acked.size,
      ...check,
      forkedWhileOrderingDown: forked,
      maxRecoveryMs: Math.max(0, ...Object.values(recovery).flat()),
      recoveryMs: recovery,
    };
  } finally {
    await load.stop();
    await procs.down();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function inject(
  fault: Fault,
  procs: NetworkProcesses,
  clients: CredenceClient[],
  rand: () => number,
): Promise<{ what: string; restoredAt: number; extra: number }> {
  const node = Math.floor(rand() * clients.length);
  const member = Math.floor(rand() * 3);
  switch (fault) {
    case 'kill-node': {
      await procs.killNode(node, 'SIGKILL');
      await sleep(300 + Math.floor(rand() * 1200));
      procs.startNode(node);
      await procs.waitNode(node, 60_000);
      return { what: `SIGKILL node ${node + 1}, restart`, restoredAt: Date.now(), extra: 0 };
    }
    case 'kill-etcd-member': {
      await procs.killEtcd(member, 'SIGKILL');
      await sleep(500 + Math.floor(rand() * 1500));
      procs.startEtcd(member);
      return { what: `SIGKILL etcd m${member + 1}, restart`, restoredAt: Date.now(), extra: 0 };
    }
    case 'pause-node': {
      await procs.killNode(node, 'SIGSTOP');
      await sleep(1000 + Math.floor(rand() * 2000));
      await procs.killNode(node, 'SIGCONT');
      return { what: `SIGSTOP node ${node + 1}, SIGCONT`, restoredAt: Date.now(), extra: 0 };
    }
    case 'kill-two-etcd': {
      const other = (member + 1 + Math.floor(rand() * 2)) % 3;
      await procs.killEtcd(member, 'SIGKILL');
      await procs.killEtcd(other, 'SIGKILL');
      // Ordering must stop: let in-flight blocks settle, then no node may move or fork.
      await sleep(1000);
      const before = await heights(clients);
      await sleep(1500);
      const after = await heights(clients);
      const moved = after.filter((h, i) => h !== null && before[i] !== null && h > (before[i] as number)).length;
      const forks = await forkedHeads(clients);
      procs.startEtcd(member);
      procs.startEtcd(other);
      return {
        what: `SIGKILL etcd m${member + 1} and m${other + 1} (nodes that moved while down: ${moved}), restart both`,
        restoredAt: Date.now(),
        extra: moved + forks,
      };
    }
  }
}

async function heights(clients: CredenceClient[]): Promise<(number | null)[]> {
  return Promise.all(
    clients.map((c) =>
      c
        .info()
        .then((i) => i.height)
        .catch(() => null),
    ),
  );
}

/** Heights at which two reachable nodes hold different blocks (checked at the lowest head). */
async function forkedHeads(clients: CredenceClient[]): Promise<number> {
  const hs = (await heights(clients)).filter((h): h is number => h !== null);
  if (hs.length < 2) return 0;
  const h = Math.min(...hs);
  const hashes = await Promise.all(
    clients.map((c) =>
      c
        .block(h)
        .then((b) => b.hash)
        .catch(() => null),
    ),
  );
  return new Set(hashes.filter((x) => x !== null)).size > 1 ? 1 : 0;
}

/** Milliseconds from `since` until a new transaction commits and every node has caught up to it. */
async function recovered(clients: CredenceClient[], since: number): Promise<number> {
  const deadline = Date.now() + 120_000;
  let target: number | undefined;
  while (Date.now() < deadline) {
    if (target === undefined) {
      try {
        const c = clients[Math.floor(Math.random() * clients.length)] as CredenceClient;
        const r = await c.call({ contract: 'kv', method: 'put', args: { key: 'chaos-probe', value: Date.now() } }, 5000);
        if (r.status === 'committed') target = r.height;
      } catch {
        // not yet
      }
    } else {
      const hs = await heights(clients);
      if (hs.every((h) => h !== null && h >= (target as number))) return Date.now() - since;
    }
    await sleep(50);
  }
  throw new Error('the network did not recover within 120 s');
}

/** Wait for all nodes to agree, then compare every block and look up every acknowledged id. */
export async function verifyNetwork(
  clients: CredenceClient[],
  acked: Set<string>,
): Promise<{ lost: number; duplicated: number; diverged: number; height: number }> {
  let hs = await heights(clients);
  const deadline = Date.now() + 60_000;
  while ((hs.some((h) => h === null) || new Set(hs).size > 1) && Date.now() < deadline) {
    await sleep(200);
    hs = await heights(clients);
  }
  const height = Math.min(...hs.map((h) => h ?? 0));
  let diverged = 0;
  const committedOk = new Map<string, number>();
  for (let from = 1; from <= height; from += 100) {
    const ranges = await Promise.all(clients.map((c) => c.blocks(from, 100)));
    const first = ranges[0] ?? [];
    first.forEach((b, k) => {
      if (b.header.height > height) return;
      if (ranges.some((r) => r[k]?.hash !== b.hash || r[k]?.header.stateRoot !== b.header.stateRoot)) diverged += 1;
      b.txIds.forEach((id, j) => {
        if (b.results?.[j]?.code !== 'TX_REPLAYED') committedOk.set(id, (committedOk.get(id) ?? 0) + 1);
      });
    });
  }
  let lost = 0;
  for (const id of acked) {
    for (const c of clients) {
      const s = await c.tx(id).catch(() => undefined);
      if (s?.status !== 'committed') lost += 1;
    }
  }
  const duplicated = [...committedOk.values()].filter((n) => n > 1).length;
  return { lost, duplicated, diverged, height };
}
