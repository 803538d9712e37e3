// Publishing records: rows from a provider's source file become validated records in the
// vault and salted commitments anchored on chain in batches (recordBatch.ts: the chain gets
// the batch's Merkle root and per-subject runs, never a per-record entry). Rows are grouped
// by subject, and each record's id is its batch id and index, fixed before its commitment.
//
// Nothing is half-written. For each batch the importer signs the `records.anchor`
// transaction, stages the records in the vault together with that transaction (one SQLite
// transaction), submits, and then either finishes the batch (chain said OK) or drops it
// (chain refused). If the process dies in between, `recover()` looks the transaction up on
// chain and finishes, drops, or resubmits the very same bytes (replay-safe) — so the vault
// and the chain always end up agreeing.
//
// A row is `{ uscc | residentId, ref?, action?, reason?, ...data }`. `ref` is the provider's
// own key for the row; `action: "correct"` makes a new version of the latest record with the
// same ref, `action: "revoke"` revokes it (data is then `{ reason }`). Row errors never quote
// a value (a value might be a personal ID number).

import { type JsonValue, canonicalJson } from '../codec/canonicalJson.js';
import { TX_LIMITS } from '../codec/tx.js';
import {
  ANCHOR_BYTES,
  type AnchorArgs,
  BATCH_LINKS_MAX,
  BATCH_RECORDS_MAX,
  BATCH_SUBJECTS_MAX,
  anchorArgsJson,
  batchIdOf,
  recordIdAt,
} from '../contracts/recordBatch.js';
import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { ImportResultJson, RowErrorJson } from '../sdk/provider.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import type { ChainPort, SignedTx } from './chainPort.js';
import { type SubjectId, checkResidentId, enterpriseSubjectId, personSubjectId } from './identifiers.js';
import { type Record, addYearsMs, dateMs } from './record.js';
import type { SchemaDefinition } from './schemas/catalog.js';
import type { RecordValidator } from './validate.js';
import type { SealInput, SealedBatch } from './recordSeal.js';
import type { BatchVault } from './vault.js';

export type Row = { [k: string]: JsonValue };

export type RowError = RowErrorJson;
export type ImportResult = ImportResultJson;

/** Most rows one import call takes (the CLI streams a file in calls of this size). */
export const IMPORT_ROWS_MAX = 5000;
const REF_RE = /^[\x21-\x7e]{1,128}$/;
const SPECIAL = new Set(['uscc', 'residentId', 'ref', 'action', 'reason']);

export interface ImporterOptions {
  readonly suite: CryptoSuite;
  readonly vault: BatchVault;
  readonly chain: ChainPort;
  readonly validator: RecordValidator;
  /** The network's pseudonym secret; without it, rows about persons are refused. */
  readonly pseudonymSecret?: Uint8Array;
  /** How long to wait for each anchor transaction to commit. */
  readonly commitTimeoutMs?: number;
}

/** Anchor batches in flight per import call. */
const ANCHOR_IN_FLIGHT = 4;
/** Bytes of `records.anchor` arguments per transaction: the args cap (64 KiB) less a margin. */
const ANCHOR_ARGS_BYTES_MAX = TX_LIMITS.argsBytesMax - 1024;

type Link = { kind: 'supersedes' | 'revokes'; id: string; version: number };

interface Prepared {
  readonly row: number;
  readonly subject: SubjectId;
  /** The record but its id, which its place in a batch fixes. */
  readonly draft: Omit<Record, 'id'>;
  readonly link?: Link;
  /** End of the conduct (ms) of a negative record, and when it expires. */
  readonly negative?: { readonly conductEnd: number; readonly expiresAt: number };
  readonly ref?: string;
}

/** What checking the rows of one import call shares between rows. */
interface CallState {
  /** Refs of earlier rows of this call. */
  readonly refsSeen: Set<string>;
  /** Refs already published before this call. */
  readonly published: Set<string>;
  /** Subjects of the identifiers checked so far in this call (cache key: "u" + USCC or "r" + resident ID). */
  readonly subjects: Map<string, SubjectId>;
}

/** What cutting batches needs to know of a row. */
export interface BatchCost {
  readonly subject: string;
  readonly negative?: unknown;
  readonly link?: unknown;
}

