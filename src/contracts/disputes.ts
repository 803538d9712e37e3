// Contract `disputes`: a subject disputes a record about it. The record is marked at once.
// The subject's statement may contain personal data, so only its hash goes on chain; the
// text stays with the subject and the provider (who delivers it with the record, where the
// consumer checks it against this hash). The provider resolves the dispute, by correcting
// (a new version superseding or revoking the record) or upholding, within 20 days of block
// time; a dispute still open after that is overdue: the views show it, and any member may
// flag it on chain (event `overdue`).

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { Contract, ContractContext, StateReader } from '../execution/runtime.js';
import { DsKeys, Domains, HASH_HEX_RE, HEX_ID_RE, appendIndex, argsObject, matchString, refuse, verifyStatement } from './dataspaceState.js';
import { readJson, requireMember } from './members.js';
import { markRecord, recordIn } from './records.js';

export const DISPUTE_RESOLVE_MS = 20 * 24 * 60 * 60 * 1000;
const FLAG_MAX = 100;

export interface DisputeEntry {
  readonly id: string;
  readonly recordId: string;
  readonly subject: string;
  readonly provider: string;
  /** Suite hash (hex) of the statement's UTF-8 text. */
  readonly statementHash: string;
  readonly openedAt: number;
  readonly dueAt: number;
  readonly status: 'open' | 'resolved';
  readonly outcome?: 'corrected' | 'upheld';
  readonly correctionId?: string;
  readonly resolvedAt?: number;
  /** Resolved after dueAt. */
  readonly late?: boolean;
  /** Flagged on chain as overdue while open. */
  readonly overdue?: boolean;
}

export function readDispute(read: StateReader, id: string): DisputeEntry | undefined {
  return readJson(read, DsKeys.dispute(id)) as unknown as DisputeEntry | undefined;
}

/** Open past its deadline at block time `now`. */
export function isOverdue(d: DisputeEntry, now: number): boolean {
  return d.status === 'open' && now > d.dueAt;
}

function disputeOf(ctx: ContractContext, args: JsonValue): DisputeEntry {
  const a = argsObject(args, 'BAD_DISPUTE', 'arguments');
  const id = matchString(a.disputeId, HEX_ID_RE, 'BAD_DISPUTE', 'dispute id');
  const d = ctx.get(DsKeys.dispute(id)) as unknown as DisputeEntry | undefined;
  if (d === undefined) refuse('DISPUTE_NOT_FOUND', `no dispute ${id}`);
  return d;
}

function open(suite: CryptoSuite, ctx: ContractContext, args: JsonValue): JsonValue {
  requireMember(ctx);
  const s = verifyStatement(ctx, suite, Domains.disputeOpen, args);
  const id = matchString(s.id, HEX_ID_RE, 'BAD_DISPUTE', 'dispute id');
  const statementHash = matchString(s.statementHash, HASH_HEX_RE, 'BAD_DISPUTE', 'statement hash');
  const rec = recordIn(ctx, matchString(s.recordId, HEX_ID_RE, 'BAD_DISPUTE', 'record id'));
  if (rec === undefined || rec.subject !== s.subject) refuse('UNKNOWN_RECORD', 'the subject has no such record');
  if (rec.status === 'expired') refuse('RECORD_EXPIRED', 'the record has expired');
  if (rec.dispute?.status === 'open') refuse('DISPUTE_OPEN', 'the record is already disputed');
  if (ctx.get(DsKeys.dispute(id)) !== undefined) refuse('DISPUTE_EXISTS', `dispute ${id} exists`);
  const d: DisputeEntry = {
    id,
    recordId: rec.id,
    subject: rec.subject,
    provider: rec.provider,
    statementHash,
    openedAt: ctx.block.time,
    dueAt: ctx.block.time + DISPUTE_RESOLVE_MS,
    status: 'open',
  };
  ctx.put(DsKeys.dispute(id), d as unknown as JsonValue);
  markRecord(ctx, rec.id, { dispute: { id, status: 'open' } });
  appendIndex(ctx, 'dis', d.subject, id);
  ctx.emit('opened', { disputeId: id, recordId: rec.id, subject: d.subject, provider: d.provider, dueAt: d.dueAt });
  return { disputeId: id, dueAt: d.dueAt };
}

function resolve(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const d = disputeOf(ctx, args);
  if (d.provider !== org.id) refuse('NOT_PROVIDER', 'only the provider of the record may resolve the dispute');
  if (d.status !== 'open') refuse('DISPUTE_RESOLVED', `dispute ${d.id} is already resolved`);
  const a = args as Record<string, JsonValue>;
  if (a.outcome !== 'corrected' && a.outcome !== 'upheld') refuse('BAD_DISPUTE', 'outcome must be corrected or upheld');
  let correctionId: string | undefined;
  if (a.outcome === 'corrected') {
    correctionId = matchString(a.correctionId, HEX_ID_RE, 'BAD_DISPUTE', 'correction id');
    const c = recordIn(ctx, correctionId);
    if (c === undefined || (c.supersedes !== d.recordId && c.revokes !== d.recordId)) {
      refuse('CORRECTION_MISSING', 'anchor the corrected version (superseding or revoking the record) first');
    }
  }
  const resolved: DisputeEntry = {
    ...d,
    status: 'resolved',
    outcome: a.outcome,
    resolvedAt: ctx.block.time,
    late: ctx.block.time > d.dueAt,
    ...(correctionId === undefined ? {} : { correctionId }),
  };
  ctx.put(DsKeys.dispute(d.id), resolved as unknown as JsonValue);
  const rec = recordIn(ctx, d.recordId);
  if (rec !== undefined) markRecord(ctx, rec.id, { dispute: { id: d.id, status: 'resolved', outcome: a.outcome } });
  ctx.emit('resolved', { disputeId: d.id, recordId: d.recordId, subject: d.subject, outcome: a.outcome, late: resolved.late === true });
  return { disputeId: d.id, outcome: a.outcome, late: resolved.late === true };
}

function flagOverdue(ctx: ContractContext, args: JsonValue): JsonValue {
  requireMember(ctx);
  const a = argsObject(args, 'BAD_DISPUTE', 'arguments');
  if (!Array.isArray(a.disputeIds) || a.disputeIds.length === 0 || a.disputeIds.length > FLAG_MAX)
    refuse('BAD_DISPUTE', `disputeIds must hold 1 to ${FLAG_MAX} ids`);
  for (const disputeId of a.disputeIds) {
    const d = disputeOf(ctx, { disputeId });
    if (!isOverdue(d, ctx.block.time)) refuse('NOT_OVERDUE', `dispute ${d.id} is not overdue`);
    if (d.overdue === true) continue;
    ctx.put(DsKeys.dispute(d.id), { ...d, overdue: true } as unknown as JsonValue);
    ctx.emit('overdue', { disputeId: d.id, recordId: d.recordId, subject: d.subject, provider: d.provider, dueAt: d.dueAt });
  }
  return { count: a.disputeIds.length };
}

export function disputesContract(suite: CryptoSuite): Contract {
  return { name: 'disputes', methods: { open: (ctx, args) => open(suite, ctx, args), resolve, flagOverdue } };
}
