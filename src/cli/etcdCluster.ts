// etcd members as child processes on loopback, each with its own ports and data directory
// under the network directory (DIR/etcd/<name>), so nothing depends on a system etcd
// service. Needs the `etcd` binary (Debian/Ubuntu: `apt-get install etcd-server`; elsewhere
// see the README), or CREDENCE_ETCD pointing at one.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdClient } from '../ordering/etcdClient.js';
import { CredenceError, Codes } from '../util/errors.js';

export interface EtcdMemberPlan {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
}

export function etcdBinary(): string {
  const bin = process.env.CREDENCE_ETCD ?? 'etcd';
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new CredenceError(
      Codes.CONFIG,
      `cannot run "${bin}": install etcd (Debian/Ubuntu: apt-get install etcd-server; macOS: brew install etcd; others: the etcd release page) or set CREDENCE_ETCD to its path`,
    );
  }
  return bin;
}

/** Members m1..mN: client port basePort+2i, peer port basePort+2i+1. */
export function planEtcd(dir: string, host: string, basePort: number, n = 3): EtcdMemberPlan[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `m${i + 1}`;
    return {
      name,
      clientUrl: `http://${host}:${basePort + 2 * i}`,
      peerUrl: `http://${host}:${basePort + 2 * i + 1}`,
      dataDir: join(dir, 'etcd', name, 'data'),
      logFile: join(dir, 'etcd', name, 'etcd.log'),
    };
  });
}

export function etcdArgs(m: EtcdMemberPlan, all: readonly EtcdMemberPlan[], token: string): string[] {
  return [
    `--name=${m.name}`,
    `--data-dir=${m.dataDir}`,
    `--listen-client-urls=${m.clientUrl}`,
    `--advertise-client-urls=${m.clientUrl}`,
    `--listen-peer-urls=${m.peerUrl}`,
    `--initial-advertise-peer-urls=${m.peerUrl}`,
    `--initial-cluster=${all.map((x) => `${x.name}=${x.peerUrl}`).join(',')}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${token}`,
    // Log entries are batches of signed transactions: allow 4 MiB requests.
    '--max-request-bytes=4194304',
    // A machine shared with other work: a little more slack before an election.
    '--heartbeat-interval=150',
    '--election-timeout=1500',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}

/** Start one member (again, after a kill: its data directory makes it rejoin). */
export function spawnEtcd(m: EtcdMemberPlan, all: readonly EtcdMemberPlan[], token: string, opts: { detached?: boolean } = {}): ChildProcess {
  mkdirSync(m.dataDir, { recursive: true });
  const out = openSync(m.logFile, 'a');
  const child = spawn(etcdBinary(), etcdArgs(m, all, token), { stdio: ['ignore', out, out], detached: opts.detached === true });
  if (opts.detached === true) child.unref();
  return child;
}

/** Wait until the cluster answers a write (it has a leader and a majority). */
export async function waitEtcdReady(endpoints: readonly string[], timeoutMs = 30_000): Promise<void> {
  const client = new EtcdClient(endpoints, 2000);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await client.put('/credence/_ready', new Uint8Array([1]));
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new CredenceError(
    Codes.TIMEOUT,
    `the etcd cluster did not become ready within ${timeoutMs} ms: ${last instanceof Error ? last.message : ''}; see DIR/etcd/*/etcd.log`,
  );
}
