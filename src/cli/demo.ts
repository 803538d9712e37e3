// `credence demo`: create (or reuse) a local network of several organizations, start every
// node as its own process, run a short scripted workload, and keep serving until Ctrl-C.
// With --exit it stops after the workload and re-verifies every data directory offline.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SubmitResult } from '../codec/api.js';
import { loadSigner } from '../crypto/keyfile.js';
import { getSuite } from '../crypto/suites.js';
import type { Role } from '../ledger/genesis.js';
import { verifyDataDir } from '../node/verifyDataDir.js';
import { CredenceClient } from '../sdk/client.js';
import { CredenceError, Codes } from '../util/errors.js';
import { dataStory } from './demoData.js';
import { type NetworkLayout, type OrgPlan, createNetwork } from './network.js';
import { fail } from './output.js';
import { type NodeProcess, spawnNode, stopNode, waitHealthy } from './processes.js';

export const DEMO_ORGS: OrgPlan[] = [
  { id: 'zj-credit', name: 'Zhejiang Provincial Public Credit Platform', roles: ['member', 'orderer', 'registrar'] as Role[] },
  { id: 'tax', name: 'Provincial Tax Bureau', roles: ['member'] as Role[] },
  { id: 'court', name: "Hangzhou Intermediate People's Court", roles: ['member'] as Role[] },
  { id: 'bank-a', name: 'Bank A (SME lending)', roles: ['member'] as Role[] },
  { id: 'js-credit', name: 'Jiangsu Provincial Public Credit Platform', roles: ['member'] as Role[] },
  { id: 'bank-b', name: 'Bank B (SME lending)', roles: ['member'] as Role[] },
  { id: 'regulator', name: 'PBOC Provincial Branch', roles: ['member', 'regulator'] as Role[] },
];

interface DemoOptions {
  data: string;
  orgs: string;
  exit?: boolean;
  basePort: string;
  suite: string;
  small?: boolean;
}

const say = (s: string) => process.stdout.write(`${s}\n`);

function layoutFor(o: DemoOptions): NetworkLayout {
  const dir = resolve(o.data);
  const file = join(dir, 'network.json');
  if (existsSync(file)) {
    say(`reusing the network in ${dir}`);
    return JSON.parse(readFileSync(file, 'utf8')) as NetworkLayout;
  }
  const n = Number(o.orgs);
  if (!Number.isInteger(n) || n < 2 || n > DEMO_ORGS.length) throw new CredenceError('USAGE', `--orgs must be from 2 to ${DEMO_ORGS.length}`);
  say(`creating a ${n}-organization network in ${dir}`);
  return createNetwork({
    dir,
    orgs: DEMO_ORGS.slice(0, n),
    suite: o.suite === 'gm' ? 'gm' : 'default',
    chainId: 'credence-demo',
    host: '127.0.0.1',
    basePort: Number(o.basePort),
  });
}

function clientFor(layout: NetworkLayout, i: number): CredenceClient {
  const n = layout.nodes[i];
  if (n === undefined) throw new CredenceError(Codes.CONFIG, 'no such node');
  const suite = getSuite(layout.suite);
  return new CredenceClient({ url: n.url, suite, signer: loadSigner(suite, n.keyFile), chainId: layout.chainId });
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new CredenceError('DEMO_FAILED', `demo step failed: ${what}`);
  say(`  ok  ${what}`);
}

