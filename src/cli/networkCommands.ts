// `credence network up | down | status | add-org`: run a whole etcd-ordered network on this
// machine as background processes (pids in DIR/run.json), inspect it, grow it.

import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SuiteName } from '../crypto/suite.js';
import { SUITE_NAMES } from '../crypto/suites.js';
import type { NetworkView } from '../node/etcdMember.js';
import { EtcdClient } from '../ordering/etcdClient.js';
import { CredenceError } from '../util/errors.js';
import { NetworkProcesses, addOrganization, createEtcdNetwork, loadEtcdNetwork, networkExists, nodeClient } from './netops.js';
import { fail, printJson } from './output.js';

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
    .description('create (first time) and start a network in the background: a 3-member etcd cluster and N nodes on loopback')
    .requiredOption('-d, --data <dir>', 'network directory (ports, keys and data directories are laid out under it)')
    .option('--ordering <kind>', 'ordering service: etcd', 'etcd')
    .option('-n, --orgs <n>', 'number of organizations (first time only)', '4')
    .option('--suite <name>', `crypto suite: ${SUITE_NAMES.join(' or ')}`, 'default')
    .option('--chain-id <id>', 'chain id', 'credence-local')
    .option('--base-port <port>', 'API port of the first node; etcd uses base+100 to base+105', '7001')
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
    .description("each node's height, final height and checkpoints, the etcd members, and the lag")
    .requiredOption('-d, --data <dir>', 'network directory')
    .option('--json', 'print JSON')
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
        say(`proposing organization ${id} and collecting votes…`);
        const added = await addOrganization(n, id, port);
        const procs = new NetworkProcesses(n, true);
        const i = n.layout.nodes.length - 1;
        procs.startNode(i);
        say(`proposal ${added.proposalId} passed; starting node ${id} at ${added.node.url} and syncing…`);
        await procs.waitNode(i, 120_000);
        const run = readRun(dir);
        run.nodes[id] = procs.nodeProcs[i]?.pid ?? 0;
        writeFileSync(join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
        process.stdout.write(`organization ${id} joined; its node is ${added.node.url}\n`);
      }),
    );
}

async function up(o: { data: string; ordering: string; orgs: string; suite: string; chainId: string; basePort: string; retainBlocks: string }): Promise<void> {
  if (o.ordering !== 'etcd') throw new CredenceError('USAGE', '--ordering must be etcd (for solo, use "network create" and "node start")');
  if (!(SUITE_NAMES as readonly string[]).includes(o.suite)) throw new CredenceError('USAGE', `--suite must be ${SUITE_NAMES.join(' or ')}`);
  const dir = resolve(o.data);
  const running = readRun(dir);
  if (Object.values(running.nodes).some((pid) => ours(pid, dir)))
    throw new CredenceError('USAGE', `the network in ${dir} is already up; run "credence network down --data ${o.data}" first`);
  const net = networkExists(dir)
    ? loadEtcdNetwork(dir)
    : createEtcdNetwork({
        dir,
        orgs: Number(o.orgs),
        suite: o.suite as SuiteName,
        chainId: o.chainId,
        basePort: Number(o.basePort),
        retainBlocks: Number(o.retainBlocks),
      });
  const procs = new NetworkProcesses(net, true);
  const record = () => {
    const run: RunFile = { nodes: {}, etcd: {} };
    net.layout.nodes.forEach((n, i) => {
      const pid = procs.nodeProcs[i]?.pid;
      if (pid !== undefined) run.nodes[n.orgId] = pid;
    });
    net.etcd.forEach((m, i) => {
      const pid = procs.etcdProcs[i]?.pid;
      if (pid !== undefined) run.etcd[m.name] = pid;
    });
    writeFileSync(join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  };
  try {
    await procs.up((what) => {
      record();
      say(what);
    });
  } finally {
    record();
  }
  process.stdout.write(`network "${net.layout.chainId}" is up in ${dir} (etcd ordering, ${net.layout.nodes.length} organizations)\n`);
  for (const m of net.etcd) process.stdout.write(`  etcd ${m.name.padEnd(8)} ${m.clientUrl}\n`);
  for (const n of net.layout.nodes) process.stdout.write(`  node ${n.orgId.padEnd(8)} ${n.url}   credence info --config ${n.config}\n`);
  process.stdout.write(`stop it with: credence network down --data ${o.data}\n`);
}

async function status(o: { data: string; json?: boolean }): Promise<void> {
  const net = loadEtcdNetwork(resolve(o.data));
  const views = await Promise.all(
    net.layout.nodes.map(async (n, i) => {
      try {
        const c = nodeClient(net, i, 3000);
        const [view, health] = await Promise.all([c.request<NetworkView>('GET', '/v1/network'), c.health()]);
        return { ...view, orgId: n.orgId, url: n.url, status: health.status, reasons: health.reasons };
      } catch (e) {
        return { orgId: n.orgId, url: n.url, status: 'down', reasons: [e instanceof Error ? e.message : String(e)] };
      }
    }),
  );
  const client = new EtcdClient(
    net.etcd.map((m) => m.clientUrl),
    2000,
  );
  const etcd = await client.statuses();
  const top = Math.max(0, ...views.map((v) => ('height' in v ? v.height : 0)));
  const nodes = views.map((v) => ({ ...v, lag: 'height' in v ? top - v.height : null }));
  if (o.json) {
    printJson({ chainId: net.layout.chainId, nodes, etcd });
    return;
  }
  process.stdout.write(`network "${net.layout.chainId}" in ${net.dir}\n\nnodes:\n`);
  for (const v of nodes) {
    const h = 'height' in v ? `height ${v.height}  final ${v.finalHeight}  lag ${v.lag}` : '';
    process.stdout.write(`  ${v.orgId.padEnd(8)} ${v.url.padEnd(24)} ${v.status.padEnd(9)} ${h}\n`);
    if ('checkpoints' in v)
      for (const c of v.checkpoints)
        process.stdout.write(`      checkpoint from ${c.orgId}: height ${c.height} ${c.blockHash.slice(0, 16)}… confirmed to ${c.confirmed}\n`);
    for (const r of v.reasons) process.stdout.write(`      ! ${r}\n`);
  }
  process.stdout.write('\netcd members:\n');
  for (const s of etcd) {
    const leader = s.ok && s.leader === s.memberId ? ' (leader)' : '';
    process.stdout.write(`  ${s.endpoint.padEnd(24)} ${s.ok ? `up${leader}  revision ${s.revision}  raft index ${s.raftIndex}` : `DOWN: ${s.error}`}\n`);
  }
  if (etcd.filter((s) => s.ok).length < 2) {
    process.stdout.write('\nwarning: fewer than 2 of 3 etcd members are up: ordering is stopped until one comes back\n');
    process.exitCode = 1;
  }
}
