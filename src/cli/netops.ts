// Network operations for an etcd-ordered network on one machine: lay out keys, genesis, node
// configs and a 3-member etcd cluster under one directory, and start, stop, kill and restart
// its processes. Used by `credence network up|down|status|add-org`, the network benchmark,
// the chaos run and the fault tests. Layout under DIR:
//   genesis.json network.json etcd.json run.json keys/ nodes/<org>/ etcd/m1..m3/

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CryptoSuite, SuiteName } from '../crypto/suite.js';
import { loadSigner, writeKeyFiles } from '../crypto/keyfile.js';
import { getSuite } from '../crypto/suites.js';
import { checkFinality, type FinalityCheck, headerFromHex, membersAt } from '../ledger/finality.js';
import type { Genesis, OrderingParams } from '../ledger/genesis.js';
import type { ProofJson } from '../ledger/proofs.js';
import { CredenceClient } from '../sdk/client.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import { type EtcdMemberPlan, planEtcd, spawnEtcd, waitEtcdReady } from './etcdCluster.js';
import { type NetworkLayout, type NetworkNode, createNetwork, genericOrgs } from './network.js';
import { nodeProcessEnv, nodeStartArgs, waitNodeHealthy } from './processes.js';

export interface EtcdNetwork {
  readonly dir: string;
  readonly layout: NetworkLayout;
  readonly etcd: EtcdMemberPlan[];
  readonly token: string;
}

export interface CreateEtcdNetworkOptions {
  readonly dir: string;
  readonly orgs: number;
  readonly suite?: SuiteName;
  readonly chainId?: string;
  readonly host?: string;
  /** API port of the first node; etcd members use basePort+100… */
  readonly basePort: number;
  readonly etcdBasePort?: number;
  readonly extraKeys?: number;
  readonly retainBlocks?: number;
  readonly ordering?: Partial<OrderingParams>;
}

export function createEtcdNetwork(o: CreateEtcdNetworkOptions): EtcdNetwork {
  const host = o.host ?? '127.0.0.1';
  const etcd = planEtcd(o.dir, host, o.etcdBasePort ?? o.basePort + 100, 3);
  const layout = createNetwork({
    dir: o.dir,
    orgs: genericOrgs(o.orgs),
    suite: o.suite ?? 'default',
    chainId: o.chainId ?? 'credence-local',
    host,
    basePort: o.basePort,
    extraKeys: o.extraKeys ?? 0,
    ...(o.ordering === undefined ? {} : { ordering: o.ordering }),
    etcd: { endpoints: etcd.map((m) => m.clientUrl), ...(o.retainBlocks === undefined ? {} : { retainBlocks: o.retainBlocks }) },
  });
  const net: EtcdNetwork = { dir: o.dir, layout, etcd, token: `${layout.chainId}-${Date.now()}` };
  writeFileSync(join(o.dir, 'etcd.json'), `${JSON.stringify({ members: etcd, token: net.token }, null, 2)}\n`);
  return net;
}

export function loadEtcdNetwork(dir: string): EtcdNetwork {
  const read = (f: string) => {
    try {
      return JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;
    } catch {
      throw new CredenceError(Codes.CONFIG, `${join(dir, f)} is missing or unreadable: is ${dir} a network made by "credence network up --ordering etcd"?`);
    }
  };
  const layout = read('network.json') as NetworkLayout;
  const e = read('etcd.json') as { members: EtcdMemberPlan[]; token: string };
  return { dir, layout, etcd: e.members, token: e.token };
}

export function nodeClient(net: EtcdNetwork, i: number, timeoutMs = 5000): CredenceClient {
  const n = net.layout.nodes[i];
  if (n === undefined) throw new CredenceError(Codes.NOT_FOUND, `no node ${i}`);
  const suite = getSuite(net.layout.suite);
  return new CredenceClient({ url: n.url, suite, signer: loadSigner(suite, n.keyFile), chainId: net.layout.chainId, timeoutMs });
}

/** The processes of a network: etcd members and nodes, as children of this process. */
export class NetworkProcesses {
  readonly etcdProcs: (ChildProcess | undefined)[] = [];
  readonly nodeProcs: (ChildProcess | undefined)[] = [];

  constructor(
    readonly net: EtcdNetwork,
    private readonly detached = false,
  ) {}

