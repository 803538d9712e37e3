// Start a node and its API from a config file: what `credence node start` runs, and what
// tests and the demo use to bring a node up.

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadSigner } from '../crypto/keyfile.js';
import { getSuite } from '../crypto/suites.js';
import { type Genesis, validateGenesis } from '../ledger/genesis.js';
import { type NodeConfig, loadNodeConfig } from '../node/config.js';
import { createLogger, type Logger } from '../node/log.js';
import { type DataspaceServices, openDataspace } from '../node/dataspace.js';
import { CredenceNode } from '../node/node.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import { buildApi } from './server.js';

export interface RunningNode {
  readonly node: CredenceNode;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly dataspace: DataspaceServices;
  close(): Promise<void>;
}

export function loadGenesis(file: string): Genesis {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CredenceError(Codes.CONFIG, `cannot read genesis ${file}: ${(e as Error).message}`);
  }
  return validateGenesis(raw as Genesis);
}

export async function startNodeFromConfig(configFile: string, opts: { logger?: Logger; processMetrics?: boolean } = {}): Promise<RunningNode> {
  return startNode(loadNodeConfig(configFile), opts);
}

export async function startNode(config: NodeConfig, opts: { logger?: Logger; processMetrics?: boolean } = {}): Promise<RunningNode> {
  const genesis = loadGenesis(config.genesisFile);
  const suite = getSuite(genesis.suite);
  const signer = loadSigner(suite, config.keyFile);
  const org = genesis.orgs.find((o) => o.id === config.orgId);
  // On an etcd network an organization added later by a governance vote is not in the
  // genesis: its node joins and syncs the chain from its peers.
  if (org === undefined && config.ordering.kind !== 'etcd') throw new CredenceError(Codes.CONFIG, `organization ${config.orgId} is not in the genesis`);
  const logger =
    opts.logger ?? createLogger({ level: config.log.level, name: config.orgId, ...(config.log.file === undefined ? {} : { file: config.log.file }) });
  if (org !== undefined && !org.keys.includes(toHex(signer.publicKey)))
    logger.warn("node key is not one of its organization's genesis keys", { org: config.orgId });
  const rank = Math.max(0, genesis.orgs.indexOf(org as (typeof genesis.orgs)[number]));
  const node = new CredenceNode({ config, genesis, suite, signer, logger, processMetrics: opts.processMetrics ?? true, rank });
  let app: FastifyInstance | undefined;
  let dataspace: DataspaceServices | undefined;
  try {
    await node.start();
    dataspace = openDataspace(node, genesis, signer, logger);
    app = buildApi(node, dataspace);
    await app.listen({ host: config.api.host, port: config.api.port });
  } catch (e) {
    await app?.close();
    dataspace?.close();
    await node.stop();
    if ((e as { code?: string }).code === 'EADDRINUSE') {
      throw new CredenceError(Codes.CONFIG, `port ${config.api.port} is in use: stop the other process or change api.port in the config`);
    }
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.api.port;
  const url = `http://${config.api.host}:${port}`;
  const started = app;
  const ds = dataspace;
  return {
    node,
    app: started,
    url,
    dataspace: ds,
    close: async () => {
      await started.close();
      ds.close();
      await node.stop();
    },
  };
}
