// The on-chain encoding of an anchored batch of records (issue 3, part 4): what a
// `records.anchor` transaction carries and what the chain keeps per batch. The chain never
// sees a record or a per-record commitment: one batch is its Merkle root over the salted
// commitments, its size, its subjects as runs of consecutive records, and the only
// per-record facts the contracts need — when a negative record expires, and which earlier
// record a new version replaces.
//
// Record ids are derived, not stored: id = batch id (56 hex) ‖ index in the batch (8 hex),
// and the batch id is H(domain, provider, nonce) cut to 28 bytes, so another member cannot
// anchor under a provider's batch id. A delivered record proves it is in its batch with an
// inclusion proof against the root at the index its id names.

import { type JsonValue, canonicalJsonBytes } from '../codec/canonicalJson.js';
import { toHex } from '../util/bytes.js';
import { HEX_ID_RE, SUBJECT_RE, argsObject, matchString, refuse } from './dataspaceState.js';

/** Most records in one batch (one `records.anchor` transaction). */
export const BATCH_RECORDS_MAX = 8192;
/** Most distinct subjects in one batch: each costs a state write (its record index) and at most one event. */
export const BATCH_SUBJECTS_MAX = 500;
/** Most new versions (supersede/revoke) in one batch: each writes two records' exception entries. */
export const BATCH_LINKS_MAX = 500;

const BATCH_ID_HEX = 56;
const INDEX_HEX = 8;
const NONCE_RE = /^[0-9a-f]{32}$/;
const RECORD_ID_RE = /^[0-9a-f]{64}$/;
const ROOT_RE = /^[0-9a-f]{64}$/;

export type LinkKind = 'supersedes' | 'revokes';

/** What a `records.anchor` transaction carries. */
export interface AnchorArgs {
  readonly schema: string;
  /** 16 random bytes, hex: with the provider it fixes the batch id. */
  readonly nonce: string;
  /** RFC 6962 root over the records' salted commitments, in batch order. */
  readonly root: string;
  readonly count: number;
  /** Consecutive runs of records about one subject, in batch order; each subject once. */
  readonly subjects: readonly (readonly [subject: string, records: number])[];
  /** Negative records (those that expire): [index, end of the conduct, ms since epoch], by index. */
  readonly negatives?: readonly (readonly [index: number, conductEnd: number])[];
  /** New versions: [index, kind, id of the record replaced], by index. */
  readonly links?: readonly (readonly [index: number, kind: LinkKind, replaces: string])[];
}

/** The batch id a provider's nonce gives: hex of H({domain, provider, nonce}), first 28 bytes. */
export function batchIdOf(hash: (d: Uint8Array) => Uint8Array, provider: string, nonce: string): string {
  return toHex(hash(canonicalJsonBytes({ domain: 'credence/batch/v1', nonce, provider }))).slice(0, BATCH_ID_HEX);
}

/** The id of record `index` of a batch. */
export function recordIdAt(batchId: string, index: number): string {
  return batchId + index.toString(16).padStart(INDEX_HEX, '0');
}

/** Batch id and index named by a record id, or undefined if it is not one. */
export function splitRecordId(id: string): { batch: string; index: number } | undefined {
  if (!RECORD_ID_RE.test(id)) return undefined;
  return { batch: id.slice(0, BATCH_ID_HEX), index: Number.parseInt(id.slice(BATCH_ID_HEX), 16) };
}

function intIn(v: JsonValue | undefined, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) refuse('BAD_ANCHOR', `${what} must be an integer from ${min} to ${max}`);
  return v;
}

function tuples(v: JsonValue | undefined, max: number, what: string): JsonValue[][] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > max || v.some((t) => !Array.isArray(t))) refuse('BAD_ANCHOR', `${what} must be a list of at most ${max} tuples`);
  return v as JsonValue[][];
}

/** Indexes strictly increasing and inside the batch. */
function byIndex<T extends readonly [number, ...unknown[]]>(xs: T[], count: number, what: string): T[] {
  let last = -1;
  for (const [i] of xs) {
    if (i <= last || i >= count) refuse('BAD_ANCHOR', `${what} must name distinct records of the batch in index order`);
    last = i;
  }
  return xs;
}

function parseSubjects(v: JsonValue | undefined, count: number): [string, number][] {
  const runs = tuples(v, BATCH_SUBJECTS_MAX, 'subjects').map(
    (t) => [matchString(t[0], SUBJECT_RE, 'BAD_SUBJECT', 'subject'), intIn(t[1], 1, BATCH_RECORDS_MAX, 'a run length')] as [string, number],
  );
  if (runs.length === 0) refuse('BAD_ANCHOR', 'subjects must name at least one subject');
  if (new Set(runs.map((r) => r[0])).size !== runs.length) refuse('BAD_ANCHOR', 'each subject appears in one run per batch');
  if (runs.reduce((n, r) => n + r[1], 0) !== count) refuse('BAD_ANCHOR', 'the subject runs must cover the batch exactly');
  return runs;
}

/** Check the arguments of `records.anchor`; refuses BAD_ANCHOR / BAD_SUBJECT / BAD_RECORD with the reason. */
export function parseAnchorArgs(args: JsonValue, conductEndMs: (v: JsonValue | undefined) => number | undefined): AnchorArgs {
  const a = argsObject(args, 'BAD_ANCHOR', 'arguments');
  const count = intIn(a.count, 1, BATCH_RECORDS_MAX, 'count');
  const negatives = tuples(a.negatives, count, 'negatives').map(
    (t) => [intIn(t[0], 0, count - 1, 'an index'), conductEndMs(t[1]) ?? refuse('BAD_RECORD', 'a negative record needs its conduct end')] as [number, number],
  );
  const links = tuples(a.links, BATCH_LINKS_MAX, 'links').map((t) => {
    if (t[1] !== 'supersedes' && t[1] !== 'revokes') refuse('BAD_ANCHOR', 'a link is supersedes or revokes');
    return [intIn(t[0], 0, count - 1, 'an index'), t[1], matchString(t[2], HEX_ID_RE, 'BAD_RECORD', 'linked id')] as [number, LinkKind, string];
  });
  return {
    schema: typeof a.schema === 'string' ? a.schema : '',
    nonce: matchString(a.nonce, NONCE_RE, 'BAD_ANCHOR', 'nonce'),
    root: matchString(a.root, ROOT_RE, 'BAD_ANCHOR', 'root'),
    count,
    subjects: parseSubjects(a.subjects, count),
    negatives: byIndex(negatives, count, 'negatives'),
    links: byIndex(links, count, 'links'),
  };
}

/** The canonical JSON of the arguments (empty lists left out), as the importer sends them. */
export function anchorArgsJson(a: AnchorArgs): JsonValue {
  return {
    schema: a.schema,
    nonce: a.nonce,
    root: a.root,
    count: a.count,
    subjects: a.subjects as unknown as JsonValue,
    ...(a.negatives === undefined || a.negatives.length === 0 ? {} : { negatives: a.negatives as unknown as JsonValue }),
    ...(a.links === undefined || a.links.length === 0 ? {} : { links: a.links as unknown as JsonValue }),
  };
}

/** Upper bounds on the argument bytes each part adds, for cutting batches before encoding them. */
export const ANCHOR_BYTES = {
  /** schema, nonce, root, count, keys and brackets. */
  fixed: 320,
  /** `["<subject>",<len>],` beyond the subject's own characters. */
  subject: 10,
  /** `[<index>,<ms>],` */
  negative: 26,
  /** `[<index>,"supersedes","<64 hex>"],` */
  link: 90,
} as const;
