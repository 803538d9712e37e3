// Contract `records`: providers anchor batches of records (the records stay in the
// provider's vault; see recordBatch.ts for what goes on chain), supersede or revoke their own
// records with new versions, and mark negative records expired once the retention period
// has passed in block time.
//
// State per batch, never per record: `bat/<id>` (provider, schema, root, size, time),
// `bat/<id>/s` (the subject runs), `bat/<id>/x` (expiry of each negative record), and one
// entry per subject in the batch: the subject's record index (`idx/rec/<subject>`, a head
// with the newest groups, older groups in full pages of RECORD_PAGE). A record gets its own
// entry `rec/<id>` only for an exception, written when it happens: superseded, revoked,
// expired, disputed, or it is a new version (its link). `readRecord` assembles a record's
// view from these.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { Contract, ContractContext, StateReader } from '../execution/runtime.js';
import { DsKeys, HEX_ID_RE, argsObject, matchString, refuse } from './dataspaceState.js';
import { readJson, requireMember } from './members.js';
import { type AnchorArgs, type LinkKind, batchIdOf, parseAnchorArgs, recordIdAt, splitRecordId } from './recordBatch.js';
import { schemaOf } from './schemas.js';

export const NEGATIVE_RETENTION_YEARS = 5;
/** Most record ids in one `records.expire`. */
export const EXPIRE_IDS_MAX = 500;
/** Groups per full page of a subject's record index. */
export const RECORD_PAGE = 32;

export type RecordStatus = 'active' | 'superseded' | 'revoked' | 'expired';

export interface DisputeMark {
  readonly id: string;
  readonly status: 'open' | 'resolved';
  readonly outcome?: 'corrected' | 'upheld';
}

/** What the chain says about one record (assembled from its batch and its exception entry). */
export interface RecordEntry {
  readonly id: string;
  readonly subject: string;
  readonly schema: string;
  readonly category: string;
  readonly provider: string;
  readonly batch: string;
  readonly root: string;
  readonly index: number;
  /** Records in the batch: the size an inclusion proof must have. */
  readonly batchSize: number;
  readonly version: number;
  readonly status: RecordStatus;
  readonly negative: boolean;
  readonly anchoredAt: number;
  readonly expiresAt?: number;
  readonly supersedes?: string;
  readonly revokes?: string;
  readonly dispute?: DisputeMark;
}

export interface BatchEntry {
  readonly id: string;
  readonly provider: string;
  readonly schema: string;
  readonly category: string;
  readonly root: string;
  readonly count: number;
  readonly negatives: number;
  readonly anchoredAt: number;
}

/** A record's own entry: only what differs from "active version 1 of its batch". */
export interface RecordException {
  readonly status?: Exclude<RecordStatus, 'active'>;
  readonly version?: number;
  readonly supersedes?: string;
  readonly revokes?: string;
  readonly dispute?: DisputeMark;
}

/** Records of one subject in one batch: [batch id, first index, count]. */
export type RecordGroup = [batch: string, start: number, count: number];

interface IndexHead {
  /** Groups in the whole index. */
  n: number;
  /** The newest groups (positions n - tail.length .. n - 1). */
  tail: RecordGroup[];
}

type JsonGet = (key: string) => JsonValue | undefined;

const Keys = {
  batch: (id: string) => `bat/${id}`,
  runs: (id: string) => `bat/${id}/s`,
  expiries: (id: string) => `bat/${id}/x`,
  head: (subject: string) => DsKeys.index('rec', subject),
  page: (subject: string, p: number) => `${DsKeys.index('rec', subject)}/${p}`,
};

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

// ---- reading ----------------------------------------------------------------------------

/** A batch as read from state, with lookups by index. */
export class BatchView {
  private readonly runEnds: number[] = [];

  constructor(
    readonly entry: BatchEntry,
    private readonly runs: [string, number][],
    private readonly expiries: Map<number, number>,
  ) {
    let end = 0;
    for (const [, n] of runs) {
      end += n;
      this.runEnds.push(end);
    }
  }

  subjectAt(index: number): string {
    let lo = 0;
    let hi = this.runEnds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.runEnds[mid] as number) > index) hi = mid;
      else lo = mid + 1;
    }
    return (this.runs[lo] as [string, number])[0];
  }

  /** The record at `index`, given its exception entry. */
  record(index: number, exc: RecordException | undefined): RecordEntry {
    const b = this.entry;
    const expiresAt = this.expiries.get(index);
    return {
      id: recordIdAt(b.id, index),
      subject: this.subjectAt(index),
      schema: b.schema,
      category: b.category,
      provider: b.provider,
      batch: b.id,
      root: b.root,
      index,
      batchSize: b.count,
      version: exc?.version ?? 1,
      status: exc?.status ?? 'active',
      negative: expiresAt !== undefined,
      anchoredAt: b.anchoredAt,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(exc?.supersedes === undefined ? {} : { supersedes: exc.supersedes }),
      ...(exc?.revokes === undefined ? {} : { revokes: exc.revokes }),
      ...(exc?.dispute === undefined ? {} : { dispute: exc.dispute }),
    };
  }
}

