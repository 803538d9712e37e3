// Shared pieces of the data-space contracts (identity, records, consents, access, disputes):
// the state keys, argument checks, per-subject indexes, and subject-signed statements.
// A subject is not a member: it signs a statement with the key the registration authority
// bound to its subject id, and any member relays the statement in a transaction.

import type { JsonValue } from '../codec/canonicalJson.js';
import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { CryptoSuite, Signer } from '../crypto/suite.js';
import type { ContractContext, StateReader } from '../execution/runtime.js';
import { ContractError } from '../execution/runtime.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { readJson } from './members.js';

export const DsKeys = {
  subject: (s: string) => `id/subj/${s}`,
  subjectKey: (hex: string) => `id/key/${hex}`,
  schema: (id: string) => `schema/${id}`,
  schemaList: 'schema/list',
  record: (id: string) => `rec/${id}`,
  consent: (id: string) => `con/${id}`,
  access: (id: string) => `acc/${id}`,
  accessPolicy: (org: string) => `acc/policy/${org}`,
  dispute: (id: string) => `dis/${id}`,
  /** Every provider's outcomes of delivery requests under an access (one entry per access: the outcomes of one report share a write). */
  delivery: (accessId: string) => `dlv/${accessId}`,
  /** Per-subject index: the count at the prefix, item n at `<prefix>/<n>`. */
  index: (kind: IndexKind, subject: string) => `idx/${kind}/${subject}`,
} as const;

export type IndexKind = 'rec' | 'con' | 'acc' | 'dis';

/** Enterprise `E:<USCC>` or person `P:<hex HMAC>`; the raw ID number never appears. */
export const SUBJECT_RE = /^(E:[0-9A-HJ-NPQRTUWXY]{18}|P:[0-9a-f]{64})$/;
export const HEX_ID_RE = /^[0-9a-f]{16,128}$/;
export const HASH_HEX_RE = /^[0-9a-f]{64}$/;
export const CATEGORY_RE = /^[a-z][a-z0-9-]{0,31}$/;
export const PURPOSE_RE = /^[A-Z][A-Z0-9_]{1,31}$/;
export const CATEGORIES_MAX = 16;

export function refuse(code: string, message: string): never {
  throw new ContractError(code, message);
}

export function argsObject(args: JsonValue, code: string, what: string): Record<string, JsonValue> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) refuse(code, `${what} must be an object`);
  return args;
}

export function matchString(v: JsonValue | undefined, re: RegExp, code: string, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) refuse(code, `${what} is malformed`);
  return v;
}

/** A non-empty list of distinct category names, sorted. */
export function categoryList(v: JsonValue | undefined, code: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > CATEGORIES_MAX) refuse(code, `categories must be 1 to ${CATEGORIES_MAX} names`);
  const names = v.map((c) => matchString(c, CATEGORY_RE, code, 'category'));
  if (new Set(names).size !== names.length) refuse(code, 'categories must be distinct');
  return names.sort();
}

export function appendIndex(ctx: ContractContext, kind: IndexKind, subject: string, id: string): void {
  const prefix = DsKeys.index(kind, subject);
  const n = (ctx.get(prefix) as number | undefined) ?? 0;
  ctx.put(`${prefix}/${n}`, id);
  ctx.put(prefix, n + 1);
}

/** Ids in a subject's index, newest last; `from` and `limit` page through long lists. */
export function readIndex(read: StateReader, kind: IndexKind, subject: string, from = 0, limit = 1000): string[] {
  const prefix = DsKeys.index(kind, subject);
  const n = (readJson(read, prefix) as number | undefined) ?? 0;
  const out: string[] = [];
  for (let i = from; i < n && out.length < limit; i++) {
    const id = readJson(read, `${prefix}/${i}`);
    if (typeof id === 'string') out.push(id);
  }
  return out;
}

export function indexCount(read: StateReader, kind: IndexKind, subject: string): number {
  return (readJson(read, DsKeys.index(kind, subject)) as number | undefined) ?? 0;
}

// ---- subject-signed statements ----------------------------------------------------------

export const Domains = {
  consentGrant: 'credence/consent-grant/v1',
  consentRevoke: 'credence/consent-revoke/v1',
  disputeOpen: 'credence/dispute-open/v1',
} as const;
export type Domain = (typeof Domains)[keyof typeof Domains];

export interface SignedStatement {
  readonly statement: JsonValue;
  /** The subject's raw public key, hex. */
  readonly publicKey: string;
  readonly signature: string;
}

/** What a subject signs: the chain id and a domain tag bind the statement to one use. */
export function statementDigest(hash: (d: Uint8Array) => Uint8Array, chainId: string, domain: Domain, statement: JsonValue): Uint8Array {
  return hash(canonicalJsonBytes({ chainId, domain, statement }));
}

/**
 * Check a subject-signed statement: the key is bound to the statement's subject by the
 * registration authority, and the signature verifies. Returns the statement object.
 */
export function verifyStatement(ctx: ContractContext, suite: CryptoSuite, domain: Domain, args: JsonValue): Record<string, JsonValue> {
  const a = argsObject(args, 'BAD_STATEMENT', 'arguments');
  const statement = argsObject(a.statement ?? null, 'BAD_STATEMENT', 'statement');
  const subject = matchString(statement.subject, SUBJECT_RE, 'BAD_SUBJECT', 'subject');
  const keyHex = typeof a.publicKey === 'string' ? a.publicKey : '';
  const key = fromHexStrict(keyHex);
  const sig = typeof a.signature === 'string' ? fromHexStrict(a.signature) : undefined;
  if (key === undefined || sig === undefined) refuse('BAD_STATEMENT', 'publicKey and signature must be lowercase hex');
  if (ctx.get(DsKeys.subjectKey(keyHex)) !== subject) refuse('SUBJECT_KEY_UNKNOWN', 'the key is not registered to this subject');
  if (
    !suite.verify(
      key,
      statementDigest((d) => suite.hash(d), ctx.block.chainId, domain, statement),
      sig,
    )
  ) {
    refuse('BAD_SUBJECT_SIGNATURE', "the subject's signature does not verify");
  }
  return statement;
}

/** Sign a statement as a subject (the wallet side of `verifyStatement`). */
export async function signStatement(suite: CryptoSuite, signer: Signer, chainId: string, domain: Domain, statement: JsonValue): Promise<SignedStatement> {
  const sig = await signer.sign(statementDigest((d) => suite.hash(d), chainId, domain, statement));
  return { statement, publicKey: toHex(signer.publicKey), signature: toHex(sig) };
}
