// The operator's and integrator's commands: create a network, start a node, submit and
// query, govern, and verify data directories and proofs offline.

import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadGenesis, startNodeFromConfig } from '../api/start.js';
import type { JsonValue } from '../codec/canonicalJson.js';
import { writeKeyFiles } from '../crypto/keyfile.js';
import { SUITE_NAMES, getSuite } from '../crypto/suites.js';
import type { SuiteName } from '../crypto/suite.js';
import type { Genesis } from '../ledger/genesis.js';
import { type ProofJson, verifyProof } from '../ledger/proofs.js';
import { proofFinality } from './netops.js';
import { verifyDataDir } from '../node/verifyDataDir.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import { type ConnectOpts, addConnectOptions, connect } from './connect.js';
import { createNetwork, genericOrgs } from './network.js';
import { Progress, printJson, run } from './output.js';

function parseJsonArg(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new CredenceError('USAGE', `${what} is not valid JSON`);
  }
}

function intOption(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new CredenceError('USAGE', `${name} must be an integer`);
  return n;
}

/** Re-exported for command files that import it from here. */
export { run };

export function registerCommands(program: Command): void {
  registerNetwork(program);
  registerNode(program);
  registerTx(program);
  registerQueries(program);
  registerGov(program);
  registerVerify(program);
  registerKey(program);
}

function registerNetwork(program: Command): void {
  const net = program.command('network').description('create and inspect local networks');
  net
    .command('create')
    .description('generate keys, a genesis and node configs for N organizations on loopback')
    .requiredOption('-d, --dir <dir>', 'directory to create the network in')
    .option('-n, --orgs <n>', 'number of organizations', '4')
    .option('--suite <name>', `crypto suite: ${SUITE_NAMES.join(' or ')}`, 'default')
    .option('--chain-id <id>', 'chain id', 'credence-local')
    .option('--host <host>', 'address the nodes listen on', '127.0.0.1')
    .option('--base-port <port>', 'API port of the first node; the others follow', '7001')
    .action(
      run((o: { dir: string; orgs: string; suite: string; chainId: string; host: string; basePort: string }) => {
        if (!(SUITE_NAMES as readonly string[]).includes(o.suite)) throw new CredenceError('USAGE', `--suite must be ${SUITE_NAMES.join(' or ')}`);
        const layout = createNetwork({
          dir: resolve(o.dir),
          orgs: genericOrgs(intOption(o.orgs, '--orgs')),
          suite: o.suite as SuiteName,
          chainId: o.chainId,
          host: o.host,
          basePort: intOption(o.basePort, '--base-port'),
        });
        process.stdout.write(`created network "${layout.chainId}" (${layout.suite} suite) in ${layout.dir}\n`);
        for (const n of layout.nodes) process.stdout.write(`  ${n.orgId.padEnd(12)} ${n.url}  credence node start --config ${n.config}\n`);
      }),
    );
}

