// The provider side of the data space inside a node process: the network's pseudonym
// secret (checked against the genesis), the record vault, the importer and the expiry
// sweeper, and the in-process chain port they use (the node's own chain for reads, its own
// admission path and key for transactions).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { randomInt } from 'node:crypto';
import { type JsonValue, canonicalJsonBytes } from '../codec/canonicalJson.js';
import { decodeTx, signTx } from '../codec/tx.js';
import { readRecord } from '../contracts/records.js';
import { readSchema } from '../contracts/schemas.js';
import type { Signer } from '../crypto/suite.js';
import type { ChainPort, SignedTx, TxOutcome } from '../dataspace/chainPort.js';
import { ExpirySweeper } from '../dataspace/expiry.js';
import { PSEUDONYM_SECRET_BYTES } from '../dataspace/identifiers.js';
import { Importer } from '../dataspace/importer.js';
import type { SchemaDefinition } from '../dataspace/schemas/catalog.js';
import { SqliteVault, VAULT_KEY_BYTES } from '../dataspace/vault.js';
import type { Genesis } from '../ledger/genesis.js';
import { fromHexStrict } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { Logger } from './log.js';
import type { CredenceNode } from './node.js';

/** How long the importer's and sweeper's own transactions stay valid. */
const OWN_TX_TTL_MS = 10 * 60 * 1000;
/** Worker threads that seal imported batches (the main thread parses, validates and commits meanwhile). */
const SEAL_THREADS = Math.min(4, availableParallelism());
/** How often the node sweeps expired records on its own. */
export const SWEEP_INTERVAL_MS = 60_000;

export interface DataspaceServices {
  readonly pseudonymSecret: Uint8Array | undefined;
  readonly vault: SqliteVault | undefined;
  readonly importer: Importer | undefined;
  readonly sweeper: ExpirySweeper | undefined;
  readonly chain: ChainPort;
  close(): void;
}

function readHexKey(file: string, bytes: number, what: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new CredenceError(Codes.CONFIG, `cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
  const key = fromHexStrict(text);
  if (key === undefined || key.byteLength !== bytes) throw new CredenceError(Codes.BAD_KEY, `${file}: the ${what} must be ${bytes} bytes of lowercase hex`);
  return key;
}

/** The pseudonym secret, if configured; refuses one that does not match the genesis. */
export function loadPseudonymSecret(file: string | undefined, genesis: Genesis): Uint8Array | undefined {
  if (file === undefined) return undefined;
  const secret = readHexKey(file, PSEUDONYM_SECRET_BYTES, 'pseudonym secret');
  const hash = createHash('sha256').update(secret).digest('hex');
  if (genesis.pseudonymSecretHash !== undefined && hash !== genesis.pseudonymSecretHash) {
    throw new CredenceError(Codes.BAD_KEY, `${file} is not this network's pseudonym secret (its hash differs from the genesis)`);
  }
  return secret;
}

export class NodeChainPort implements ChainPort {
  constructor(
    private readonly node: CredenceNode,
    private readonly signer: Signer,
  ) {}

  get orgId(): string {
    return this.node.config.orgId;
  }

  schema(id: string): SchemaDefinition | undefined {
    return readSchema(this.node.chain.read, id) as unknown as SchemaDefinition | undefined;
  }

  record(id: string) {
    return readRecord(this.node.chain.read, id);
  }

  blockTime(): number {
    return this.node.chain.head().header.time;
  }

  async sign(contract: string, method: string, args: JsonValue): Promise<SignedTx> {
    const hash = (d: Uint8Array) => this.node.suite.hash(d);
    const expiresAt = Date.now() + OWN_TX_TTL_MS;
    const unsigned = {
      chainId: this.node.chain.head().header.chainId,
      signer: this.signer.publicKey,
      nonce: randomInt(0, 2 ** 48 - 1),
      expiresAt,
      contract,
      method,
      args: canonicalJsonBytes(args),
    };
    const bytes = await signTx(hash, this.signer, unsigned);
    return { id: decodeTx(hash, bytes).idHex, bytes, expiresAt };
  }

  async submit(tx: SignedTx, timeoutMs: number): Promise<TxOutcome> {
    const admitted = await this.node.admit([tx.bytes]);
    const first = admitted[0];
    if (first?.status === 'rejected' && first.code !== Codes.TX_REPLAYED) {
      return { kind: 'refused', code: first.code ?? 'REJECTED', message: first.message ?? 'transaction refused' };
    }
    // A replay means these very bytes were submitted before: wait for that submission.
    const [r] = await this.node.waitFor([{ id: tx.id, status: 'accepted' }], timeoutMs);
    if (r?.status !== 'committed') return this.outcome(tx.id);
    return r.code === 'OK' ? { kind: 'ok' } : { kind: 'refused', code: r.code ?? 'REFUSED', message: r.message ?? `the contract refused it (${r.code})` };
  }

  outcome(txId: string): TxOutcome {
    const id = fromHexStrict(txId);
    const loc = id === undefined ? undefined : this.node.chain.store.tx(id);
    if (loc === undefined) return { kind: 'unknown' };
    return loc.code === 'OK' ? { kind: 'ok' } : { kind: 'refused', code: loc.code, message: `the contract refused it (${loc.code})` };
  }
}

/** Open the node's data-space services from its config; the vault is optional (not every node is a provider). */
export function openDataspace(node: CredenceNode, genesis: Genesis, signer: Signer, log: Logger): DataspaceServices {
  const config = node.config;
  const pseudonymSecret = loadPseudonymSecret(config.pseudonymKeyFile, genesis);
  const chain = new NodeChainPort(node, signer);
  if (config.vaultPath === undefined || config.vaultKeyFile === undefined) {
    return { pseudonymSecret, vault: undefined, importer: undefined, sweeper: undefined, chain, close: () => {} };
  }
  const vault = new SqliteVault({
    path: config.vaultPath,
    key: readHexKey(config.vaultKeyFile, VAULT_KEY_BYTES, 'vault key'),
    suite: node.suite,
    sealThreads: SEAL_THREADS,
  });
  const importer = new Importer({
    suite: node.suite,
    vault,
    chain,
    ...(pseudonymSecret === undefined ? {} : { pseudonymSecret }),
  });
  const sweeper = new ExpirySweeper(vault, chain);
  const timer = setInterval(() => {
    sweeper.sweep().then(
      (r) => {
        if (r.expired.length > 0) log.info('expired records destroyed', { count: r.expired.length });
      },
      (e: unknown) => log.warn('expiry sweep failed', { error: String(e) }),
    );
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  // Settle batches a crash left half-way (after the node has started following/ordering). A
  // node that fails to start closes the vault first: nothing to settle, nothing to report.
  let closed = false;
  setImmediate(() => {
    if (closed) return;
    importer.recover().then(
      (c) => {
        if (c.finished + c.dropped + c.waiting > 0) log.info('import batches recovered', c);
      },
      (e: unknown) => {
        if (!closed) log.warn('import recovery failed', { error: String(e) });
      },
    );
  });
  return {
    pseudonymSecret,
    vault,
    importer,
    sweeper,
    chain,
    close: () => {
      closed = true;
      clearInterval(timer);
      vault.close();
    },
  };
}