function loadBatch(get: JsonGet, id: string): BatchView | undefined {
  const entry = get(Keys.batch(id)) as unknown as BatchEntry | undefined;
  if (entry === undefined) return undefined;
  const runs = (get(Keys.runs(id)) ?? []) as [string, number][];
  const x = entry.negatives > 0 ? ((get(Keys.expiries(id)) ?? []) as [number, number][]) : [];
  return new BatchView(entry, runs, new Map(x));
}

/**
 * Parsed batches kept across requests by a reader of committed state: a batch's entries are
 * written once, by its anchor, and never change, so a batch read once need not be parsed
 * again. Only batches that exist are kept; at most `max`, the least recently used go first.
 * Never fill one from a transaction's view (its writes may be rolled back).
 */
export class BatchCache {
  private readonly views = new Map<string, BatchView>();

  constructor(private readonly max = 512) {}

  get size(): number {
    return this.views.size;
  }

  get(id: string): BatchView | undefined {
    const v = this.views.get(id);
    if (v !== undefined) {
      this.views.delete(id);
      this.views.set(id, v);
    }
    return v;
  }

  set(id: string, v: BatchView): void {
    if (!this.views.has(id) && this.views.size >= this.max) this.views.delete(this.views.keys().next().value as string);
    this.views.set(id, v);
  }
}

/**
 * Reads records by id, keeping each batch it has read: use one per request, so a list of
 * records from a few batches parses each batch once (with `cache`, once per process).
 */
export function recordReader(get: JsonGet, cache?: BatchCache): (id: string) => RecordEntry | undefined {
  return recordReaderOf(get, batchReader(get, cache));
}

type BatchOf = (id: string) => BatchView | undefined;

function batchReader(get: JsonGet, cache: BatchCache | undefined): BatchOf {
  const batches = new Map<string, BatchView | undefined>();
  return (id) => {
    if (batches.has(id)) return batches.get(id);
    const b = cache?.get(id) ?? loadBatch(get, id);
    if (b !== undefined) cache?.set(id, b);
    batches.set(id, b);
    return b;
  };
}

function recordReaderOf(get: JsonGet, batchOf: BatchOf): (id: string) => RecordEntry | undefined {
  return (id) => {
    const at = splitRecordId(id);
    if (at === undefined) return undefined;
    const b = batchOf(at.batch);
    if (b === undefined || at.index >= b.entry.count) return undefined;
    return b.record(at.index, get(DsKeys.record(id)) as RecordException | undefined);
  };
}

function jsonGet(read: StateReader): JsonGet {
  return (k) => readJson(read, k);
}

export function readRecord(read: StateReader, id: string): RecordEntry | undefined {
  return recordReader(jsonGet(read))(id);
}

export function readBatch(read: StateReader, id: string): BatchEntry | undefined {
  return readJson(read, Keys.batch(id)) as unknown as BatchEntry | undefined;
}

/** A subject's record groups, oldest first. */
function recordGroups(get: JsonGet, subject: string): RecordGroup[] {
  const head = get(Keys.head(subject)) as unknown as IndexHead | undefined;
  if (head === undefined) return [];
  const pages = (head.n - head.tail.length) / RECORD_PAGE;
  const out: RecordGroup[] = [];
  for (let p = 0; p < pages; p++) out.push(...((get(Keys.page(subject, p)) ?? []) as RecordGroup[]));
  return [...out, ...head.tail];
}

/**
 * The records about a subject, oldest first, at most `limit`; with `provider`, only that
 * provider's. `cache` only where `read` is committed state.
 */
export function subjectRecords(read: StateReader, subject: string, limit: number, o: { cache?: BatchCache; provider?: string } = {}): RecordEntry[] {
  const get = jsonGet(read);
  const batchOf = batchReader(get, o.cache);
  const recordAt = recordReaderOf(get, batchOf);
  const out: RecordEntry[] = [];
  for (const [batch, start, count] of recordGroups(get, subject)) {
    if (o.provider !== undefined && batchOf(batch)?.entry.provider !== o.provider) continue;
    for (let i = start; i < start + count && out.length < limit; i++) {
      const r = recordAt(recordIdAt(batch, i));
      if (r !== undefined) out.push(r);
    }
  }
  return out;
}

// ---- writing ----------------------------------------------------------------------------

function appendGroup(ctx: ContractContext, subject: string, group: RecordGroup): void {
  const head = (ctx.get(Keys.head(subject)) as unknown as IndexHead | undefined) ?? { n: 0, tail: [] };
  let tail = head.tail;
  if (tail.length === RECORD_PAGE) {
    ctx.put(Keys.page(subject, (head.n - RECORD_PAGE) / RECORD_PAGE), tail as unknown as JsonValue);
    tail = [];
  }
  ctx.put(Keys.head(subject), { n: head.n + 1, tail: [...tail, group] } as unknown as JsonValue);
}

