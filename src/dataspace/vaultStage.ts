// The vault's SQLite layout and the writing of staged batches, shared by the vault itself and
// by its seal workers (which stage the batches they sealed over their own connection, so
// neither the rows nor the fsync cross the main thread). One transaction per batch; a record
// is pending while its batch row is.
//
// There is no table row per record (docs/architecture.md, "Vault"). A record is named by its
// place: batch number (the batch row's rowid) × 2^16 + its index in the batch. Its sealed
// bytes sit in its chunk's row (`chunks`: the ciphertexts of 64 consecutive records of a batch
// next to their wrapped data keys, vaultKeys.ts); what is indexed is per subject run
// (`subjects`), per ref (`refs`), per negative record (`expiry`) and per destroyed record
// (`destroyed`).

import Database from 'better-sqlite3';
import { CredenceError, Codes } from '../util/errors.js';
import type { SealedRecords } from './batchSeal.js';
import { KEYS_PER_CHUNK } from './vaultKeys.js';

/** Version of the vault's layout, kept in `meta` under "format"; a vault in another layout is refused at open. */
export const VAULT_FORMAT = 'credence/vault/2';

/** Most records in one vault batch: a record's place is batch number × 2^16 + index. */
export const VAULT_BATCH_MAX = 1 << 16;
const CHUNKS_PER_BATCH = VAULT_BATCH_MAX / KEYS_PER_CHUNK;