  startEtcd(i: number): void {
    const m = this.net.etcd[i];
    if (m === undefined) throw new CredenceError(Codes.NOT_FOUND, `no etcd member ${i}`);
    this.etcdProcs[i] = spawnEtcd(m, this.net.etcd, this.net.token, { detached: this.detached });
  }

  startNode(i: number): ChildProcess {
    const n = this.net.layout.nodes[i];
    if (n === undefined) throw new CredenceError(Codes.NOT_FOUND, `no node ${i}`);
    const out = openSync(join(n.dataDir, '..', 'stdout.log'), 'a');
    const child = spawn(process.execPath, nodeStartArgs(n.config), { stdio: ['ignore', out, out], detached: this.detached, env: nodeProcessEnv() });
    if (this.detached) child.unref();
    this.nodeProcs[i] = child;
    return child;
  }

  async waitNode(i: number, timeoutMs = 30_000): Promise<void> {
    const n = this.net.layout.nodes[i] as NetworkNode;
    await waitNodeHealthy(n.url, n.orgId, this.nodeProcs[i], timeoutMs);
  }

  async up(onProgress: (what: string) => void = () => {}): Promise<void> {
    for (let i = 0; i < this.net.etcd.length; i++) this.startEtcd(i);
    onProgress('waiting for the etcd cluster');
    await waitEtcdReady(this.net.etcd.map((m) => m.clientUrl));
    for (let i = 0; i < this.net.layout.nodes.length; i++) this.startNode(i);
    for (let i = 0; i < this.net.layout.nodes.length; i++) {
      onProgress(`waiting for node ${this.net.layout.nodes[i]?.orgId}`);
      await this.waitNode(i);
    }
  }

  static async signal(child: ChildProcess | undefined, signal: NodeJS.Signals, waitExit = true): Promise<void> {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    if (waitExit) await exited;
  }

  async killNode(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await NetworkProcesses.signal(this.nodeProcs[i], signal, signal !== 'SIGSTOP' && signal !== 'SIGCONT');
  }

  async killEtcd(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await NetworkProcesses.signal(this.etcdProcs[i], signal);
  }

  async down(): Promise<void> {
    for (const c of this.nodeProcs) if (c?.signalCode === 'SIGSTOP') c.kill('SIGCONT');
    await Promise.all(this.nodeProcs.map((c) => stopChild(c)));
    await Promise.all(this.etcdProcs.map((c) => stopChild(c)));
  }

  pids(): { nodes: (number | null)[]; etcd: (number | null)[] } {
    return { nodes: this.nodeProcs.map((c) => c?.pid ?? null), etcd: this.etcdProcs.map((c) => c?.pid ?? null) };
  }
}

