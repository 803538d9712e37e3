// Writing staged batches into the vault's SQLite file, shared by the vault itself and by its
// seal workers (which stage the batches they sealed over their own connection, so neither the
// rows nor the fsync cross the main thread). One transaction per batch; a record is pending
// while its batch row is.

import Database from 'better-sqlite3';
import { recordIdAt } from '../contracts/recordBatch.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { SealedRecords } from './batchSeal.js';

/** One record's vault row. */
export interface StageRow {
  readonly id: string;
  readonly subject: string;
  readonly schema: string;
  readonly ref: string | null;
  readonly version: number;
  readonly expiresAt: number | null;
  /** The data key wrapped under the vault key; null for a record of a batch whose keys are wrapped in chunks (vaultKeys.ts). */
  readonly wrapped: Uint8Array | null;
  readonly sealed: Uint8Array;
}

/** The batch and the signed transaction that anchors it. */
export interface StageHeader {
  readonly id: string;
  readonly txId: string;
  readonly tx: Uint8Array;
  readonly txExpiresAt: number;
  readonly root: Uint8Array;
  /** The records' commitments, 32 bytes each, in batch order (for inclusion proofs). */
  readonly commitments: Uint8Array;
}

/** A connection with the vault's settings: WAL, fsync on commit, secure delete, waits for a busy writer. */
export function openVaultDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

interface Statements {
  batch: Database.Statement;
  record: Database.Statement;
  keys: Database.Statement;
}

const statements = new WeakMap<Database.Database, Statements>();

function prepared(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      batch: db.prepare('INSERT INTO batches (id, state, tx_id, tx, tx_expires_at, root, created_at, commitments) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      record: db.prepare(
        `INSERT INTO records (id, subject, schema, ref, version, batch, idx, commitment, state, expires_at, wrapped_key, sealed)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'live', ?, ?, ?)`,
      ),
      keys: db.prepare('INSERT INTO batch_keys (batch, chunk, wrapped) VALUES (?, ?, ?)'),
    };
    statements.set(db, s);
  }
  return s;
}

/** A duplicate record id or (schema, ref, version) as RECORD_EXISTS; any other error as it is. */
function recordExists(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
    return new CredenceError(Codes.RECORD_EXISTS, 'a record with this id, or this ref and version, is already in the vault');
  return e;
}

/** Insert one record row (batch null: a record outside any batch); RECORD_EXISTS on a duplicate id or (schema, ref, version). */
export function insertRow(db: Database.Database, r: StageRow, batch: { id: string; index: number } | null): void {
  try {
    prepared(db).record.run(r.id, r.subject, r.schema, r.ref, r.version, batch?.id ?? null, batch?.index ?? null, r.expiresAt, r.wrapped, r.sealed);
  } catch (e) {
    throw recordExists(e);
  }
}

/** The indexed columns of a record's vault row. */
export interface RowColumns {
  readonly subject: string;
  readonly schema: string;
  readonly ref: string | null;
  readonly version: number;
  readonly expiresAt: number | null;
}

function insertBatchRow(db: Database.Database, h: StageHeader): void {
  try {
    prepared(db).batch.run(h.id, 'pending', h.txId, h.tx, h.txExpiresAt, h.root, Date.now(), h.commitments);
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      throw new CredenceError(Codes.RECORD_EXISTS, 'a batch with this id is already in the vault');
    throw e;
  }
}

/**
 * Stage a batch sealed by batchSeal.ts in one durable transaction: its row (pending, with the
 * transaction), its wrapped key chunks, and a row per record (`recordIdAt(batch, index)`, no
 * wrapped key of its own: vaultKeys.ts) whose ciphertext is a view of the batch's buffer.
 */
export function stageSealedRecords(db: Database.Database, h: StageHeader, sealed: SealedRecords, columns: (index: number) => RowColumns): void {
  const s = prepared(db);
  db.transaction(() => {
    insertBatchRow(db, h);
    sealed.keyChunks.forEach((wrapped, chunk) => {
      s.keys.run(h.id, chunk, wrapped);
    });
    let start = 0;
    try {
      sealed.ends.forEach((end, index) => {
        const c = columns(index);
        s.record.run(recordIdAt(h.id, index), c.subject, c.schema, c.ref, c.version, h.id, index, c.expiresAt, null, sealed.sealed.subarray(start, end));
        start = end;
      });
    } catch (e) {
      throw recordExists(e);
    }
  }).immediate();
}

/**
 * Stage a batch: its row (pending, with the transaction) and its records, in one durable
 * transaction. Record `index` of the batch must have the id `recordIdAt(batch, index)`: the
 * vault finds a batch's records by that key range (vault.ts, IN_BATCH), not by an index.
 */
export function stageRows(db: Database.Database, h: StageHeader, rows: readonly StageRow[]): void {
  rows.forEach((r, index) => {
    if (r.id !== recordIdAt(h.id, index))
      throw new CredenceError(Codes.MALFORMED, `record ${index} of batch ${h.id.slice(0, 64)} does not have the batch's record id`);
  });
  db.transaction(() => {
    insertBatchRow(db, h);
    rows.forEach((r, index) => {
      insertRow(db, r, { id: h.id, index });
    });
  }).immediate();
}

/**
 * A record is pending while its batch is: staged rows are written 'live' and finishing a
 * batch is one update of its batch row, not of every record in it.
 */
export const NOT_PENDING = "NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = r.batch AND b.state = 'pending')";

/** Which of `refs` already name a record of `schema` (anchored, live or destroyed): one query for a whole import. */
export function publishedRefsIn(db: Database.Database, schema: string, refs: readonly string[]): Set<string> {
  if (refs.length === 0) return new Set();
  const rows = db
    .prepare(`SELECT DISTINCT r.ref FROM records r WHERE r.schema = ? AND r.ref IN (SELECT value FROM json_each(?)) AND ${NOT_PENDING}`)
    .all(schema, JSON.stringify(refs)) as { ref: string }[];
  return new Set(rows.map((r) => r.ref));
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
      db.prepare("UPDATE batches SET state = 'anchored', tx = x'' WHERE id = ?").run(id);
    }).immediate();
  } finally {
    db.pragma('synchronous = FULL');
  }
}