export const VAULT_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
  no INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, state TEXT NOT NULL, schema TEXT NOT NULL, count INTEGER NOT NULL,
  root BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending (no INTEGER PRIMARY KEY, tx_id TEXT NOT NULL, tx BLOB NOT NULL, tx_expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commitments (no INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY, keys BLOB NOT NULL, ends BLOB NOT NULL, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (place INTEGER PRIMARY KEY, subject TEXT NOT NULL, count INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS subjects_subject ON subjects(subject);
CREATE TABLE IF NOT EXISTS refs (schema TEXT NOT NULL, ref TEXT NOT NULL, version INTEGER NOT NULL, place INTEGER NOT NULL,
  PRIMARY KEY (schema, ref, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS expiry (place INTEGER PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS expiry_at ON expiry(expires_at);
CREATE TABLE IF NOT EXISTS destroyed (place INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS statements (
  dispute_id TEXT PRIMARY KEY, record_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS statements_record ON statements(record_id);
`;

/** A record's place: its batch's number and its index. */
export const placeOf = (batchNo: number, index: number): number => batchNo * VAULT_BATCH_MAX + index;
/** The chunk row of record `index` of batch `batchNo`. */
export const chunkRowOf = (batchNo: number, index: number): number => batchNo * CHUNKS_PER_BATCH + Math.floor(index / KEYS_PER_CHUNK);
/** The first and last place of a batch, and of its chunk rows. */
export const batchPlaces = (batchNo: number): [number, number] => [placeOf(batchNo, 0), placeOf(batchNo, VAULT_BATCH_MAX - 1)];
export const batchChunkRows = (batchNo: number): [number, number] => [batchNo * CHUNKS_PER_BATCH, (batchNo + 1) * CHUNKS_PER_BATCH - 1];

/** The batch and the signed transaction that anchors it. */
export interface StageHeader {
  readonly id: string;
  readonly schema: string;
  readonly txId: string;
  readonly tx: Uint8Array;
  readonly txExpiresAt: number;
  readonly root: Uint8Array;
  /** The records' commitments, 32 bytes each, in batch order (for inclusion proofs). */
  readonly commitments: Uint8Array;
}

/** What the vault indexes about record `index` of a batch. */
export interface RecordColumns {
  subject(index: number): string;
  /** The provider's ref of the record, if any, and the record's version. */
  ref(index: number): string | undefined;
  version(index: number): number;
  /** When a negative record expires (ms since epoch), else null. */
  expiresAt(index: number): number | null;
}

/**
 * Page size of a new vault file (an existing file keeps its own). A batch writes megabytes of
 * ciphertext in chunk rows of ~25 KiB: larger pages mean fewer overflow pages and WAL frames
 * (one write and one checksum each) per batch.
 */
const VAULT_PAGE_BYTES = 16384;

/** Page cache of each vault connection: the refs key and the subject index stay in memory while a batch inserts into them. */
const VAULT_CACHE_KIB = 32 * 1024;

/** A connection with the vault's settings: WAL, fsync on commit, secure delete, waits for a busy writer. */
export function openVaultDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma(`page_size = ${VAULT_PAGE_BYTES}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${VAULT_CACHE_KIB}`);
  return db;
}

/** Create the layout in a new vault, or refuse one written in another layout (see VAULT_FORMAT). */
export function checkVaultFormat(db: Database.Database): void {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  const stamp = tables.includes('meta') ? (db.prepare("SELECT v FROM meta WHERE k = 'format'").pluck().get() as Buffer | undefined) : undefined;
  const found = stamp?.toString('utf8') ?? (tables.includes('records') ? 'credence/vault/1' : undefined);
  if (found !== undefined && found !== VAULT_FORMAT)
    throw new CredenceError(
      Codes.CONFIG,
      `this vault was written in layout ${found.slice(0, 32)}; this credence reads ${VAULT_FORMAT}: create the network again, or run the credence version that wrote it`,
    );
  db.exec(VAULT_SCHEMA);
  if (found === undefined) db.prepare("INSERT INTO meta (k, v) VALUES ('format', ?)").run(Buffer.from(VAULT_FORMAT));
}

interface Statements {
  batch: Database.Statement;
  pending: Database.Statement;
  commitments: Database.Statement;
  chunk: Database.Statement;
  subject: Database.Statement;
  ref: Database.Statement;
  expiry: Database.Statement;
}

const statements = new WeakMap<Database.Database, Statements>();

function prepared(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      batch: db.prepare("INSERT INTO batches (state, id, schema, count, root, created_at) VALUES ('pending', ?, ?, ?, ?, ?)"),
      pending: db.prepare('INSERT INTO pending (no, tx_id, tx, tx_expires_at) VALUES (?, ?, ?, ?)'),
      commitments: db.prepare('INSERT INTO commitments (no, hashes) VALUES (?, ?)'),
      chunk: db.prepare('INSERT INTO chunks (id, keys, ends, sealed) VALUES (?, ?, ?, ?)'),
      subject: db.prepare('INSERT INTO subjects (place, subject, count) VALUES (?, ?, ?)'),
      ref: db.prepare('INSERT INTO refs (schema, ref, version, place) VALUES (?, ?, ?, ?)'),
      expiry: db.prepare('INSERT INTO expiry (place, expires_at) VALUES (?, ?)'),
    };
    statements.set(db, s);
  }
  return s;
}

/** A duplicate batch id or (schema, ref, version) as RECORD_EXISTS; any other error as it is. */
function recordExists(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
    return new CredenceError(Codes.RECORD_EXISTS, 'a batch with this id, or a record with this ref and version, is already in the vault');
  return e;
}

/** One chunk row per KEYS_PER_CHUNK records: their wrapped keys, their ends (u32 LE, from the chunk's start) and their ciphertexts. */
function insertChunks(s: Statements, no: number, sealed: SealedRecords): void {
  const n = sealed.ends.length;
  sealed.keyChunks.forEach((keys, c) => {
    const first = c * KEYS_PER_CHUNK;
    const last = Math.min(n, first + KEYS_PER_CHUNK);
    const start = first === 0 ? 0 : (sealed.ends[first - 1] as number);
    const ends = new Uint32Array(last - first);
    for (let i = first; i < last; i++) ends[i - first] = (sealed.ends[i] as number) - start;
    s.chunk.run(chunkRowOf(no, first), keys, new Uint8Array(ends.buffer), sealed.sealed.subarray(start, sealed.ends[last - 1]));
  });
}

/** One subjects row per run of consecutive records about the same subject. */
function insertSubjectRuns(s: Statements, no: number, n: number, c: RecordColumns): void {
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && c.subject(i) === c.subject(start)) continue;
    s.subject.run(placeOf(no, start), c.subject(start), i - start);
    start = i;
  }
}

/**
 * Stage a batch sealed by batchSeal.ts in one durable transaction: its row (pending, with the
 * transaction), its chunk rows, its subject runs, its refs and its negative records' expiry.
 * RECORD_EXISTS if the batch id, or a ref and version of it, is already in the vault.
 */
export function stageSealedRecords(db: Database.Database, h: StageHeader, sealed: SealedRecords, c: RecordColumns): void {
  const s = prepared(db);
  const n = sealed.ends.length;
  if (n === 0 || n > VAULT_BATCH_MAX) throw new CredenceError(Codes.MALFORMED, `a vault batch holds 1 to ${VAULT_BATCH_MAX} records`);
  db.transaction(() => {
    let no: number;
    try {
      no = Number(s.batch.run(h.id, h.schema, n, h.root, Date.now()).lastInsertRowid);
      for (let i = 0; i < n; i++) {
        const ref = c.ref(i);
        if (ref !== undefined) s.ref.run(h.schema, ref, c.version(i), placeOf(no, i));
      }
    } catch (e) {
      throw recordExists(e);
    }
    s.pending.run(no, h.txId, h.tx, h.txExpiresAt);
    s.commitments.run(no, h.commitments);
    insertChunks(s, no, sealed);
    insertSubjectRuns(s, no, n, c);
    for (let i = 0; i < n; i++) {
      const at = c.expiresAt(i);
      if (at !== null) s.expiry.run(placeOf(no, i), at);
    }
  }).immediate();
}

/** Which of `refs` already name a record of `schema` (anchored, live or destroyed): one query for a whole import. */
export function publishedRefsIn(db: Database.Database, schema: string, refs: readonly string[]): Set<string> {
  if (refs.length === 0) return new Set();
  const rows = db
    .prepare(
      `SELECT DISTINCT r.ref FROM refs r JOIN batches b ON b.no = r.place >> 16
       WHERE r.schema = ? AND r.ref IN (SELECT value FROM json_each(?)) AND b.state = 'anchored'`,
    )
    .pluck()
    .all(schema, JSON.stringify(refs)) as string[];
  return new Set(rows);
}

/**
 * Mark a staged batch anchored: its records become readable. This need not wait for the disk:
 * if a crash loses it, the batch is still pending with its transaction, and recovery finds the
 * anchor on chain and finishes it again. (Staging, by contrast, must be durable before the
 * transaction is submitted.) An immediate transaction: it takes the write lock before it
 * reads, so a concurrent writer makes it wait (busy timeout) rather than fail with SQLITE_BUSY.
 */
export function finishBatchRow(db: Database.Database, id: string): void {
  db.pragma('synchronous = NORMAL');
  try {
    db.transaction(() => {
      const no = db.prepare("UPDATE batches SET state = 'anchored' WHERE id = ? RETURNING no").pluck().get(id) as number | undefined;
      if (no !== undefined) db.prepare('DELETE FROM pending WHERE no = ?').run(no);
    }).immediate();
  } finally {
    db.pragma('synchronous = FULL');
  }
}
