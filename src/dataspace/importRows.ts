// Checking the rows of one import call and cutting them into anchor batches. This runs where
// the call's batches are sealed (a seal worker thread, or the vault's own thread without
// workers): the rows cross to it once, as JSONL bytes, and only row errors, the batches'
// anchor arguments and their row numbers come back.
//
// A row is `{ uscc | residentId, ref?, action?, reason?, ...data }`. `ref` is the provider's
// own key for the row; `action: "correct"` makes a new version of the latest record with the
// same ref, `action: "revoke"` revokes it (data is then `{ reason }`). Which record a new
// version replaces is resolved by the importer on the node's main thread (it needs the
// chain); everything else about a row is checked here. Row errors never quote a value (a
// value might be a personal ID number).

import { type JsonValue, canonicalJson } from '../codec/canonicalJson.js';
import { TX_LIMITS } from '../codec/tx.js';
import { ANCHOR_BYTES, BATCH_LINKS_MAX, BATCH_RECORDS_MAX, BATCH_SUBJECTS_MAX, type LinkKind } from '../contracts/recordBatch.js';
import type { RowErrorJson } from '../sdk/provider.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import { type SubjectId, checkResidentId, enterpriseSubjectId, personSubjectId } from './identifiers.js';
import { addYearsMs, dateMs } from './record.js';
import type { SchemaDefinition } from './schemas/catalog.js';
import type { RecordValidator } from './validate.js';

export type Row = { [k: string]: JsonValue };
export type RowError = RowErrorJson;

/** Most rows one import call takes (the CLI streams a file in calls of this size). */
export const IMPORT_ROWS_MAX = 5000;
/** Bytes of `records.anchor` arguments per transaction: the args cap (64 KiB) less a margin. */
export const ANCHOR_ARGS_BYTES_MAX = TX_LIMITS.argsBytesMax - 1024;
const REF_RE = /^[\x21-\x7e]{1,128}$/;
const SPECIAL_FIELDS = ['uscc', 'residentId', 'ref', 'action', 'reason'] as const;
const SPECIAL = new Set<string>(SPECIAL_FIELDS);

export type Action = 'publish' | 'correct' | 'revoke';
export type Link = { readonly kind: LinkKind; readonly id: string; readonly version: number };

/** A checked row: everything its record needs but its id (its place in a batch) and, for a new version, its link. One shape for every row. */
export interface PreparedRow {
  readonly row: number;
  readonly subject: SubjectId;
  readonly action: Action;
  /** The record's data as canonical JSON (for a revocation: `{"reason":…}`). */
  readonly data: string;
  readonly conductEnd: string | undefined;
  /** End of the conduct (ms) of a negative record, and when it expires. */
  readonly negative: { readonly conductEnd: number; readonly expiresAt: number } | undefined;
  readonly ref: string | undefined;
  /** The record a new version replaces, once the importer has resolved it. */
  link: Link | undefined;
}

/** A new version whose link the importer resolves: the latest record with `ref`, about `subject`. */
export interface LinkQuery {
  readonly row: number;
  readonly action: 'correct' | 'revoke';
  readonly ref: string;
  readonly subject: SubjectId;
}

export type LinkAnswer = { readonly row: number; readonly link: Link } | { readonly row: number; readonly error: { code: string; message: string } };

/** What checking the rows of one call needs. */
export interface RowContext {
  readonly def: SchemaDefinition;
  readonly validator: RecordValidator;
  /** The network's pseudonym secret; without it, rows about persons are refused. */
  readonly pseudonymSecret?: Uint8Array;
  /** Which of these refs already name a record of the schema (one query for the call). */
  readonly published: (refs: readonly string[]) => Set<string>;
}

class RowFailure extends CredenceError {}

export function rowFail(code: string, message: string): never {
  throw new RowFailure(code, message);
}

/** A value JSON.stringify writes as canonical JSON does: a string, a boolean, null or a safe integer other than -0. */
function isFlatValue(v: JsonValue | undefined): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || v === null || (Number.isSafeInteger(v) && !Object.is(v, -0));
}

/** The non-blank lines of JSONL bytes, with their row numbers: from `firstRow`, or `rowNumbers` (one per line). */
function jsonlLines(text: Uint8Array, firstRow: number, rowNumbers: Float64Array | null): { lines: string[]; rowAt: (i: number) => number } {
  const lines = Buffer.from(text.buffer, text.byteOffset, text.byteLength)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (lines.length > IMPORT_ROWS_MAX) throw new CredenceError(Codes.TOO_LARGE, `at most ${IMPORT_ROWS_MAX} rows per import call`, { rows: lines.length });
  if (rowNumbers !== null && rowNumbers.length !== lines.length) throw new CredenceError(Codes.MALFORMED, 'rowNumbers must give one number per row');
  return { lines, rowAt: (i) => (rowNumbers === null ? firstRow + i : (rowNumbers[i] as number)) };
}

