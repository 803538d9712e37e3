// `credence network create`: keys, a genesis and node configurations for N organizations on
// loopback, laid out so that each node directory is self-contained and paths are relative:
//   DIR/genesis.json  DIR/network.json  DIR/keys/<org>.key.pem  DIR/nodes/<org>/config.json

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeKeyFiles } from '../crypto/keyfile.js';
import { getSuite } from '../crypto/suites.js';
import type { SuiteName } from '../crypto/suite.js';
import { DEFAULT_ORDERING, DEFAULT_POLICIES, type Genesis, type OrderingParams, type OrgSpec, type Role, validateGenesis } from '../ledger/genesis.js';
import type { NodeConfig } from '../node/config.js';
import { toHex } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';

export interface OrgPlan {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
}

export interface NetworkOptions {
  readonly dir: string;
  readonly orgs: readonly OrgPlan[];
  readonly suite: SuiteName;
  readonly chainId: string;
  readonly host: string;
  readonly basePort: number;
  /** Extra member keys per organization (for load clients), beyond the node key. */
  readonly extraKeys?: number;
  readonly ordering?: Partial<OrderingParams>;
  readonly time?: number;
  /** Order on etcd (every node appends and cuts) instead of solo on the first node. */
  readonly etcd?: { readonly endpoints: readonly string[]; readonly retainBlocks?: number };
}

export interface NetworkNode {
  readonly orgId: string;
  readonly url: string;
  readonly config: string;
  readonly dataDir: string;
  readonly keyFile: string;
  readonly extraKeyFiles: string[];
}

export interface NetworkLayout {
  readonly dir: string;
  readonly chainId: string;
  readonly suite: SuiteName;
  readonly genesisFile: string;
  readonly nodes: NetworkNode[];
}

/** Generic organizations org1..orgN; the first hosts the orderer. */
export function genericOrgs(n: number): OrgPlan[] {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new CredenceError('USAGE', '--orgs must be from 1 to 64');
  return Array.from({ length: n }, (_, i) => ({
    id: `org${i + 1}`,
    name: `Organization ${i + 1}`,
    roles: i === 0 ? (['member', 'orderer'] as Role[]) : (['member'] as Role[]),
  }));
}

/** Per-node secrets of the data space: the shared pseudonym secret and the node's own vault key. */
function writeDataspaceKeys(nodeDir: string, pseudonymSecret: Uint8Array): { pseudonymKeyFile: string; vaultPath: string; vaultKeyFile: string } {
  mkdirSync(join(nodeDir, 'vault'), { recursive: true });
  writeFileSync(join(nodeDir, 'pseudonym.key'), `${toHex(pseudonymSecret)}\n`, { mode: 0o600 });
  writeFileSync(join(nodeDir, 'vault.key'), `${toHex(randomBytes(32))}\n`, { mode: 0o600 });
  return { pseudonymKeyFile: 'pseudonym.key', vaultPath: 'vault/vault.sqlite', vaultKeyFile: 'vault.key' };
}

export function createNetwork(o: NetworkOptions): NetworkLayout {
  const suite = getSuite(o.suite);
  mkdirSync(join(o.dir, 'keys'), { recursive: true });
  const specs: OrgSpec[] = [];
  const nodes: NetworkNode[] = [];
  o.orgs.forEach((org, i) => {
    const names = [org.id, ...Array.from({ length: o.extraKeys ?? 0 }, (_, k) => `${org.id}-${k + 1}`)];
    const publicKeys: string[] = [];
    const files = names.map((name) => {
      const key = suite.generateSigningKey();
      publicKeys.push(toHex(key.publicKey));
      return writeKeyFiles(join(o.dir, 'keys'), name, key).privateKeyPath;
    });
    specs.push({ id: org.id, name: org.name, roles: org.roles, keys: publicKeys });
    const port = o.basePort + i;
    const nodeDir = join(o.dir, 'nodes', org.id);
    mkdirSync(join(nodeDir, 'data'), { recursive: true });
    nodes.push({
      orgId: org.id,
      url: `http://${o.host}:${port}`,
      config: join(nodeDir, 'config.json'),
      dataDir: join(nodeDir, 'data'),
      keyFile: files[0] as string,
      extraKeyFiles: files.slice(1),
    });
  });
  // The pseudonym secret (issue 3): one per network, copied to every node directory; the
  // genesis holds only its SHA-256 so a node can check it was given the right one.
  const pseudonymSecret = randomBytes(32);
  const genesis: Genesis = validateGenesis({
    chainId: o.chainId,
    suite: o.suite,
    time: o.time ?? Date.now(),
    orgs: specs,
    policies: DEFAULT_POLICIES,
    ordering: { ...DEFAULT_ORDERING, ...(o.ordering ?? {}) },
    pseudonymSecretHash: createHash('sha256').update(pseudonymSecret).digest('hex'),
  });
  const genesisFile = join(o.dir, 'genesis.json');
  writeFileSync(genesisFile, `${JSON.stringify(genesis, null, 2)}\n`);
  const leader = nodes[0]?.url ?? '';
  nodes.forEach((n, i) => {
    const config: Omit<NodeConfig, 'limits' | 'log'> & { log: { level: string; file: string } } = {
      orgId: n.orgId,
      dataDir: 'data',
      genesisFile: '../../genesis.json',
      keyFile: `../../keys/${n.orgId}.key.pem`,
      api: { host: o.host, port: o.basePort + i },
      ordering: nodeOrdering(o, i, leader, nodes),
      log: { level: 'info', file: 'node.log' },
      ...writeDataspaceKeys(join(o.dir, 'nodes', n.orgId), pseudonymSecret),
    };
    writeFileSync(n.config, `${JSON.stringify(config, null, 2)}\n`);
  });
  const layout: NetworkLayout = { dir: o.dir, chainId: o.chainId, suite: o.suite, genesisFile, nodes };
  writeFileSync(join(o.dir, 'network.json'), `${JSON.stringify(layout, null, 2)}\n`);
  return layout;
}

function nodeOrdering(o: NetworkOptions, i: number, leader: string, nodes: readonly NetworkNode[]): NodeConfig['ordering'] {
  if (o.etcd !== undefined) {
    const peers = nodes.filter((_, k) => k !== i).map((n) => n.url);
    return { kind: 'etcd', endpoints: o.etcd.endpoints, peers, ...(o.etcd.retainBlocks === undefined ? {} : { retainBlocks: o.etcd.retainBlocks }) };
  }
  return i === 0 ? { kind: 'solo' } : { kind: 'follow', leader };
}
