// A node's configuration file. Paths in it are relative to the file's own directory, so a
// network folder can be moved or copied as a whole.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CredenceError, Codes } from '../util/errors.js';
import type { LogLevel } from './log.js';

export interface EtcdOrderingConfig {
  readonly kind: 'etcd';
  /** Client URLs of the etcd members. */
  readonly endpoints: readonly string[];
  /** API URLs of other nodes (more are discovered from etcd) for block sync and checkpoints. */
  readonly peers?: readonly string[];
  /** Blocks of log kept in etcd below the final height before compacting (default 1000). */
  readonly retainBlocks?: number;
  /** This node's advertised API URL (default: http://api.host:api.port). */
  readonly url?: string;
}

export type OrderingConfig = { readonly kind: 'solo' } | { readonly kind: 'follow'; readonly leader: string } | EtcdOrderingConfig;

function validEtcd(o: Partial<EtcdOrderingConfig>): boolean {
  const urls = (v: unknown) => Array.isArray(v) && v.every((u) => typeof u === 'string' && /^https?:\/\//.test(u));
  return (
    urls(o.endpoints) &&
    (o.endpoints?.length ?? 0) > 0 &&
    (o.peers === undefined || urls(o.peers)) &&
    (o.retainBlocks === undefined || (Number.isSafeInteger(o.retainBlocks) && o.retainBlocks >= 0))
  );
}

export interface NodeLimits {
  /** Largest HTTP request body. */
  readonly bodyBytesMax: number;
  /** Most transactions in one submit request. */
  readonly batchTxMax: number;
  /** Most admitted transactions waiting to be committed. */
  readonly poolTxMax: number;
  /** Most blocks in one range read. */
  readonly rangeMax: number;
  /** Longest a submit may wait for its commit. */
  readonly waitMsMax: number;
  /** Most concurrent event-stream subscribers. */
  readonly subscribersMax: number;
}

export interface NodeConfig {
  readonly orgId: string;
  readonly dataDir: string;
  readonly genesisFile: string;
  readonly keyFile: string;
  readonly api: { readonly host: string; readonly port: number };
  readonly ordering: OrderingConfig;
  readonly limits: NodeLimits;
  readonly log: { readonly level: LogLevel; readonly file?: string };
  /** Worker threads for signature verification (default: all cores). */
  readonly verifyThreads?: number;
  /** The network's pseudonym secret (32 bytes, hex), shared off chain by member nodes. */
  readonly pseudonymKeyFile?: string;
  /** The provider's record vault (SQLite) and the 32-byte key (hex) that wraps its data keys. */
  readonly vaultPath?: string;
  readonly vaultKeyFile?: string;
}

export const DEFAULT_LIMITS: NodeLimits = {
  bodyBytesMax: 16 * 1024 * 1024,
  batchTxMax: 5000,
  poolTxMax: 200_000,
  rangeMax: 100,
  waitMsMax: 60_000,
  subscribersMax: 64,
};

function bad(file: string, message: string): never {
  throw new CredenceError(Codes.CONFIG, `${file}: ${message}`);
}

export function parseNodeConfig(raw: unknown, file: string): NodeConfig {
  const c = raw as Partial<NodeConfig> | null;
  if (typeof c !== 'object' || c === null) bad(file, 'must be a JSON object');
  const dir = dirname(resolve(file));
  for (const k of ['orgId', 'dataDir', 'genesisFile', 'keyFile'] as const) {
    if (typeof c[k] !== 'string' || c[k].length === 0) bad(file, `"${k}" must be a non-empty string`);
  }
  const api = c.api ?? { host: '127.0.0.1', port: 7001 };
  if (typeof api.host !== 'string' || !Number.isInteger(api.port) || api.port < 0 || api.port > 65535) bad(file, '"api" needs host and port');
  const ordering = c.ordering ?? { kind: 'solo' };
  const okOrdering =
    ordering.kind === 'solo' || (ordering.kind === 'follow' && typeof ordering.leader === 'string') || (ordering.kind === 'etcd' && validEtcd(ordering));
  if (!okOrdering) {
    bad(file, '"ordering" must be {"kind":"solo"}, {"kind":"follow","leader":"http://host:port"} or {"kind":"etcd","endpoints":["http://host:port", …]}');
  }
  const limits = { ...DEFAULT_LIMITS, ...(c.limits ?? {}) };
  for (const [k, v] of Object.entries(limits)) if (!Number.isSafeInteger(v) || v <= 0) bad(file, `limits.${k} must be a positive integer`);
  return {
    orgId: c.orgId as string,
    dataDir: resolve(dir, c.dataDir as string),
    genesisFile: resolve(dir, c.genesisFile as string),
    keyFile: resolve(dir, c.keyFile as string),
    api,
    ordering,
    limits,
    log: { level: c.log?.level ?? 'info', ...(c.log?.file === undefined ? {} : { file: resolve(dir, c.log.file) }) },
    ...(c.verifyThreads === undefined ? {} : { verifyThreads: c.verifyThreads }),
    ...optionalPaths(c, dir, file),
  };
}

function optionalPaths(c: Partial<NodeConfig>, dir: string, file: string): Pick<NodeConfig, 'pseudonymKeyFile' | 'vaultPath' | 'vaultKeyFile'> {
  const out: { pseudonymKeyFile?: string; vaultPath?: string; vaultKeyFile?: string } = {};
  for (const k of ['pseudonymKeyFile', 'vaultPath', 'vaultKeyFile'] as const) {
    const v = c[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0) bad(file, `"${k}" must be a non-empty string`);
    out[k] = resolve(dir, v);
  }
  if ((out.vaultPath === undefined) !== (out.vaultKeyFile === undefined)) bad(file, '"vaultPath" and "vaultKeyFile" go together');
  return out;
}

export function loadNodeConfig(file: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CredenceError(Codes.CONFIG, `cannot read node config ${file}: ${(e as Error).message}`);
  }
  try {
    return parseNodeConfig(JSON.parse(text), file);
  } catch (e) {
    if (e instanceof CredenceError) throw e;
    throw new CredenceError(Codes.CONFIG, `${file} is not valid JSON`);
  }
}