/** Merge `patch` into a record's exception entry. */
export function markRecord(ctx: ContractContext, id: string, patch: RecordException): void {
  const old = (ctx.get(DsKeys.record(id)) as RecordException | undefined) ?? {};
  ctx.put(DsKeys.record(id), { ...old, ...patch } as unknown as JsonValue);
}

/** A record as the contracts see it inside a transaction (including this transaction's writes). */
export function recordIn(ctx: ContractContext, id: string): RecordEntry | undefined {
  return recordReader((k) => ctx.get(k))(id);
}

/** The record a new version replaces: it must exist, be the provider's, current, and about the same subject. */
function replaced(ctx: ContractContext, id: string, provider: string, subject: string): RecordEntry {
  const old = recordIn(ctx, id);
  if (old === undefined) refuse('UNKNOWN_RECORD', `record ${id} is not anchored`);
  if (old.provider !== provider) refuse('NOT_PROVIDER', 'only the provider of a record may supersede or revoke it');
  if (old.status !== 'active') refuse('RECORD_NOT_ACTIVE', `record ${old.id} is ${old.status}`);
  if (old.subject !== subject) refuse('BAD_RECORD', 'a new version must be about the same subject');
  return old;
}

function writeLinks(ctx: ContractContext, a: AnchorArgs, view: BatchView, provider: string): void {
  for (const [index, kind, oldId] of a.links ?? []) {
    const old = replaced(ctx, oldId, provider, view.subjectAt(index));
    markRecord(ctx, old.id, { status: kind === 'supersedes' ? 'superseded' : 'revoked' });
    markRecord(ctx, recordIdAt(view.entry.id, index), { version: old.version + 1, [kind]: old.id } as { version: number } & { [k in LinkKind]?: string });
  }
}

function anchor(suite: CryptoSuite, ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = parseAnchorArgs(args, conductEndMs);
  const schema = schemaOf(ctx, a.schema);
  if (schema === undefined) refuse('UNKNOWN_SCHEMA', 'the schema is not registered');
  const id = batchIdOf((d) => suite.hash(d), org.id, a.nonce);
  if (ctx.get(Keys.batch(id)) !== undefined) refuse('BATCH_EXISTS', `batch ${id} is already anchored`);
  const years = schema.retention?.years ?? NEGATIVE_RETENTION_YEARS;
  const expiries = (a.negatives ?? []).map(([i, end]) => [i, addYears(end, years)] as [number, number]);
  const entry: BatchEntry = {
    id,
    provider: org.id,
    schema: schema.id,
    category: schema.category,
    root: a.root,
    count: a.count,
    negatives: expiries.length,
    anchoredAt: ctx.block.time,
  };
  const runs = a.subjects as [string, number][];
  const view = new BatchView(entry, runs, new Map(expiries));
  writeLinks(ctx, a, view, org.id);
  ctx.put(Keys.batch(id), entry as unknown as JsonValue);
  ctx.put(Keys.runs(id), runs as unknown as JsonValue);
  if (expiries.length > 0) ctx.put(Keys.expiries(id), expiries as unknown as JsonValue);
  let start = 0;
  let x = 0;
  for (const [subject, n] of runs) {
    appendGroup(ctx, subject, [id, start, n]);
    let negative = 0;
    for (; x < expiries.length && (expiries[x] as [number, number])[0] < start + n; x++) negative++;
    if (negative > 0) ctx.emit('negative', { subject, schema: schema.id, batch: id, records: negative });
    start += n;
  }
  ctx.emit('anchored', { provider: org.id, schema: schema.id, batch: id, root: a.root, count: a.count });
  return { batch: id, root: a.root, count: a.count };
}

function expire(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = argsObject(args, 'BAD_EXPIRE', 'arguments');
  if (!Array.isArray(a.ids) || a.ids.length === 0 || a.ids.length > EXPIRE_IDS_MAX) refuse('BAD_EXPIRE', `ids must hold 1 to ${EXPIRE_IDS_MAX} record ids`);
  const recordAt = recordReader((k) => ctx.get(k));
  for (const v of a.ids) {
    const id = matchString(v, HEX_ID_RE, 'BAD_EXPIRE', 'record id');
    const r = recordAt(id);
    if (r === undefined) refuse('UNKNOWN_RECORD', `record ${id} is not anchored`);
    if (r.provider !== org.id) refuse('NOT_PROVIDER', 'only the provider of a record may expire it');
    if (r.status === 'expired') refuse('RECORD_EXPIRED', `record ${id} is already expired`);
    if (r.expiresAt === undefined || ctx.block.time < r.expiresAt) refuse('NOT_DUE', `record ${id} is not due to expire`);
    markRecord(ctx, id, { status: 'expired' });
    ctx.emit('expired', { recordId: id, subject: r.subject });
  }
  return { count: a.ids.length };
}

export function recordsContract(suite: CryptoSuite): Contract {
  return { name: 'records', methods: { anchor: (ctx, args) => anchor(suite, ctx, args), expire } };
}