async function workload(layout: NetworkLayout): Promise<void> {
  const clients = layout.nodes.map((_, i) => clientFor(layout, i));
  say('workload:');
  const results: SubmitResult[] = [];
  for (const [i, c] of clients.entries()) {
    const txs = await Promise.all(
      Array.from({ length: 25 }, (_, k) =>
        c.signTx({ contract: 'kv', method: 'put', args: { key: `notice-${k}`, value: { seq: k, from: layout.nodes[i]?.orgId ?? '' } } }),
      ),
    );
    results.push(...(await c.submit(txs, { wait: true })));
  }
  check(
    results.every((r) => r.status === 'committed' && r.code === 'OK'),
    `${results.length} kv.put transactions committed through every node`,
  );
  const [first, second] = clients;
  if (first === undefined || second === undefined) return;
  const replay = await first.signTx({ contract: 'kv', method: 'put', args: { key: 'once', value: 1 } });
  await first.submit([replay], { wait: true });
  const [again] = await second.submit([replay]);
  check(again?.status === 'rejected' && again.code === Codes.TX_REPLAYED, 'a replayed transaction is refused (TX_REPLAYED)');
  const tampered = await first.signTx({ contract: 'kv', method: 'put', args: { key: 'forged', value: 1 } });
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
  const [forged] = await first.submit([tampered]);
  check(forged?.status === 'rejected' && forged.code === Codes.BAD_SIGNATURE, 'a transaction with a bad signature is refused (BAD_SIGNATURE)');
  const prop = await first.call({ contract: 'gov', method: 'propose', args: { kind: 'setPolicy', name: 'proposalTtlMs', value: 3 * 24 * 3600 * 1000 } });
  const id = (prop.value as { proposalId: number }).proposalId;
  let status = (prop.value as { status: string }).status;
  for (const c of clients.slice(1)) {
    if (status !== 'open') break;
    status = ((await c.call({ contract: 'gov', method: 'vote', args: { proposalId: id, approve: true } })).value as { status: string }).status;
  }
  check(status === 'passed', `governance proposal ${id} passed by a majority of organizations`);
  await converge(clients);
}

async function converge(clients: CredenceClient[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(clients.map((c) => c.info()));
    const heads = new Set(infos.map((i) => `${i.height}:${i.headHash}`));
    if (heads.size === 1) {
      check(true, `all ${clients.length} nodes agree on block ${infos[0]?.height} ${infos[0]?.headHash.slice(0, 16)}…`);
      return;
    }
    if (Date.now() > deadline) throw new CredenceError('DEMO_FAILED', `nodes did not converge: ${[...heads].join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function verifyAll(layout: NetworkLayout): Promise<void> {
  say('offline verification of every data directory:');
  for (const n of layout.nodes) {
    const r = await verifyDataDir(n.dataDir);
    check(r.ok, `${n.orgId}: ${r.blocks} blocks, ${r.txs} transactions verified${r.ok ? '' : ` — FAILED at ${r.firstBadHeight}: ${r.reason}`}`);
  }
}

async function runDemo(o: DemoOptions): Promise<void> {
  const layout = layoutFor(o);
  const procs: NodeProcess[] = layout.nodes.map((n) => spawnNode(n.orgId, n.url, n.config, join(n.dataDir, '..', 'stdout.log')));
  const stopAll = () => Promise.all(procs.map((p) => stopNode(p)));
  try {
    for (const p of procs) await waitHealthy(p);
    say(`started ${procs.length} nodes: ${layout.nodes.map((n) => `${n.orgId} ${n.url}`).join(', ')}`);
    await workload(layout);
    await dataStory(
      layout,
      layout.nodes.map((_, i) => clientFor(layout, i)),
      { small: o.small === true, say, check },
    );
  } catch (e) {
    await stopAll();
    throw e;
  }
  if (o.exit) {
    await stopAll();
    await verifyAll(layout);
    say(`demo complete; data directories are under ${join(layout.dir, 'nodes')}`);
    return;
  }
  say('\nthe network is running. Try:');
  say(`  npx credence info --config ${layout.nodes[1]?.config}`);
  say(`  npx credence tx submit --config ${layout.nodes[0]?.config} --contract kv --method put --args '{"key":"hello","value":"world"}'`);
  say(`  npx credence state kv/${layout.nodes[0]?.orgId}/hello --proof --config ${layout.nodes[0]?.config}`);
  say('press Ctrl-C to stop');
  await new Promise<void>((resolveStop) => {
    const stop = () => {
      say('\nstopping nodes…');
      void stopAll().then(() => resolveStop());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start a demo network of several organizations on loopback and run a short workload')
    .option('--data <dir>', 'where to create (or reuse) the network', 'credence-demo')
    .option('--orgs <n>', 'number of organizations (2-7)', '7')
    .option('--small', 'a small synthetic data set (for tests)')
    .option('--exit', 'stop after the workload and verify every data directory')
    .option('--base-port <port>', 'API port of the first node', '7001')
    .option('--suite <name>', 'crypto suite: default or gm', 'default')
    .action(async (o: DemoOptions) => {
      try {
        await runDemo(o);
      } catch (e) {
        fail(e);
      }
    });
}
