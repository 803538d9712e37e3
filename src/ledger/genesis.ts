// The genesis document: the network's founding facts (chain id, crypto suite, member
// organizations with their roles and keys, policies, block-formation parameters). Every node
// must hold the identical document; its hash is block 0's previous hash.

import { canonicalJson, canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { HashFn } from '../codec/tx.js';
import { SUITE_NAMES } from '../crypto/suites.js';
import type { SuiteName } from '../crypto/suite.js';
import { fromHexStrict } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

export const ROLES = ['member', 'orderer', 'regulator', 'registrar', 'approver'] as const;
export type Role = (typeof ROLES)[number];

export interface OrgSpec {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** Raw public keys (hex) of the organization's members. */
  readonly keys: readonly string[];
}

export interface OrderingParams {
  /** Most transactions in one block. */
  readonly blockTxMax: number;
  /** Most bytes of transactions in one block. */
  readonly blockBytesMax: number;
  /** A non-empty open block is cut after this long. */
  readonly cutTimeoutMs: number;
}

export interface Policies {
  /** Longest a transaction may stay valid after it is admitted. */
  readonly txTtlMaxMs: number;
  /** How long a governance proposal stays open for votes. */
  readonly proposalTtlMs: number;
}

export interface Genesis {
  readonly chainId: string;
  readonly suite: SuiteName;
  /** Genesis time, ms since epoch; block 0's time. */
  readonly time: number;
  readonly orgs: readonly OrgSpec[];
  readonly policies: Policies;
  readonly ordering: OrderingParams;
  /** SHA-256 (hex) of the network's pseudonym secret, so a node can check it holds the right one. */
  readonly pseudonymSecretHash?: string;
}

export const DEFAULT_ORDERING: OrderingParams = { blockTxMax: 4000, blockBytesMax: 8 * 1024 * 1024, cutTimeoutMs: 100 };
export const DEFAULT_POLICIES: Policies = { txTtlMaxMs: 60 * 60 * 1000, proposalTtlMs: 7 * 24 * 60 * 60 * 1000 };

const ID_RE = /^[a-z][a-z0-9-]{0,31}$/;
const CHAIN_RE = /^[a-z][a-z0-9-]{0,63}$/;

function bad(message: string): never {
  throw new CredenceError(Codes.CONFIG, `genesis: ${message}`);
}

function checkPositive(v: unknown, name: string): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) bad(`${name} must be a positive integer`);
}

function checkOrg(o: OrgSpec, seen: Set<string>, keysSeen: Set<string>): void {
  if (!ID_RE.test(o.id)) bad(`organization id "${o.id}" must match ${ID_RE.source}`);
  if (seen.has(o.id)) bad(`organization id "${o.id}" appears twice`);
  seen.add(o.id);
  if (typeof o.name !== 'string' || o.name.length === 0) bad(`organization ${o.id} needs a name`);
  if (!Array.isArray(o.roles) || !o.roles.every((r) => (ROLES as readonly string[]).includes(r))) {
    bad(`organization ${o.id} has an unknown role (allowed: ${ROLES.join(', ')})`);
  }
  if (!Array.isArray(o.keys) || o.keys.length === 0) bad(`organization ${o.id} needs at least one key`);
  for (const k of o.keys) {
    if (fromHexStrict(k) === undefined) bad(`organization ${o.id} has a key that is not lowercase hex`);
    if (keysSeen.has(k)) bad(`a key of organization ${o.id} is used twice`);
    keysSeen.add(k);
  }
}

/** Check a parsed genesis document; throws CONFIG naming the first problem. */
export function validateGenesis(g: Genesis): Genesis {
  if (typeof g !== 'object' || g === null) bad('must be a JSON object');
  if (!CHAIN_RE.test(g.chainId)) bad(`chainId must match ${CHAIN_RE.source}`);
  if (!(SUITE_NAMES as readonly string[]).includes(g.suite)) bad(`suite must be one of ${SUITE_NAMES.join(', ')}`);
  checkPositive(g.time, 'time');
  if (!Array.isArray(g.orgs) || g.orgs.length === 0) bad('needs at least one organization');
  const seen = new Set<string>();
  const keysSeen = new Set<string>();
  for (const o of g.orgs) checkOrg(o, seen, keysSeen);
  if (!g.orgs.some((o) => o.roles.includes('orderer'))) bad('one organization must have the orderer role');
  checkPositive(g.policies?.txTtlMaxMs, 'policies.txTtlMaxMs');
  checkPositive(g.policies?.proposalTtlMs, 'policies.proposalTtlMs');
  checkPositive(g.ordering?.blockTxMax, 'ordering.blockTxMax');
  checkPositive(g.ordering?.blockBytesMax, 'ordering.blockBytesMax');
  checkPositive(g.ordering?.cutTimeoutMs, 'ordering.cutTimeoutMs');
  if (g.pseudonymSecretHash !== undefined && !/^[0-9a-f]{64}$/.test(g.pseudonymSecretHash)) bad('pseudonymSecretHash must be 64 lowercase hex characters');
  canonicalJson(g);
  return g;
}

export function genesisHash(hash: HashFn, g: Genesis): Uint8Array {
  return hash(canonicalJsonBytes(g));
}