function registerNode(program: Command): void {
  const node = program.command('node').description('run a node');
  node
    .command('start')
    .description('start a node and its REST API; Ctrl-C stops it cleanly')
    .requiredOption('-c, --config <file>', 'node config file')
    .action(
      run(async (o: { config: string }) => {
        const running = await startNodeFromConfig(o.config);
        process.stdout.write(`node ${running.node.config.orgId} (${running.node.role}) at height ${running.node.chain.height()} listening on ${running.url}\n`);
        const stop = async () => {
          await running.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }),
    );
}

function registerTx(program: Command): void {
  const tx = program.command('tx').description('submit and read transactions');
  addConnectOptions(tx.command('submit').description('sign and submit a transaction'))
    .requiredOption('--contract <name>', 'contract, e.g. kv')
    .requiredOption('--method <name>', 'method, e.g. put')
    .option('--args <json>', 'arguments as JSON', '{}')
    .option('--no-wait', 'return once accepted instead of waiting for the commit')
    .option('--ttl <ms>', 'validity window in ms', '600000')
    .action(
      run(async (o: ConnectOpts & { contract: string; method: string; args: string; wait: boolean; ttl: string }) => {
        const client = connect(o);
        const bytes = await client.signTx({ contract: o.contract, method: o.method, args: parseJsonArg(o.args, '--args'), ttlMs: intOption(o.ttl, '--ttl') });
        const [r] = await client.submit([bytes], { wait: o.wait });
        printJson(r);
        if (r === undefined || r.status === 'rejected' || (r.status === 'committed' && r.code !== 'OK')) process.exitCode = 1;
      }),
    );
  addConnectOptions(tx.command('get <id>').description('status, result and content of a transaction')).action(
    run(async (id: string, o: ConnectOpts) => printJson(await connect(o).tx(id))),
  );
  addConnectOptions(tx.command('proof <id>').description('inclusion proof of a committed transaction'))
    .option('-o, --out <file>', 'write the proof to a file')
    .option('--final', 'etcd networks: bundle the checkpoints (and membership changes) that make its block final, for "proof verify --require-final"')
    .action(
      run(async (id: string, o: ConnectOpts & { out?: string; final?: boolean }) => {
        const c = connect(o);
        emit(o.final ? await c.txFinalProof(id) : await c.txProof(id), o.out);
      }),
    );
}

function emit(v: unknown, out?: string): void {
  if (out === undefined) printJson(v);
  else {
    writeFileSync(out, `${JSON.stringify(v, null, 2)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  }
}

function registerQueries(program: Command): void {
  addConnectOptions(program.command('block <ref>').description('a block by height, hash or "latest"')).action(
    run(async (ref: string, o: ConnectOpts) => printJson(await connect(o).block(ref))),
  );
  addConnectOptions(program.command('state <key>').description('a state value, optionally with a proof'))
    .option('--proof', 'include a proof against the head block')
    .option('-o, --out <file>', 'write the proof to a file (implies --proof)')
    .action(
      run(async (key: string, o: ConnectOpts & { proof?: boolean; out?: string }) => {
        const s = await connect(o).state(key, o.proof === true || o.out !== undefined);
        if (o.out !== undefined) emit(s.proof, o.out);
        else printJson(s);
      }),
    );
  addConnectOptions(program.command('info').description('chain id, suite, height and role of a node')).action(
    run(async (o: ConnectOpts) => printJson(await connect(o).info())),
  );
  addConnectOptions(program.command('events').description('follow block and contract events (Ctrl-C to stop)'))
    .option('--from <height>', 'replay from this height')
    .action(
      run(async (o: ConnectOpts & { from?: string }) => {
        for await (const ev of connect(o).events(o.from === undefined ? undefined : intOption(o.from, '--from'))) {
          process.stdout.write(`${JSON.stringify(ev)}\n`);
        }
      }),
    );
}

function registerGov(program: Command): void {
  const gov = program.command('gov').description('governance: propose and vote on changes');
  addConnectOptions(gov.command('propose').description('propose adding or removing an organization, or changing a policy'))
    .option('--add-org <file>', 'JSON file {id, name, roles, keys}')
    .option('--remove-org <id>', 'organization to remove')
    .option('--set-policy <name=value>', 'policy to change, e.g. txTtlMaxMs=600000')
    .action(
      run(async (o: ConnectOpts & { addOrg?: string; removeOrg?: string; setPolicy?: string }) => {
        const args = proposalArgs(o);
        const r = await connect(o).call({ contract: 'gov', method: 'propose', args });
        printJson(r);
        if (r.code !== 'OK') process.exitCode = 1;
      }),
    );
  addConnectOptions(gov.command('vote <proposalId>').description('vote on an open proposal'))
    .option('--yes', 'approve')
    .option('--no', 'reject')
    .action(
      run(async (id: string, o: ConnectOpts & { yes?: boolean; no?: boolean }) => {
        if (o.yes === o.no) throw new CredenceError('USAGE', 'say --yes or --no');
        const r = await connect(o).call({ contract: 'gov', method: 'vote', args: { proposalId: intOption(id, 'proposalId'), approve: o.yes === true } });
        printJson(r);
        if (r.code !== 'OK') process.exitCode = 1;
      }),
    );
  addConnectOptions(gov.command('show <proposalId>').description('a proposal and its votes')).action(
    run(async (id: string, o: ConnectOpts) => printJson((await connect(o).state(`gov/proposal/${intOption(id, 'proposalId')}`)).value)),
  );
}

function proposalArgs(o: { addOrg?: string; removeOrg?: string; setPolicy?: string }): JsonValue {
  const given = [o.addOrg, o.removeOrg, o.setPolicy].filter((v) => v !== undefined).length;
  if (given !== 1) throw new CredenceError('USAGE', 'give exactly one of --add-org, --remove-org, --set-policy');
  if (o.addOrg !== undefined) return { kind: 'addOrg', org: parseJsonArg(readFileSync(o.addOrg, 'utf8'), o.addOrg) };
  if (o.removeOrg !== undefined) return { kind: 'removeOrg', orgId: o.removeOrg };
  const [name, value] = (o.setPolicy ?? '').split('=');
  if (name === undefined || value === undefined) throw new CredenceError('USAGE', '--set-policy takes name=value');
  return { kind: 'setPolicy', name, value: intOption(value, 'policy value') };
}

function registerVerify(program: Command): void {
  program
    .command('verify <dataDir>')
    .description('re-verify a node data directory offline: hash chain, signatures, Merkle roots, state replay')
    .option('--genesis <file>', 'pin the genesis document (default: the copy in the directory)')
    .option('--json', 'print the report as JSON')
    .action(
      run(async (dataDir: string, o: { genesis?: string; json?: boolean }) => {
        const progress = new Progress('verifying blocks');
        const genesis: Genesis | undefined = o.genesis === undefined ? undefined : loadGenesis(o.genesis);
        const report = await verifyDataDir(resolve(dataDir), { ...(genesis === undefined ? {} : { genesis }), onProgress: (d, t) => progress.update(d, t) });
        if (o.json) printJson(report);
        else if (report.ok) process.stdout.write(`ok: ${report.blocks} blocks, ${report.txs} transactions, head ${report.height} ${report.headHash}\n`);
        else process.stdout.write(`FAILED at height ${report.firstBadHeight}: ${report.reason}\n`);
        if (!report.ok) process.exitCode = 1;
      }),
    );
  const proof = program.command('proof').description('check proofs offline');
  proof
    .command('verify <file>')
    .description('check a transaction or state proof against its block header')
    .option('--block-hash <hex>', 'the block hash you trust (e.g. from another node or a checkpoint)')
    .option('--suite <name>', 'crypto suite of the network', 'default')
    .option('--genesis <file>', "check the proof's checkpoints against these organizations (majority = final); implies the genesis suite")
    .option('--require-final', 'fail unless checkpoints of a majority of organizations make the block final (needs --genesis)')
    .action(
      run((file: string, o: { blockHash?: string; suite: string; genesis?: string; requireFinal?: boolean }) => {
        const genesis = o.genesis === undefined ? undefined : loadGenesis(o.genesis);
        if (o.requireFinal && genesis === undefined) throw new CredenceError('USAGE', '--require-final needs --genesis <file>');
        const suite = getSuite(genesis?.suite ?? o.suite);
        let p: ProofJson;
        try {
          p = JSON.parse(readFileSync(file, 'utf8')) as ProofJson;
        } catch (e) {
          throw new CredenceError(Codes.MALFORMED, `cannot read proof ${file}: ${(e as Error).message}`);
        }
        const check = verifyProof((d) => suite.hash(d), p, o.blockHash);
        const finality = genesis === undefined || !check.ok ? undefined : proofFinality(suite, p, genesis);
        printJson(finality === undefined ? check : { ...check, ...finality });
        if (!check.ok || (o.requireFinal && finality?.final !== true)) process.exitCode = 1;
      }),
    );
}

function registerKey(program: Command): void {
  program
    .command('key')
    .description('key files')
    .command('generate <name>')
    .description('generate a signing key pair as <dir>/<name>.key.pem and .pub.pem')
    .option('-d, --dir <dir>', 'directory', '.')
    .option('--suite <name>', 'crypto suite', 'default')
    .action(
      run((name: string, o: { dir: string; suite: string }) => {
        const key = getSuite(o.suite).generateSigningKey();
        const paths = writeKeyFiles(resolve(o.dir), name, key);
        process.stdout.write(`wrote ${paths.privateKeyPath} and ${paths.publicKeyPath}\npublic key: ${toHex(key.publicKey)}\n`);
      }),
    );
}
