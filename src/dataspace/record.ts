// A credit record as the provider keeps it in its vault and delivers it to a consumer. Only
// its salted commitment goes on chain (see commitment.ts); the record itself never does.
//
// Corrections and revocations are new versions: version n+1 names the record it replaces in
// `supersedes` (a correction, with new data) or in `revokes` (a revocation, whose data is a
// short reason). The original stays anchored; the chain marks it superseded or revoked.

import type { JsonValue } from '../codec/canonicalJson.js';
import { CredenceError, Codes } from '../util/errors.js';
import { isSubjectId, type SubjectId } from './identifiers.js';

export interface Record {
  /** Its batch id and index in the batch, 64 hex (`recordIdAt` in contracts/recordBatch.ts). */
  readonly id: string;
  /** Schema id, e.g. `tax-payment`. */
  readonly schema: string;
  readonly subject: SubjectId;
  /** The providing organization's id. */
  readonly provider: string;
  /** 1 for a new record; n+1 for a correction or revocation of version n. */
  readonly version: number;
  /** Id of the record this one corrects. */
  readonly supersedes?: string;
  /** Id of the record this one revokes. */
  readonly revokes?: string;
  /** The schema-validated content (canonical JSON: integers only, amounts in cents). */
  readonly data: { readonly [k: string]: JsonValue };
  /** End of the conduct, `YYYY-MM-DD`, for negative records (retention runs from it). */
  readonly conductEnd?: string;
}

const HEX_ID_RE = /^[0-9a-f]{64}$/;
const SCHEMA_ID_RE = /^[a-z][a-z0-9-]{0,63}$/;
const ORG_ID_RE = /^[a-z][a-z0-9-]{0,31}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function isRecordId(s: unknown): s is string {
  return typeof s === 'string' && HEX_ID_RE.test(s);
}

/** ms since epoch of a `YYYY-MM-DD` date (UTC midnight); throws MALFORMED on a non-date. */
export function dateMs(date: string): number {
  const t = DATE_RE.test(date) ? Date.parse(`${date}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== date) {
    throw new CredenceError(Codes.MALFORMED, 'date must be a real calendar date YYYY-MM-DD');
  }
  return t;
}

/** `date` plus `years` calendar years (29 February maps to 1 March), as ms since epoch. */
export function addYearsMs(date: string, years: number): number {
  const t = new Date(dateMs(date));
  t.setUTCFullYear(t.getUTCFullYear() + years);
  return t.getTime();
}

function bad(message: string): never {
  throw new CredenceError(Codes.MALFORMED, `record: ${message}`);
}

/** Checks the shape of a record received from elsewhere (a delivery, a file); returns it typed. */
export function parseRecord(v: unknown): Record {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('not an object');
  const r = v as { [k: string]: unknown };
  const allowed = new Set(['id', 'schema', 'subject', 'provider', 'version', 'supersedes', 'revokes', 'data', 'conductEnd']);
  for (const k of Object.keys(r)) if (!allowed.has(k)) bad(`unknown field ${JSON.stringify(k.slice(0, 32))}`);
  if (!isRecordId(r.id)) bad('id must be 64 hex characters');
  if (typeof r.schema !== 'string' || !SCHEMA_ID_RE.test(r.schema)) bad('bad schema id');
  if (!isSubjectId(r.subject)) bad('subject must be E:<USCC> or P:<64 hex>');
  if (typeof r.provider !== 'string' || !ORG_ID_RE.test(r.provider)) bad('bad provider id');
  if (typeof r.version !== 'number' || !Number.isSafeInteger(r.version) || r.version < 1) bad('version must be a positive integer');
  for (const link of ['supersedes', 'revokes'] as const) if (r[link] !== undefined && !isRecordId(r[link])) bad(`${link} must be a record id`);
  if (r.supersedes !== undefined && r.revokes !== undefined) bad('a record cannot both supersede and revoke');
  if ((r.version === 1) !== (r.supersedes === undefined && r.revokes === undefined)) bad('version 1 has no link; later versions link the record they replace');
  if (r.data === null || typeof r.data !== 'object' || Array.isArray(r.data)) bad('data must be an object');
  if (r.conductEnd !== undefined) {
    if (typeof r.conductEnd !== 'string') bad('conductEnd must be a date');
    dateMs(r.conductEnd);
  }
  return r as unknown as Record;
}
