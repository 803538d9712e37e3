// Contract `access`: a consumer organization asks for a subject's records under a consent.
// Every decision is written to the chain and indexed under the subject, naming the consumer,
// the operator (the key that asked), the subject, the categories, the purpose and the
// consent. A refusal is a decision too: the transaction succeeds and records `refused` with
// the reason, so it cannot be rolled back out of the subject's sight.
// An organization may require two people: then a request waits until a different key of
// the same organization approves it, and the consent is checked again at approval.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { Contract, ContractContext, StateReader } from '../execution/runtime.js';
import { checkConsent } from './consentRules.js';
import { consentOf, useConsent } from './consents.js';
import { DsKeys, HEX_ID_RE, PURPOSE_RE, SUBJECT_RE, appendIndex, argsObject, categoryList, matchString, refuse } from './dataspaceState.js';
import { readJson, requireMember } from './members.js';

/** How long after authorization providers still deliver under it (block/wall time). */
export const ACCESS_TTL_MS = 60 * 60 * 1000;

export type AccessStatus = 'pending' | 'authorized' | 'refused';

export interface AccessEntry {
  readonly id: string;
  readonly consumer: string;
  /** Key (hex) of the consumer's member who asked. */
  readonly operator: string;
  readonly approver?: string;
  readonly subject: string;
  readonly categories: string[];
  readonly purpose: string;
  readonly consentId: string;
  readonly status: AccessStatus;
  readonly reason?: string;
  readonly requestedAt: number;
  readonly decidedAt?: number;
  readonly height: number;
  readonly validUntil?: number;
}

export interface AccessPolicy {
  readonly twoPerson: boolean;
  /** A change waiting for a second key when the two-person rule is on. */
  readonly pending?: { readonly twoPerson: boolean; readonly by: string };
}

export function readAccess(read: StateReader, id: string): AccessEntry | undefined {
  return readJson(read, DsKeys.access(id)) as unknown as AccessEntry | undefined;
}

function policyOf(ctx: ContractContext, org: string): AccessPolicy {
  return (ctx.get(DsKeys.accessPolicy(org)) as unknown as AccessPolicy | undefined) ?? { twoPerson: false };
}

/** Decide an access at this block: authorize (and count the consent's use) or refuse. */
function decide(ctx: ContractContext, a: AccessEntry, approver?: string): AccessEntry {
  const consent = consentOf(ctx, a.consentId);
  const check = checkConsent(consent, { ...a, time: ctx.block.time, height: ctx.block.height });
  const base = { ...a, decidedAt: ctx.block.time, ...(approver === undefined ? {} : { approver }) };
  if (!check.ok || consent === undefined) return { ...base, status: 'refused', reason: check.ok ? 'CONSENT_NOT_FOUND' : check.code };
  useConsent(ctx, consent);
  return { ...base, status: 'authorized', validUntil: ctx.block.time + ACCESS_TTL_MS };
}

function record(ctx: ContractContext, a: AccessEntry, isNew: boolean): JsonValue {
  ctx.put(DsKeys.access(a.id), a as unknown as JsonValue);
  if (isNew) appendIndex(ctx, 'acc', a.subject, a.id);
  const { id, consumer, operator, subject, categories, purpose, consentId, status } = a;
  ctx.emit(status, { accessId: id, consumer, operator, subject, categories, purpose, consentId, ...(a.reason === undefined ? {} : { reason: a.reason }) });
  return { accessId: id, status, ...(a.reason === undefined ? {} : { reason: a.reason }) };
}

function request(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = argsObject(args, 'BAD_ACCESS', 'arguments');
  const asked: AccessEntry = {
    id: ctx.txId,
    consumer: org.id,
    operator: ctx.signer,
    subject: matchString(a.subject, SUBJECT_RE, 'BAD_SUBJECT', 'subject'),
    categories: categoryList(a.categories, 'BAD_ACCESS'),
    purpose: matchString(a.purpose, PURPOSE_RE, 'BAD_ACCESS', 'purpose code'),
    consentId: matchString(a.consentId, HEX_ID_RE, 'BAD_ACCESS', 'consent id'),
    status: 'pending',
    requestedAt: ctx.block.time,
    height: ctx.block.height,
  };
  if (!policyOf(ctx, org.id).twoPerson) return record(ctx, decide(ctx, asked), true);
  // Checked now as well, so a request without a valid consent is refused at once.
  const check = checkConsent(consentOf(ctx, asked.consentId), { ...asked, time: ctx.block.time, height: ctx.block.height });
  if (!check.ok) return record(ctx, { ...asked, status: 'refused', reason: check.code, decidedAt: ctx.block.time }, true);
  return record(ctx, asked, true);
}

function pendingOf(ctx: ContractContext, args: JsonValue, orgId: string): AccessEntry {
  const a = argsObject(args, 'BAD_ACCESS', 'arguments');
  const id = matchString(a.accessId, /^[0-9a-f]{64}$/, 'BAD_ACCESS', 'access id');
  const entry = ctx.get(DsKeys.access(id)) as unknown as AccessEntry | undefined;
  if (entry === undefined) refuse('ACCESS_NOT_FOUND', `no access request ${id}`);
  if (entry.consumer !== orgId) refuse('NOT_CONSUMER', 'only the requesting organization may decide its request');
  if (entry.status !== 'pending') refuse('ACCESS_DECIDED', `access ${id} is already ${entry.status}`);
  if (entry.operator === ctx.signer) refuse('SAME_OPERATOR', 'the two-person rule needs a different member to approve');
  return entry;
}

function approve(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  return record(ctx, decide(ctx, pendingOf(ctx, args, org.id), ctx.signer), false);
}

function deny(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const entry = pendingOf(ctx, args, org.id);
  return record(ctx, { ...entry, status: 'refused', reason: 'DENIED_BY_APPROVER', approver: ctx.signer, decidedAt: ctx.block.time }, false);
}

/** Turn the two-person rule on or off for the signer's organization. While it is on, a
 *  change needs a second key: the first call records it, a call by another key applies it. */
function setPolicy(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = argsObject(args, 'BAD_POLICY', 'arguments');
  if (typeof a.twoPerson !== 'boolean') refuse('BAD_POLICY', 'twoPerson must be true or false');
  const current = policyOf(ctx, org.id);
  const confirmed = current.pending !== undefined && current.pending.twoPerson === a.twoPerson && current.pending.by !== ctx.signer;
  const next: AccessPolicy = !current.twoPerson || confirmed ? { twoPerson: a.twoPerson } : { ...current, pending: { twoPerson: a.twoPerson, by: ctx.signer } };
  ctx.put(DsKeys.accessPolicy(org.id), next as unknown as JsonValue);
  ctx.emit('policy', { org: org.id, twoPerson: next.twoPerson, pending: next.pending !== undefined });
  return next as unknown as JsonValue;
}

export const access: Contract = { name: 'access', methods: { request, approve, deny, setPolicy } };
