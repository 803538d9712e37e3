// How CLI commands reach a node: --config (a node config: its URL, key and genesis) or
// --url with --key and --suite.

import type { Command } from 'commander';
import { loadSigner } from '../crypto/keyfile.js';
import { getSuite } from '../crypto/suites.js';
import type { SuiteName } from '../crypto/suite.js';
import { loadGenesis } from '../api/start.js';
import { loadNodeConfig } from '../node/config.js';
import { CredenceClient } from '../sdk/client.js';
import { CredenceError } from '../util/errors.js';

export interface ConnectOpts {
  config?: string;
  url?: string;
  key?: string;
  suite?: string;
}

export function addConnectOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'node config file (gives URL, key and suite)')
    .option('--url <url>', 'node URL, e.g. http://127.0.0.1:7001')
    .option('--key <file>', 'member private key (PEM) to sign with')
    .option('--suite <name>', 'crypto suite of the network: default or gm', 'default');
}

export function connect(o: ConnectOpts): CredenceClient {
  if (o.config !== undefined) {
    const cfg = loadNodeConfig(o.config);
    const genesis = loadGenesis(cfg.genesisFile);
    const suite = getSuite(genesis.suite);
    const host = cfg.api.host === '0.0.0.0' ? '127.0.0.1' : cfg.api.host;
    return new CredenceClient({
      url: o.url ?? `http://${host}:${cfg.api.port}`,
      suite,
      signer: loadSigner(suite, o.key ?? cfg.keyFile),
      chainId: genesis.chainId,
    });
  }
  if (o.url === undefined) throw new CredenceError('USAGE', 'say which node: --config <node config> or --url <url> --key <key file>');
  const suite = getSuite((o.suite ?? 'default') as SuiteName);
  return new CredenceClient({ url: o.url, suite, ...(o.key === undefined ? {} : { signer: loadSigner(suite, o.key) }) });
}