/** Checks an import call's rows; keeps the good ones in order and reports the rest. */
export class RowChecker {
  private readonly refsSeen = new Set<string>();
  /** Subjects of the identifiers checked so far in this call (key: "u" + USCC or "r" + resident ID): an SME has many rows. */
  private readonly subjects = new Map<string, SubjectId>();
  /** The keys of the last row and its data keys in canonical order (rows of one source mostly share them). */
  private lastKeys: string[] = [];
  private dataKeys: string[] = [];

  constructor(private readonly c: RowContext) {}

  /** Parse and check the rows of JSONL bytes, one line at a time; then refuse those that publish a ref already published (one query). */
  checkJsonl(text: Uint8Array, firstRow: number, rowNumbers: Float64Array | null): { good: PreparedRow[]; errors: RowError[] } {
    const { lines, rowAt } = jsonlLines(text, firstRow, rowNumbers);
    const good: PreparedRow[] = [];
    const errors: RowError[] = [];
    lines.forEach((line, i) => {
      const row = rowAt(i);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        errors.push({ row, code: Codes.MALFORMED, message: 'the line is not valid JSON' });
        return;
      }
      try {
        good.push(this.prepare(value, row));
      } catch (e) {
        if (!isCredenceError(e)) throw e;
        errors.push({ row, code: e.code, message: e.message });
      }
    });
    const published = this.c.published(good.flatMap((p) => (p.action === 'publish' && p.ref !== undefined ? [p.ref] : [])));
    if (published.size === 0) return { good, errors };
    const fresh = good.filter((p) => {
      if (p.action !== 'publish' || p.ref === undefined || !published.has(p.ref)) return true;
      errors.push({ row: p.row, code: Codes.RECORD_EXISTS, message: 'this row was already published (same ref); correct or revoke it instead' });
      return false;
    });
    return { good: fresh, errors };
  }

  private subjectOf(row: Row): SubjectId {
    const { uscc, residentId } = row;
    const key =
      typeof uscc === 'string' && residentId === undefined ? `u${uscc}` : typeof residentId === 'string' && uscc === undefined ? `r${residentId}` : undefined;
    const seen = key === undefined ? undefined : this.subjects.get(key);
    if (seen !== undefined) return seen;
    const subject = this.checkSubject(row);
    if (key !== undefined) this.subjects.set(key, subject);
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
    if (this.c.pseudonymSecret === undefined)
      throw new CredenceError(Codes.CONFIG, 'this node has no pseudonym secret (pseudonymKeyFile): it cannot publish records about persons');
    return personSubjectId(this.c.pseudonymSecret, residentId);
  }

  private ref(row: Row): string | undefined {
    const ref = row.ref;
    if (ref === undefined) return undefined;
    if (typeof ref !== 'string' || !REF_RE.test(ref)) rowFail(Codes.MALFORMED, 'ref must be 1 to 128 printable ASCII characters');
    if (this.refsSeen.has(ref)) rowFail('DUPLICATE_REF', 'another row of this import has the same ref');
    this.refsSeen.add(ref);
    return ref;
  }

  private prepare(value: unknown, n: number): PreparedRow {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) rowFail(Codes.MALFORMED, 'a row must be an object');
    const row = value as Row;
    const subject = this.subjectOf(row);
    const ref = this.ref(row);
    const action = row.action ?? 'publish';
    if (action !== 'publish' && action !== 'correct' && action !== 'revoke') rowFail(Codes.MALFORMED, 'action must be publish, correct or revoke');
    if (action !== 'publish' && ref === undefined) rowFail(Codes.MALFORMED, `${action} needs the ref of the record it replaces`);
    if (action === 'revoke') {
      const reason =
        typeof row.reason === 'string' && row.reason.length > 0 && row.reason.length <= 256
          ? row.reason
          : rowFail(Codes.MALFORMED, 'a revocation needs a reason of 1 to 256 characters');
      return { row: n, subject, action, data: canonicalJson({ reason }), conductEnd: undefined, negative: undefined, ref, link: undefined };
    }
    // The row is validated as it is (the schema with the special fields allowed: the same verdict as on its data alone).
    const problems = this.c.validator.rowErrors(this.c.def, row, SPECIAL_FIELDS);
    if (problems.length > 0) rowFail(Codes.SCHEMA_VIOLATION, problems.map((p) => `${p.path || '(record)'} ${p.message}`).join('; '));
    const { conductEnd, negative } = this.retention(row);
    return { row: n, subject, action: action as Action, data: this.dataJson(row), conductEnd, negative, ref, link: undefined };
  }

  /**
   * The canonical JSON of the row's data (the row but its special fields). The data keys in
   * canonical order are kept from the previous row when it has the same keys. When every value
   * is a string, a boolean, null or a safe integer, JSON.stringify with the sorted keys as its
   * allow-list writes exactly the canonical text, as one flat string (a string built by
   * concatenation would be a tree of pieces, all kept alive with the row until it is sealed).
   */
  private dataJson(row: Row): string {
    const keys = Object.keys(row);
    const last = this.lastKeys;
    if (keys.length !== last.length || keys.some((k, i) => k !== last[i])) {
      this.lastKeys = keys;
      this.dataKeys = keys.filter((k) => !SPECIAL.has(k)).sort();
    }
    const dataKeys = this.dataKeys;
    if (dataKeys.every((k) => isFlatValue(row[k]))) return JSON.stringify(row, dataKeys);
    const data: { [k: string]: JsonValue } = {};
    for (const k of dataKeys) data[k] = row[k] as JsonValue;
    return canonicalJson(data);
  }

  /** The conduct end and expiry of a negative record (the row already validated). */
  private retention(row: Row): Pick<PreparedRow, 'conductEnd' | 'negative'> {
    const def = this.c.def;
    const end = def.retention === null ? undefined : row[def.retention.from];
    if (def.sensitivity !== 'negative' || def.retention === null) return { conductEnd: typeof end === 'string' ? end : undefined, negative: undefined };
    if (end === undefined)
      rowFail(Codes.SCHEMA_VIOLATION, `negative information needs ${def.retention.from} (the end of the conduct) so its retention can run (Reg Art 16)`);
    if (typeof end !== 'string') rowFail(Codes.SCHEMA_VIOLATION, `${def.retention.from} must be a date`);
    try {
      return { conductEnd: end, negative: { conductEnd: dateMs(end), expiresAt: addYearsMs(end, def.retention.years) } };
    } catch {
      rowFail(Codes.SCHEMA_VIOLATION, `${def.retention.from} is not a real date`);
    }
  }
}