/**
 * Cut rows into anchor batches: rows grouped by subject (first appearance order, each
 * subject's rows in order), each batch within BATCH_RECORDS_MAX records, BATCH_SUBJECTS_MAX
 * subjects, BATCH_LINKS_MAX new versions and `bytesMax` bytes of arguments.
 */
export function anchorBatches<T extends BatchCost>(rows: readonly T[], bytesMax = ANCHOR_ARGS_BYTES_MAX): T[][] {
  const bySubject = new Map<string, T[]>();
  for (const r of rows) {
    const group = bySubject.get(r.subject);
    if (group === undefined) bySubject.set(r.subject, [r]);
    else group.push(r);
  }
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = ANCHOR_BYTES.fixed;
  let subjects = 0;
  let links = 0;
  const cost = (r: T, fresh: boolean) =>
    (fresh ? r.subject.length + ANCHOR_BYTES.subject : 0) + (r.negative ? ANCHOR_BYTES.negative : 0) + (r.link ? ANCHOR_BYTES.link : 0);
  for (const group of bySubject.values()) {
    let fresh = true;
    for (const r of group) {
      const full = cur.length === BATCH_RECORDS_MAX || (fresh && subjects === BATCH_SUBJECTS_MAX) || (r.link !== undefined && links === BATCH_LINKS_MAX);
      if (cur.length > 0 && (full || bytes + cost(r, fresh) > bytesMax)) {
        out.push(cur);
        [cur, bytes, subjects, links, fresh] = [[], ANCHOR_BYTES.fixed, 0, 0, true];
      }
      bytes += cost(r, fresh);
      if (fresh) subjects++;
      if (r.link !== undefined) links++;
      cur.push(r);
      fresh = false;
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The refs of rows that publish (rather than correct or revoke), to check in one query. */
function publishRefs(rows: readonly { value: Row }[]): string[] {
  return rows.flatMap(({ value: v }) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && (v.action ?? 'publish') === 'publish' && typeof v.ref === 'string' ? [v.ref] : [],
  );
}

/** Runs of consecutive rows about one subject: [subject, rows]. */
function subjectRuns(rows: readonly { subject: string }[]): [string, number][] {
  const runs: [string, number][] = [];
  for (const r of rows) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0] === r.subject) last[1]++;
    else runs.push([r.subject, 1]);
  }
  return runs;
}

/** The record with its id, its keys built in canonical (sorted) order so that encoding it sorts nothing. */
function inKeyOrder(id: string, d: Omit<Record, 'id'>): Record {
  const r: { [k: string]: unknown } = {};
  if (d.conductEnd !== undefined) r.conductEnd = d.conductEnd;
  r.data = d.data;
  r.id = id;
  r.provider = d.provider;
  if (d.revokes !== undefined) r.revokes = d.revokes;
  r.schema = d.schema;
  r.subject = d.subject;
  if (d.supersedes !== undefined) r.supersedes = d.supersedes;
  r.version = d.version;
  return r as unknown as Record;
}

class RowFailure extends CredenceError {}

function rowFail(code: string, message: string): never {
  throw new RowFailure(code, message);
}

export class Importer {
  constructor(private readonly o: ImporterOptions) {}

  /** Resolve a schema as registered on chain (UNKNOWN_SCHEMA otherwise). */
  schema(id: string): SchemaDefinition {
    const def = this.o.chain.schema(id);
    if (def === undefined) throw new CredenceError(Codes.UNKNOWN_SCHEMA, `schema "${id.slice(0, 64)}" is not registered on chain (see: credence data schemas)`);
    return def;
  }

  /** Import rows numbered from `firstRow`; bad rows are reported, good rows anchored. */
  async importRows(schemaId: string, rows: readonly Row[], firstRow = 1): Promise<ImportResult> {
    return this.importNumbered(
      schemaId,
      rows.map((value, i) => ({ row: firstRow + i, value })),
    );
  }

