// Contract `records`: providers anchor batches of record commitments (the records stay in
// the provider's vault), supersede or revoke their own records with new versions, and mark
// negative records expired once the retention period has passed in block time.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { Contract, ContractContext, StateReader } from '../execution/runtime.js';
import { merkleRoot } from '../ledger/merkle.js';
import { fromHex, toHex } from '../util/bytes.js';
import { DsKeys, HASH_HEX_RE, HEX_ID_RE, SUBJECT_RE, appendIndex, argsObject, matchString, refuse } from './dataspaceState.js';
import { readJson, requireMember } from './members.js';
import { schemaOf } from './schemas.js';

export const ANCHOR_ITEMS_MAX = 500;
export const NEGATIVE_RETENTION_YEARS = 5;

export type RecordStatus = 'active' | 'superseded' | 'revoked' | 'expired';

export interface DisputeMark {
  readonly id: string;
  readonly status: 'open' | 'resolved';
  readonly outcome?: 'corrected' | 'upheld';
}

export interface RecordEntry {
  readonly id: string;
  readonly subject: string;
  readonly schema: string;
  readonly category: string;
  readonly provider: string;
  readonly root: string;
  readonly index: number;
  readonly commitment: string;
  readonly version: number;
  readonly status: RecordStatus;
  readonly negative: boolean;
  readonly anchoredAt: number;
  readonly expiresAt?: number;
  readonly supersedes?: string;
  readonly revokes?: string;
  readonly dispute?: DisputeMark;
}

interface Item {
  id: string;
  subject: string;
  commitment: string;
  negative: boolean;
  conductEnd?: number;
  link?: { kind: 'supersedes' | 'revokes'; id: string };
}

/** Conduct end as ms since epoch: a number, or an ISO date (YYYY-MM-DD...) string. */
export function conductEndMs(v: JsonValue | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isSafeInteger(ms)) refuse('BAD_RECORD', 'conductEnd must be ms since epoch or an ISO date');
  return ms;
}

/** The same calendar day `years` later (UTC). */
export function addYears(ms: number, years: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime();
}

function parseItem(v: JsonValue | undefined): Item {
  const o = argsObject(v ?? null, 'BAD_RECORD', 'item');
  if (typeof o.negative !== 'boolean') refuse('BAD_RECORD', 'negative must be true or false');
  if (o.supersedes !== undefined && o.revokes !== undefined) refuse('BAD_RECORD', 'an item supersedes or revokes, not both');
  const conductEnd = conductEndMs(o.conductEnd);
  const linkId = o.supersedes ?? o.revokes;
  return {
    id: matchString(o.id, HEX_ID_RE, 'BAD_RECORD', 'record id'),
    subject: matchString(o.subject, SUBJECT_RE, 'BAD_SUBJECT', 'subject'),
    commitment: matchString(o.commitment, HASH_HEX_RE, 'BAD_RECORD', 'commitment'),
    negative: o.negative,
    ...(conductEnd === undefined ? {} : { conductEnd }),
    ...(linkId === undefined
      ? {}
      : { link: { kind: o.supersedes !== undefined ? 'supersedes' : 'revokes', id: matchString(linkId, HEX_ID_RE, 'BAD_RECORD', 'linked id') } }),
  };
}

function getRecord(ctx: ContractContext, id: string): RecordEntry | undefined {
  return ctx.get(DsKeys.record(id)) as unknown as RecordEntry | undefined;
}

export function readRecord(read: StateReader, id: string): RecordEntry | undefined {
  return readJson(read, DsKeys.record(id)) as unknown as RecordEntry | undefined;
}

export function putRecord(ctx: ContractContext, r: RecordEntry): void {
  ctx.put(DsKeys.record(r.id), r as unknown as JsonValue);
}