/** The new versions among checked rows, for the importer to resolve. */
export function linkQueries(rows: readonly PreparedRow[]): LinkQuery[] {
  return rows.flatMap((p) => (p.action === 'publish' ? [] : [{ row: p.row, action: p.action, ref: p.ref as string, subject: p.subject }]));
}

/** Apply the importer's answers: links set, rows it refused moved to the errors. */
export function applyLinks(rows: readonly PreparedRow[], answers: readonly LinkAnswer[], errors: RowError[]): PreparedRow[] {
  const byRow = new Map(answers.map((a) => [a.row, a]));
  return rows.filter((p) => {
    if (p.action === 'publish') return true;
    const a = byRow.get(p.row);
    if (a === undefined || 'error' in a) {
      errors.push({ row: p.row, code: a?.error.code ?? Codes.NOT_FOUND, message: a?.error.message ?? 'no earlier record with this ref' });
      return false;
    }
    p.link = a.link;
    return true;
  });
}

/**
 * The record's canonical JSON (what canonicalJson gives for the Record object), written
 * directly: keys in sorted order, the data already canonical. `provider` and `schema` come
 * quoted (canonicalJson of the string), as they are the same for a whole call.
 */
export function recordJson(id: string, p: PreparedRow, quotedProvider: string, quotedSchema: string): string {
  const link = p.link;
  return (
    (p.conductEnd === undefined ? '{' : `{"conductEnd":${canonicalJson(p.conductEnd)},`) +
    `"data":${p.data},"id":"${id}","provider":${quotedProvider}` +
    (link?.kind === 'revokes' ? `,"revokes":"${link.id}"` : '') +
    `,"schema":${quotedSchema},"subject":${canonicalJson(p.subject)}` +
    (link?.kind === 'supersedes' ? `,"supersedes":"${link.id}"` : '') +
    `,"version":${link === undefined ? 1 : link.version + 1}}`
  );
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

/** Runs of consecutive rows about one subject: [subject, rows]. */
export function subjectRuns(rows: readonly { subject: string }[]): [string, number][] {
  const runs: [string, number][] = [];
  for (const r of rows) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0] === r.subject) last[1]++;
    else runs.push([r.subject, 1]);
  }
  return runs;
}

/** Row numbers as runs of consecutive numbers: [first, count]. */
export function rowRuns(rows: readonly { row: number }[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const { row } of rows) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0] + last[1] === row) last[1]++;
    else runs.push([row, 1]);
  }
  return runs;
}