  /** Import rows that carry their own source row numbers (parse failures already left out). */
  async importNumbered(schemaId: string, rows: readonly { row: number; value: Row }[]): Promise<ImportResult> {
    if (rows.length > IMPORT_ROWS_MAX) throw new CredenceError(Codes.TOO_LARGE, `at most ${IMPORT_ROWS_MAX} rows per import call`, { rows: rows.length });
    const def = this.schema(schemaId);
    const errors: RowError[] = [];
    const good: Prepared[] = [];
    const refsSeen = new Set<string>();
    const call: CallState = { refsSeen, published: this.o.vault.publishedRefs(def.id, publishRefs(rows)), subjects: new Map() };
    rows.forEach(({ row, value }) => {
      const n = row;
      try {
        good.push(this.prepare(def, value, n, call));
      } catch (e) {
        if (!isCredenceError(e)) throw e;
        errors.push({ row: n, code: e.code, message: e.message });
      }
    });
    const result: ImportResult = { anchored: [], errors, pending: [], batches: [] };
    const batches = anchorBatches(good);
    let next = 0;
    // A few batches in flight: each waits for its commit, so one at a time would leave the node idle.
    const lane = async () => {
      for (let b = batches[next++]; b !== undefined; b = batches[next++]) await this.anchorBatch(def, b, result);
    };
    await Promise.all(Array.from({ length: Math.min(ANCHOR_IN_FLIGHT, batches.length) }, lane));
    result.errors.sort((a, b) => a.row - b.row);
    result.anchored.sort((a, b) => a.row - b.row);
    return result;
  }

  /** The row's subject; an identifier already checked in this call (an SME has many rows) is looked up, not checked again. */
  private subjectOf(row: Row, known: Map<string, SubjectId>): SubjectId {
    const { uscc, residentId } = row;
    const key =
      typeof uscc === 'string' && residentId === undefined ? `u${uscc}` : typeof residentId === 'string' && uscc === undefined ? `r${residentId}` : undefined;
    const seen = key === undefined ? undefined : known.get(key);
    if (seen !== undefined) return seen;
    const subject = this.checkSubject(row);
    if (key !== undefined) known.set(key, subject);
    return subject;
  }

  private checkSubject(row: Row): SubjectId {
    const { uscc, residentId } = row;
    if ((uscc === undefined) === (residentId === undefined)) rowFail(Codes.INVALID_IDENTIFIER, 'a row names its subject by exactly one of uscc or residentId');
    if (uscc !== undefined) {
      if (typeof uscc !== 'string') rowFail(Codes.INVALID_IDENTIFIER, 'uscc must be a string');
      return enterpriseSubjectId(uscc);
    }
    if (typeof residentId !== 'string' || !checkResidentId(residentId).valid) {
      rowFail(
        Codes.INVALID_IDENTIFIER,
        `residentId is not a valid resident ID number (${typeof residentId === 'string' ? (checkResidentId(residentId) as { reason?: string }).reason : 'not a string'})`,
      );
    }
    if (this.o.pseudonymSecret === undefined)
      throw new CredenceError(Codes.CONFIG, 'this node has no pseudonym secret (pseudonymKeyFile): it cannot publish records about persons');
    return personSubjectId(this.o.pseudonymSecret, residentId);
  }

