// Contract `consents`: a subject grants a consumer organization the use of its records in
// some categories for one purpose until an expiry (optionally for a single access), and
// revokes it. Both are statements the subject signs with its registered key; any member
// (usually the consumer, or a node relaying for the subject) submits them.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { Contract, ContractContext, StateReader } from '../execution/runtime.js';
import type { ConsentEntry } from './consentRules.js';
import { isRevoked } from './consentRules.js';
import { DsKeys, Domains, HEX_ID_RE, PURPOSE_RE, appendIndex, categoryList, matchString, refuse, verifyStatement } from './dataspaceState.js';
import { Keys, readJson, requireMember } from './members.js';

/** Longest a consent may run: one year of block time. */
export const CONSENT_TTL_MAX_MS = 366 * 24 * 60 * 60 * 1000;

export function readConsent(read: StateReader, id: string): ConsentEntry | undefined {
  return readJson(read, DsKeys.consent(id)) as unknown as ConsentEntry | undefined;
}

export function consentOf(ctx: ContractContext, id: string): ConsentEntry | undefined {
  return ctx.get(DsKeys.consent(id)) as unknown as ConsentEntry | undefined;
}

function grant(suite: CryptoSuite, ctx: ContractContext, args: JsonValue): JsonValue {
  requireMember(ctx);
  const s = verifyStatement(ctx, suite, Domains.consentGrant, args);
  const id = matchString(s.id, HEX_ID_RE, 'BAD_CONSENT', 'consent id');
  const consumer = typeof s.consumer === 'string' ? s.consumer : '';
  if (ctx.get(Keys.org(consumer)) === undefined) refuse('UNKNOWN_ORG', 'the consumer is not a member organization');
  const categories = categoryList(s.categories, 'BAD_CONSENT');
  const purpose = matchString(s.purpose, PURPOSE_RE, 'BAD_CONSENT', 'purpose code');
  if (typeof s.expiresAt !== 'number' || !Number.isSafeInteger(s.expiresAt)) refuse('BAD_CONSENT', 'expiresAt must be ms since epoch');
  if (s.expiresAt <= ctx.block.time) refuse('CONSENT_EXPIRED', 'the consent has already expired');
  if (s.expiresAt - ctx.block.time > CONSENT_TTL_MAX_MS) refuse('BAD_CONSENT', 'a consent may run for at most one year');
  if (s.singleUse !== undefined && typeof s.singleUse !== 'boolean') refuse('BAD_CONSENT', 'singleUse must be true or false');
  if (consentOf(ctx, id) !== undefined) refuse('CONSENT_EXISTS', `consent ${id} exists`);
  const entry: ConsentEntry = {
    id,
    subject: s.subject as string,
    consumer,
    categories,
    purpose,
    expiresAt: s.expiresAt,
    singleUse: s.singleUse === true,
    publicKey: (args as { publicKey: string }).publicKey,
    grantedAt: ctx.block.time,
    grantedHeight: ctx.block.height,
    uses: 0,
  };
  ctx.put(DsKeys.consent(id), entry as unknown as JsonValue);
  appendIndex(ctx, 'con', entry.subject, id);
  ctx.emit('granted', { consentId: id, subject: entry.subject, consumer, categories, purpose });
  return { consentId: id };
}

function revoke(suite: CryptoSuite, ctx: ContractContext, args: JsonValue): JsonValue {
  requireMember(ctx);
  const s = verifyStatement(ctx, suite, Domains.consentRevoke, args);
  const id = matchString(s.consentId, HEX_ID_RE, 'BAD_CONSENT', 'consent id');
  const c = consentOf(ctx, id);
  if (c === undefined || c.subject !== s.subject) refuse('CONSENT_NOT_FOUND', `the subject has no consent ${id}`);
  if (c.revokedHeight !== undefined) refuse('CONSENT_REVOKED', `consent ${id} is already revoked`);
  ctx.put(DsKeys.consent(id), { ...c, revokedAt: ctx.block.time, revokedHeight: ctx.block.height } as unknown as JsonValue);
  ctx.emit('revoked', { consentId: id, subject: c.subject, consumer: c.consumer, effectiveAfterHeight: ctx.block.height });
  return { consentId: id, effectiveFromHeight: ctx.block.height + 1 };
}

/** Count one use of a consent (called by the access contract when it authorizes). */
export function useConsent(ctx: ContractContext, c: ConsentEntry): void {
  ctx.put(DsKeys.consent(c.id), { ...c, uses: c.uses + 1 } as unknown as JsonValue);
}

/** A consent's state for display: active, revoked, expired or used. */
export function consentStatus(c: ConsentEntry, time: number, height: number): 'active' | 'revoked' | 'expired' | 'used' {
  if (isRevoked(c, height)) return 'revoked';
  if (time >= c.expiresAt) return 'expired';
  if (c.singleUse && c.uses >= 1) return 'used';
  return 'active';
}

export function consentsContract(suite: CryptoSuite): Contract {
  return {
    name: 'consents',
    methods: { grant: (ctx, args) => grant(suite, ctx, args), revoke: (ctx, args) => revoke(suite, ctx, args) },
  };
}
