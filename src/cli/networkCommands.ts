// `credence network up | down | status | add-org`: run a whole etcd-ordered network on this
// machine as background processes (pids in DIR/run.json), inspect it, grow it.

import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SuiteName } from '../crypto/suite.js';
import { SUITE_NAMES } from '../crypto/suites.js';
import { CredenceError } from '../util/errors.js';
import { waitEtcdReady } from './etcdCluster.js';
import { NetworkProcesses, addOrganization, checkNewOrg, createEtcdNetwork, loadEtcdNetwork, networkExists } from './netops.js';
import { printStatus } from './networkStatus.js';
import { fail } from './output.js';

interface RunFile {
  nodes: Record<string, number>;
  etcd: Record<string, number>;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

function readRun(dir: string): RunFile {
  try {
    return JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunFile;
  } catch {
    return { nodes: {}, etcd: {} };
  }
}

/** Is `pid` alive and one of ours (its command line mentions the network directory)? */
function ours(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

async function stopPid(pid: number, dir: string): Promise<void> {
  if (!ours(pid, dir)) return;
  process.kill(pid, 'SIGCONT');
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (ours(pid, dir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (ours(pid, dir)) process.kill(pid, 'SIGKILL');
}

const action =
  <A extends unknown[]>(fn: (...a: A) => Promise<void>) =>
  async (...a: A) => {
    try {
      await fn(...a);
    } catch (e) {
      fail(e);
    }
  };

export function registerNetworkOps(program: Command): void {
  const net = program.commands.find((c) => c.name() === 'network') ?? program.command('network');
  net
    .command('up')
    .description(
      'create (first time) and start a network in the background: a 3-member etcd cluster and N nodes on loopback; on a running network, restarts only the processes that died',
    )
    .requiredOption('-d, --data <dir>', 'network directory (ports, keys and data directories are laid out under it)')
    .option('--ordering <kind>', 'ordering service: etcd', 'etcd')
    .option('-n, --orgs <n>', 'number of organizations (first time only)', '4')
    .option('--suite <name>', `crypto suite: ${SUITE_NAMES.join(' or ')}`, 'default')
    .option('--chain-id <id>', 'chain id', 'credence-local')
    .option('--base-port <port>', 'API port of the first node; the other nodes follow', '7001')
    .option('--etcd-base-port <port>', 'first of the 6 etcd ports (client and peer per member; default: base port + 100)')
    .option('--retain-blocks <n>', 'blocks of log kept in etcd below the final height', '1000')
    .action(action(up));
  net
    .command('down')
    .description('stop every process of a network started with "network up" (data is kept)')
    .requiredOption('-d, --data <dir>', 'network directory')
    .action(
      action(async (o: { data: string }) => {
        const dir = resolve(o.data);
        const run = readRun(dir);
        for (const [org, pid] of Object.entries(run.nodes)) {
          say(`stopping node ${org} (pid ${pid})`);
          await stopPid(pid, dir);
        }
        for (const [name, pid] of Object.entries(run.etcd)) {
          say(`stopping etcd ${name} (pid ${pid})`);
          await stopPid(pid, dir);
        }
        writeFileSync(join(dir, 'run.json'), `${JSON.stringify({ nodes: {}, etcd: {} }, null, 2)}\n`);
        process.stdout.write(`network in ${dir} is down\n`);
      }),
    );
  net
    .command('status')
    .description(
      "each node's status, height, final height (checkpointed by a majority), lag behind the highest node and the checkpoints it has seen; the etcd members (health, leader, revision); exits 1 when a node is not ok or etcd has no quorum",
    )
    .requiredOption('-d, --data <dir>', 'network directory')
    .option('--json', 'print JSON (for scripts)')
    .action(action(status));
  net
    .command('add-org <id>')
    .description('add an organization to a running network: governance vote, then start its node, which syncs from its peers')
    .requiredOption('-d, --data <dir>', 'network directory')
    .option('--port <port>', 'API port of the new node (default: next after the last node)')
    .action(
      action(async (id: string, o: { data: string; port?: string }) => {
        const dir = resolve(o.data);
        const n = loadEtcdNetwork(dir);
        const lastPort = Math.max(...n.layout.nodes.map((x) => Number(new URL(x.url).port)));
        const port = o.port === undefined ? lastPort + 1 : Number(o.port);
        checkNewOrg(n, id, port);
        say(`proposing organization ${id} and collecting votes…`);
        const added = await addOrganization(n, id, port);
        const procs = new NetworkProcesses(n, true);
        const i = n.layout.nodes.length - 1;
        procs.startNode(i);
        const run = readRun(dir);
        run.nodes[id] = procs.nodeProcs[i]?.pid ?? 0;
        writeFileSync(join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
        say(`proposal ${added.proposalId} passed; starting node ${id} at ${added.node.url} and syncing…`);
        await procs.waitNode(i, 120_000);
        process.stdout.write(`organization ${id} joined; its node is ${added.node.url}\n`);
      }),
    );
}

function portOption(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CredenceError('USAGE', `${name} must be a port number`);
  return n;
}

/**
 * Create the network the first time, then start whatever of it is not running: all of it
 * after `down`, or just the members and nodes that died (their data directories make them
 * rejoin and catch up).
 */
interface UpOptions {
  data: string;
  ordering: string;
  orgs: string;
  suite: string;
  chainId: string;
  basePort: string;
  etcdBasePort?: string;
  retainBlocks: string;
}

async function up(o: UpOptions): Promise<void> {
  if (o.ordering !== 'etcd') throw new CredenceError('USAGE', '--ordering must be etcd (for solo, use "network create" and "node start")');
  if (!(SUITE_NAMES as readonly string[]).includes(o.suite)) throw new CredenceError('USAGE', `--suite must be ${SUITE_NAMES.join(' or ')}`);
  const dir = resolve(o.data);
  const net = networkExists(dir)
    ? loadEtcdNetwork(dir)
    : createEtcdNetwork({
        dir,
        orgs: Number(o.orgs),
        suite: o.suite as SuiteName,
        chainId: o.chainId,
        basePort: portOption(o.basePort, '--base-port'),
        ...(o.etcdBasePort === undefined ? {} : { etcdBasePort: portOption(o.etcdBasePort, '--etcd-base-port') }),
        retainBlocks: Number(o.retainBlocks),
      });
  const before = readRun(dir);
  const alive = (pid: number | undefined) => pid !== undefined && ours(pid, dir);
  const etcdToStart = net.etcd.flatMap((m, i) => (alive(before.etcd[m.name]) ? [] : [i]));
  const nodesToStart = net.layout.nodes.flatMap((n, i) => (alive(before.nodes[n.orgId]) ? [] : [i]));
  if (etcdToStart.length === 0 && nodesToStart.length === 0) {
    process.stdout.write(`the network in ${dir} is already up; see "credence network status --data ${o.data}"\n`);
    return;
  }
  const procs = new NetworkProcesses(net, true);
  const record = () => {
    const run: RunFile = { nodes: { ...before.nodes }, etcd: { ...before.etcd } };
    for (const i of nodesToStart) {
      const n = net.layout.nodes[i];
      const pid = procs.nodeProcs[i]?.pid;
      if (n !== undefined && pid !== undefined) run.nodes[n.orgId] = pid;
    }
    for (const i of etcdToStart) {
      const m = net.etcd[i];
      const pid = procs.etcdProcs[i]?.pid;
      if (m !== undefined && pid !== undefined) run.etcd[m.name] = pid;
    }
    writeFileSync(join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  };
  try {
    for (const i of etcdToStart) procs.startEtcd(i);
    record();
    say(`waiting for the etcd cluster (${etcdToStart.length} of ${net.etcd.length} members started)`);
    await waitEtcdReady(net.etcd.map((m) => m.clientUrl));
    for (const i of nodesToStart) procs.startNode(i);
    record();
    for (const i of nodesToStart) {
      say(`waiting for node ${net.layout.nodes[i]?.orgId}`);
      await procs.waitNode(i);
    }
  } finally {
    record();
  }
  process.stdout.write(`network "${net.layout.chainId}" is up in ${dir} (etcd ordering, ${net.layout.nodes.length} organizations)\n`);
  for (const m of net.etcd) process.stdout.write(`  etcd ${m.name.padEnd(8)} ${m.clientUrl}\n`);
  for (const n of net.layout.nodes) process.stdout.write(`  node ${n.orgId.padEnd(8)} ${n.url}   credence info --config ${n.config}\n`);
  process.stdout.write(`check it with: credence network status --data ${o.data}\nstop it with:  credence network down --data ${o.data}\n`);
}

async function status(o: { data: string; json?: boolean }): Promise<void> {
  await printStatus(loadEtcdNetwork(resolve(o.data)), o.json === true);
}