  private prepare(def: SchemaDefinition, row: Row, n: number, call: CallState): Prepared {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) rowFail(Codes.MALFORMED, 'a row must be an object');
    const { refsSeen, published } = call;
    const subject = this.subjectOf(row, call.subjects);
    const ref = row.ref;
    if (ref !== undefined && (typeof ref !== 'string' || !REF_RE.test(ref))) rowFail(Codes.MALFORMED, 'ref must be 1 to 128 printable ASCII characters');
    if (ref !== undefined) {
      if (refsSeen.has(ref)) rowFail('DUPLICATE_REF', 'another row of this import has the same ref');
      refsSeen.add(ref);
    }
    const action = row.action ?? 'publish';
    if (action !== 'publish' && action !== 'correct' && action !== 'revoke') rowFail(Codes.MALFORMED, 'action must be publish, correct or revoke');
    const data: { [k: string]: JsonValue } = {};
    // Keys in canonical order, so that encoding the record sorts nothing.
    for (const k of Object.keys(row).sort()) if (!SPECIAL.has(k)) data[k] = row[k] as JsonValue;
    if (action === 'publish' && ref !== undefined && published.has(ref))
      rowFail(Codes.RECORD_EXISTS, 'this row was already published (same ref); correct or revoke it instead');
    const link = this.linkOf(def, action, ref, subject);
    const provider = this.o.chain.orgId;
    let draft: Omit<Record, 'id'>;
    if (action === 'revoke') {
      const reason =
        typeof row.reason === 'string' && row.reason.length > 0 && row.reason.length <= 256
          ? row.reason
          : rowFail(Codes.MALFORMED, 'a revocation needs a reason of 1 to 256 characters');
      draft = this.build(def, subject, provider, { reason }, link, undefined);
    } else {
      const problems = this.o.validator.errors(def, data);
      if (problems.length > 0) rowFail(Codes.SCHEMA_VIOLATION, problems.map((p) => `${p.path || '(record)'} ${p.message}`).join('; '));
      const end = def.retention === null ? undefined : data[def.retention.from];
      if (def.sensitivity === 'negative' && end === undefined) {
        rowFail(Codes.SCHEMA_VIOLATION, `negative information needs ${def.retention?.from} (the end of the conduct) so its retention can run (Reg Art 16)`);
      }
      if (def.sensitivity === 'negative' && end !== undefined) {
        if (typeof end !== 'string') rowFail(Codes.SCHEMA_VIOLATION, `${def.retention?.from} must be a date`);
        try {
          dateMs(end);
        } catch {
          rowFail(Codes.SCHEMA_VIOLATION, `${def.retention?.from} is not a real date`);
        }
      }
      draft = this.build(def, subject, provider, data, link, typeof end === 'string' ? end : undefined);
    }
    const end = def.sensitivity === 'negative' && action !== 'revoke' && def.retention !== null ? draft.conductEnd : undefined;
    const negative = end === undefined || def.retention === null ? undefined : { conductEnd: dateMs(end), expiresAt: addYearsMs(end, def.retention.years) };
    return {
      row: n,
      subject,
      draft,
      ...(link === undefined ? {} : { link }),
      ...(negative === undefined ? {} : { negative }),
      ...(ref === undefined ? {} : { ref }),
    };
  }

  private linkOf(def: SchemaDefinition, action: string, ref: JsonValue | undefined, subject: SubjectId): Link | undefined {
    if (action === 'publish') return undefined;
    if (typeof ref !== 'string') rowFail(Codes.MALFORMED, `${action} needs the ref of the record it replaces`);
    const latest = this.o.vault.latestByRef(def.id, ref);
    if (latest === undefined) rowFail(Codes.NOT_FOUND, `no earlier record with this ref to ${action}`);
    const onChain = this.o.chain.record(latest.id);
    if (onChain === undefined || onChain.status !== 'active')
      rowFail('RECORD_NOT_ACTIVE', `the latest record with this ref is ${onChain?.status ?? 'not anchored'}`);
    const old = this.o.vault.get(latest.id);
    if (old !== undefined && old.record.subject !== subject) rowFail(Codes.MALFORMED, 'a new version must be about the same subject');
    return { kind: action === 'correct' ? 'supersedes' : 'revokes', id: latest.id, version: latest.version };
  }

  private build(
    def: SchemaDefinition,
    subject: SubjectId,
    provider: string,
    data: { [k: string]: JsonValue },
    link: Link | undefined,
    conductEnd: string | undefined,
  ): Omit<Record, 'id'> {
    const version = link === undefined ? 1 : link.version + 1;
    return {
      schema: def.id,
      subject,
      provider,
      version,
      ...(link === undefined ? {} : { [link.kind]: link.id }),
      data,
      ...(conductEnd === undefined ? {} : { conductEnd }),
    };
  }

  /** Fix the batch's record ids, then commit to each record (salted hash, sealed by the vault) and to the batch (Merkle root). */
  private async assemble(def: SchemaDefinition, batch: Prepared[]): Promise<{ ids: string[]; sealed: SealedBatch; args: AnchorArgs; id: string }> {
    const nonce = toHex(freshRandom(16));
    const id = batchIdOf((d) => this.o.suite.hash(d), this.o.chain.orgId, nonce);
    // The records' canonical JSON as one string and one buffer: each record's bytes are a view of it.
    const texts = batch.map((p, i) => canonicalJson(inKeyOrder(recordIdAt(id, i), p.draft)));
    const all = Buffer.from(texts.join(''), 'utf8');
    let at = 0;
    const inputs = batch.map((p, i): SealInput => {
      const start = at;
      at += Buffer.byteLength(texts[i] as string, 'utf8');
      return {
        id: recordIdAt(id, i),
        json: all.subarray(start, at),
        subject: p.draft.subject,
        schema: p.draft.schema,
        version: p.draft.version,
        ...(p.negative === undefined ? {} : { expiresAt: p.negative.expiresAt }),
        ...(p.ref === undefined ? {} : { ref: p.ref }),
      };
    });
    const sealed = await this.o.vault.sealBatch(inputs);
    const args: AnchorArgs = {
      schema: def.id,
      nonce,
      root: toHex(sealed.root),
      count: batch.length,
      subjects: subjectRuns(batch),
      negatives: batch.flatMap((p, i) => (p.negative === undefined ? [] : [[i, p.negative.conductEnd] as const])),
      links: batch.flatMap((p, i) => (p.link === undefined ? [] : [[i, p.link.kind, p.link.id] as const])),
    };
    return { ids: inputs.map((i) => i.id), sealed, args, id };
  }

  private async anchorBatch(def: SchemaDefinition, batch: Prepared[], result: ImportResult): Promise<void> {
    const { ids, sealed, args, id } = await this.assemble(def, batch);
    let tx: SignedTx;
    try {
      tx = await this.o.chain.sign('records', 'anchor', anchorArgsJson(args));
      await this.o.vault.stageSealed(sealed, { id, txId: tx.id, tx: tx.bytes, txExpiresAt: tx.expiresAt });
    } catch (e) {
      this.o.vault.discardSealed(sealed);
      // A concurrent import staged a row with the same ref first: this batch writes nothing.
      if (!isCredenceError(e) || e.code !== Codes.RECORD_EXISTS) throw e;
      for (const p of batch) result.errors.push({ row: p.row, code: e.code, message: 'a row of this batch is being published by a concurrent import' });
      return;
    }
    const outcome = await this.o.chain.submit(tx, this.o.commitTimeoutMs ?? 60_000);
    const summary = { txId: tx.id, root: args.root, records: batch.length };
    if (outcome.kind === 'ok') {
      this.o.vault.finishBatch(id);
      result.anchored.push(...ids.map((rid, i) => ({ row: (batch[i] as Prepared).row, id: rid })));
      result.batches.push({ ...summary, outcome: 'ok' });
    } else if (outcome.kind === 'refused') {
      this.o.vault.dropBatch(id);
      for (const p of batch) result.errors.push({ row: p.row, code: outcome.code, message: `the chain refused the batch: ${outcome.message}` });
      result.batches.push({ ...summary, outcome: 'refused' });
    } else {
      for (const p of batch) result.pending.push(p.row);
      result.batches.push({ ...summary, outcome: 'pending' });
    }
  }

  /**
   * Settle batches left pending by a crash or a timeout: finish those the chain committed,
   * drop those it refused or that can no longer commit, resubmit the rest (same bytes).
   */
  async recover(now = Date.now()): Promise<{ finished: number; dropped: number; waiting: number }> {
    const counts = { finished: 0, dropped: 0, waiting: 0 };
    for (const b of this.o.vault.pendingBatches()) {
      // Only the chain's clock can say a transaction is past committing.
      const pastCommitting = () => this.o.chain.blockTime() > b.txExpiresAt;
      let outcome = this.o.chain.outcome(b.txId);
      if (outcome.kind === 'unknown' && now <= b.txExpiresAt) {
        outcome = await this.o.chain.submit({ id: b.txId, bytes: b.tx, expiresAt: b.txExpiresAt }, this.o.commitTimeoutMs ?? 60_000);
      }
      if (outcome.kind === 'ok') {
        this.o.vault.finishBatch(b.id);
        counts.finished++;
      } else if (outcome.kind === 'refused' || pastCommitting()) {
        this.o.vault.dropBatch(b.id);
        counts.dropped++;
      } else counts.waiting++;
    }
    return counts;
  }
}