/** The record an item supersedes or revokes: it must exist, be the provider's, and be current. */
function linkedRecord(ctx: ContractContext, item: Item, provider: string): RecordEntry | undefined {
  if (item.link === undefined) return undefined;
  const old = getRecord(ctx, item.link.id);
  if (old === undefined) refuse('UNKNOWN_RECORD', `record ${item.link.id} is not anchored`);
  if (old.provider !== provider) refuse('NOT_PROVIDER', 'only the provider of a record may supersede or revoke it');
  if (old.status !== 'active') refuse('RECORD_NOT_ACTIVE', `record ${old.id} is ${old.status}`);
  if (old.subject !== item.subject) refuse('BAD_RECORD', 'a new version must be about the same subject');
  return old;
}

function anchor(suite: CryptoSuite, ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = argsObject(args, 'BAD_ANCHOR', 'arguments');
  const schema = schemaOf(ctx, typeof a.schema === 'string' ? a.schema : '');
  if (schema === undefined) refuse('UNKNOWN_SCHEMA', 'the schema is not registered');
  if (!Array.isArray(a.items) || a.items.length === 0 || a.items.length > ANCHOR_ITEMS_MAX)
    refuse('BAD_ANCHOR', `items must hold 1 to ${ANCHOR_ITEMS_MAX} records`);
  const items = a.items.map(parseItem);
  const root = toHex(
    merkleRoot(
      (d) => suite.hash(d),
      items.map((i) => fromHex(i.commitment)),
    ),
  );
  if (a.root !== root) refuse('ROOT_MISMATCH', 'root is not the Merkle root of the commitments');
  const years = schema.retention?.years ?? NEGATIVE_RETENTION_YEARS;
  items.forEach((item, index) => {
    if (getRecord(ctx, item.id) !== undefined) refuse('RECORD_EXISTS', `record ${item.id} is already anchored`);
    const old = linkedRecord(ctx, item, org.id);
    if (old !== undefined && item.link !== undefined) putRecord(ctx, { ...old, status: item.link.kind === 'supersedes' ? 'superseded' : 'revoked' });
    if (item.negative && item.conductEnd === undefined) refuse('BAD_RECORD', 'a negative record needs conductEnd');
    const entry: RecordEntry = {
      id: item.id,
      subject: item.subject,
      schema: schema.id,
      category: schema.category,
      provider: org.id,
      root,
      index,
      commitment: item.commitment,
      version: old === undefined ? 1 : old.version + 1,
      status: 'active',
      negative: item.negative,
      anchoredAt: ctx.block.time,
      ...(item.negative && item.conductEnd !== undefined ? { expiresAt: addYears(item.conductEnd, years) } : {}),
      ...(item.link === undefined ? {} : { [item.link.kind]: item.link.id }),
    };
    putRecord(ctx, entry);
    appendIndex(ctx, 'rec', item.subject, item.id);
    if (item.negative) ctx.emit('negative', { subject: item.subject, recordId: item.id, schema: schema.id });
  });
  ctx.emit('anchored', { provider: org.id, schema: schema.id, root, count: items.length });
  return { root, count: items.length };
}

function expire(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = argsObject(args, 'BAD_EXPIRE', 'arguments');
  if (!Array.isArray(a.ids) || a.ids.length === 0 || a.ids.length > ANCHOR_ITEMS_MAX) refuse('BAD_EXPIRE', `ids must hold 1 to ${ANCHOR_ITEMS_MAX} record ids`);
  for (const v of a.ids) {
    const id = matchString(v, HEX_ID_RE, 'BAD_EXPIRE', 'record id');
    const r = getRecord(ctx, id);
    if (r === undefined) refuse('UNKNOWN_RECORD', `record ${id} is not anchored`);
    if (r.provider !== org.id) refuse('NOT_PROVIDER', 'only the provider of a record may expire it');
    if (r.status === 'expired') refuse('RECORD_EXPIRED', `record ${id} is already expired`);
    if (r.expiresAt === undefined || ctx.block.time < r.expiresAt) refuse('NOT_DUE', `record ${id} is not due to expire`);
    putRecord(ctx, { ...r, status: 'expired' });
    ctx.emit('expired', { recordId: id, subject: r.subject });
  }
  return { count: a.ids.length };
}

export function recordsContract(suite: CryptoSuite): Contract {
  return { name: 'records', methods: { anchor: (ctx, args) => anchor(suite, ctx, args), expire } };
}