async function stopChild(c: ChildProcess | undefined): Promise<void> {
  if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGCONT');
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Finality of the block a proof is against, from the checkpoints it carries, counting the
 * members at that height: the genesis organizations, changed by the membership epochs the
 * proof carries (each final under the members before it).
 */
export function proofFinality(suite: CryptoSuite, p: ProofJson, genesis: Genesis): FinalityCheck & { members: string[]; membersSince: number } {
  const header = headerFromHex(p.header);
  if (header === undefined) {
    const ids = genesis.orgs.map((o) => o.id);
    return { final: false, signedBy: [], needed: Math.floor(ids.length / 2) + 1, ignored: ['header is malformed'], members: ids, membersSince: 0 };
  }
  const m = membersAt(suite, genesis.orgs, Array.isArray(p.epochs) ? p.epochs : [], header.height);
  const f = checkFinality(suite, header, Array.isArray(p.checkpoints) ? p.checkpoints : [], m.orgs);
  return { ...f, ignored: [...m.problems, ...f.ignored], members: m.orgs.map((o) => o.id), membersSince: m.since };
}

// ---- adding an organization -------------------------------------------------------------

export interface AddedOrg {
  readonly node: NetworkNode;
  readonly proposalId: number;
}

/**
 * Add an organization to a running network: generate its key, propose addOrg with the first
 * node's key, vote yes with the other organizations until it passes, then write its node
 * config (etcd ordering, the existing nodes as peers) and record it in network.json.
 */
export async function addOrganization(net: EtcdNetwork, orgId: string, port: number): Promise<AddedOrg> {
  checkNewOrg(net, orgId, port);
  const suite = getSuite(net.layout.suite);
  const key = suite.generateSigningKey();
  const keyPaths = writeKeyFiles(join(net.dir, 'keys'), orgId, key);
  const keyFile = keyPaths.privateKeyPath;
  let proposalId: number;
  try {
    proposalId = await voteIn(net, { id: orgId, name: `Organization ${orgId}`, roles: ['member'], keys: [toHex(key.publicKey)] });
  } catch (e) {
    // Not a member: its key files must not linger, so a retry starts clean.
    rmSync(keyPaths.privateKeyPath, { force: true });
    rmSync(keyPaths.publicKeyPath, { force: true });
    throw e;
  }
  const host = new URL(net.layout.nodes[0]?.url ?? 'http://127.0.0.1').hostname;
  const nodeDir = join(net.dir, 'nodes', orgId);
  mkdirSync(join(nodeDir, 'data'), { recursive: true });
  const node: NetworkNode = {
    orgId,
    url: `http://${host}:${port}`,
    config: join(nodeDir, 'config.json'),
    dataDir: join(nodeDir, 'data'),
    keyFile,
    extraKeyFiles: [],
  };
  const config = {
    orgId,
    dataDir: 'data',
    genesisFile: '../../genesis.json',
    keyFile: `../../keys/${orgId}.key.pem`,
    api: { host, port },
    ordering: { kind: 'etcd', endpoints: net.etcd.map((m) => m.clientUrl), peers: net.layout.nodes.map((n) => n.url) },
    log: { level: 'info', file: 'node.log' },
  };
  writeFileSync(node.config, `${JSON.stringify(config, null, 2)}\n`);
  net.layout.nodes.push(node);
  writeFileSync(join(net.dir, 'network.json'), `${JSON.stringify(net.layout, null, 2)}\n`);
  return { node, proposalId };
}

const ORG_ID_RE = /^[a-z][a-z0-9-]{0,31}$/;

/** Refuse, before anything is written or proposed, an id or port the network already uses. */
export function checkNewOrg(net: EtcdNetwork, orgId: string, port: number): void {
  if (!ORG_ID_RE.test(orgId)) throw new CredenceError('USAGE', `organization id "${orgId.slice(0, 40)}" must be 1-32 characters: a-z first, then a-z 0-9 -`);
  if (net.layout.nodes.some((n) => n.orgId === orgId)) throw new CredenceError('USAGE', `organization ${orgId} is already in this network`);
  if (existsSync(join(net.dir, 'keys', `${orgId}.key.pem`)) || existsSync(join(net.dir, 'nodes', orgId)))
    throw new CredenceError('USAGE', `${join(net.dir, 'keys', orgId)}.key.pem or nodes/${orgId} already exists; remove them or pick another id`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CredenceError('USAGE', '--port must be from 1 to 65535');
  const used = [...net.layout.nodes.map((n) => n.url), ...net.etcd.flatMap((m) => [m.clientUrl, m.peerUrl])];
  if (used.some((u) => Number(new URL(u).port) === port))
    throw new CredenceError('USAGE', `port ${port} is already used by this network; pick another with --port`);
}

/** Propose adding `org` with the first node's key and vote yes with the others until it passes. */
async function voteIn(net: EtcdNetwork, org: { id: string; name: string; roles: string[]; keys: string[] }): Promise<number> {
  const proposed = await nodeClient(net, 0, 60_000).call({ contract: 'gov', method: 'propose', args: { kind: 'addOrg', org } });
  if (proposed.status !== 'committed' || proposed.code !== 'OK')
    throw new CredenceError(Codes.UNAVAILABLE, `the proposal to add ${org.id} was refused (${proposed.code ?? proposed.status})`);
  const proposalId = (proposed.value as { proposalId: number }).proposalId;
  let status = (proposed.value as { status: string }).status;
  for (let i = 1; i < net.layout.nodes.length && status === 'open'; i++) {
    const r = await nodeClient(net, i, 60_000).call({ contract: 'gov', method: 'vote', args: { proposalId, approve: true } });
    if (r.status === 'committed' && r.code === 'OK') status = (r.value as { status: string }).status;
  }
  if (status !== 'passed')
    throw new CredenceError(
      Codes.UNAVAILABLE,
      `proposal ${proposalId} to add ${org.id} did not pass (status ${status}); see "credence gov show ${proposalId}"`,
    );
  return proposalId;
}

export function networkExists(dir: string): boolean {
  return existsSync(join(dir, 'network.json')) && existsSync(join(dir, 'etcd.json'));
}
