// Shared helpers for the real-process integration tests: make a network on free loopback
// ports in a temp directory, start node processes, get signed clients, and clean up.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NetworkLayout, createNetwork, genericOrgs } from '../src/cli/network.js';
import { CLI_MAIN, type NodeProcess, spawnNode, stopNode, waitHealthy } from '../src/cli/processes.js';
import { loadSigner } from '../src/crypto/keyfile.js';
import { getSuite } from '../src/crypto/suites.js';
import type { SuiteName } from '../src/crypto/suite.js';
import type { OrderingParams, Role } from '../src/ledger/genesis.js';
import { CredenceClient } from '../src/sdk/client.js';

/**
 * Ports the tests bind are taken below Linux's ephemeral range (32768–60999 by default):
 * a port the OS handed out with listen(0) is also a candidate source port for the many
 * outgoing connections the tests make, so a node could find it taken by a client socket by
 * the time it binds. Test files run in parallel, so the start of each run is random.
 */
const TEST_PORTS_FROM = 10_000;
const TEST_PORTS_TO = 32_000;

/** N consecutive free ports (retrying until a run of N is free). */
export async function freePorts(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = TEST_PORTS_FROM + Math.floor(Math.random() * (TEST_PORTS_TO - TEST_PORTS_FROM - n));
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error('no run of free ports');
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export interface TestNetwork {
  readonly dir: string;
  readonly layout: NetworkLayout;
  readonly procs: NodeProcess[];
  /** A client signing with organization i's node key. */
  client(i: number, keyFile?: string): CredenceClient;
  start(i: number): Promise<NodeProcess>;
  stop(i: number): Promise<void>;
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export interface TestNetworkOptions {
  orgs?: number;
  suite?: SuiteName;
  extraKeys?: number;
  ordering?: Partial<OrderingParams>;
  /** Do not start the nodes. */
  noStart?: boolean;
  /** Use this (existing) directory instead of a new temporary one. */
  dir?: string;
  /** Order on this etcd cluster (see etcdHelpers.ts). */
  etcd?: { endpoints: string[]; retainBlocks?: number };
  /** Extra roles for organization i (e.g. registrar). */
  roles?: Record<number, Role[]>;
}

export async function startNetwork(o: TestNetworkOptions = {}): Promise<TestNetwork> {
  // Free ports are picked before the nodes bind them, so another process on the machine can
  // take one in between (the node then exits: port in use). Clean up and try new ports; never
  // leave a started node behind, or the test file would hang on its child process.
  for (let attempt = 1; ; attempt++) {
    const net = await createTestNetwork(o);
    try {
      if (!o.noStart) for (let i = 0; i < (o.orgs ?? 1); i++) await net.start(i);
      return net;
    } catch (e) {
      await Promise.all(net.procs.map((p) => (p === undefined ? undefined : stopNode(p))));
      if (o.dir !== undefined) throw e;
      rmSync(net.dir, { recursive: true, force: true });
      if (attempt >= 3) throw e;
    }
  }
}

async function createTestNetwork(o: TestNetworkOptions): Promise<TestNetwork> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'credence-test-'));
  const orgs = o.orgs ?? 1;
  const layout = createNetwork({
    dir,
    orgs: genericOrgs(orgs).map((p, i) => ({ ...p, roles: [...p.roles, ...(o.roles?.[i] ?? [])] })),
    suite: o.suite ?? 'default',
    chainId: 'credence-test',
    host: '127.0.0.1',
    basePort: await freePorts(orgs),
    extraKeys: o.extraKeys ?? 0,
    ordering: { cutTimeoutMs: 20, ...(o.ordering ?? {}) },
    ...(o.etcd === undefined ? {} : { etcd: o.etcd }),
  });
  const procs: NodeProcess[] = [];
  const net: TestNetwork = {
    dir,
    layout,
    procs,
    client(i, keyFile) {
      const n = layout.nodes[i];
      if (n === undefined) throw new Error(`no node ${i}`);
      const suite = getSuite(layout.suite);
      return new CredenceClient({ url: n.url, suite, signer: loadSigner(suite, keyFile ?? n.keyFile), chainId: layout.chainId });
    },
    async start(i) {
      const n = layout.nodes[i];
      if (n === undefined) throw new Error(`no node ${i}`);
      const p = spawnNode(n.orgId, n.url, n.config, join(n.dataDir, '..', 'stdout.log'));
      procs[i] = p;
      await waitHealthy(p);
      return p;
    },
    async stop(i) {
      const p = procs[i];
      if (p !== undefined) await stopNode(p);
    },
    async kill(i, signal = 'SIGKILL') {
      const p = procs[i];
      if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
      p.child.kill(signal);
      await exited;
    },
    async close() {
      await Promise.all(procs.map((p) => (p === undefined ? undefined : stopNode(p))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return net;
}

/** Run the built CLI; returns exit status and output. */
export function cli(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run the built CLI asynchronously (for long commands alongside other work). */
export function cliAsync(args: string[], timeoutMs = 120_000): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

/** Every file under `dir`, recursively (for privacy scans of node directories). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}
