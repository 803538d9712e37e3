// The provider's off-chain store of records. Each record (with its commitment salt) is
// encrypted under its own random data key with the suite's AEAD; each data key is wrapped
// by the node's vault key: in the record's row for a record stored on its own, in chunks of
// 64 keys for an imported batch (vaultKeys.ts). Destroying a record's key (expiry, Reg Art
// 16) deletes the wrapped key (or re-seals its chunk without it) and the ciphertext with
// SQLite's secure_delete on and truncates the WAL, so the record cannot be read back from
// the file by anyone, vault key or not.
//
// Import consistency: a batch is first staged (records "pending" plus the signed anchor
// transaction), then finished (live) or dropped depending on what the chain did with the
// transaction, so after a crash `pendingBatches()` says exactly what to reconcile.

import type Database from 'better-sqlite3';
import { type JsonValue, canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { fromHexStrict, utf8 } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { SubjectId } from './identifiers.js';
import type { MerkleProof } from '../ledger/merkle.js';
import { BatchTree } from './commitment.js';
import { type ImportRunner, InlineImports } from './importWork.js';
import { type SealedRow, sealBytes, sealRecordJson, stageRowOf } from './recordSeal.js';
import { RecordValidator } from './validate.js';
import { KEYS_PER_CHUNK, keyPlace, unwrapKey, withoutKey } from './vaultKeys.js';
import { NOT_PENDING, type StageRow, finishBatchRow, insertRow, openVaultDb, publishedRefsIn, stageRows } from './vaultStage.js';
import { SealPool } from './sealPool.js';
import { type Record, parseRecord } from './record.js';

export const VAULT_KEY_BYTES = 32;

export interface StoredRecord {
  readonly record: Record;
  readonly salt: Uint8Array;
}

/** The seam every vault implements (SQLite by default). */
export interface Vault {
  /** Store a record (outside any batch) with its commitment salt. */
  put(record: Record, salt: Uint8Array): void;
  /** The record and salt, or undefined if unknown, not yet anchored, or its key was destroyed. */
  get(id: string): StoredRecord | undefined;
  /** Ids of the readable records about a subject. */
  listBySubject(subject: SubjectId): string[];
  /** Destroy the record's data key; true if there was one. The record can never be read again. */
  destroyKey(id: string): boolean;
  close(): void;
}

export interface StagedItem {
  readonly record: Record;
  readonly salt: Uint8Array;
  readonly commitment: Uint8Array;
  /** When a negative record expires (ms since epoch), if it does. */
  readonly expiresAt?: number;
  /** The provider's own reference for the source row, to find earlier versions. */
  readonly ref?: string;
  /** `record` as canonical JSON, when the caller already has it (saves encoding it again). */
  readonly recordJson?: Uint8Array;
}

export interface StagedBatch {
  readonly id: string;
  readonly txId: string;
  readonly tx: Uint8Array;
  readonly txExpiresAt: number;
  readonly root: Uint8Array;
  readonly items: readonly StagedItem[];
}

export interface PendingBatch {
  readonly id: string;
  readonly txId: string;
  readonly tx: Uint8Array;
  readonly txExpiresAt: number;
  readonly records: number;
}

export interface Inclusion {
  readonly batch: string;
  readonly index: number;
  readonly root: Uint8Array;
  readonly proof: MerkleProof;
}

/** Vault operations the importer, the expiry sweeper and delivery need beyond `Vault`. */
export interface BatchVault extends Vault {
  /** Where import calls are checked, sealed and staged: the seal worker threads, or this thread. */
  readonly imports: ImportRunner;
  stageBatch(batch: StagedBatch): void;
  finishBatch(id: string): void;
  dropBatch(id: string): void;
  pendingBatches(): PendingBatch[];
  inclusion(id: string): Inclusion | undefined;
  latestByRef(schema: string, ref: string): { id: string; version: number; readable: boolean } | undefined;
  /** Which of `refs` already name a record of `schema` (anchored, live or destroyed): one query for a whole import. */
  publishedRefs(schema: string, refs: readonly string[]): Set<string>;
  /** Live records whose expiry is at or before `now`, oldest first. */
  dueForExpiry(now: number, limit: number): string[];
  stats(): { live: number; pending: number; destroyed: number };
  /** Keep a subject's dispute statement about a record (destroyed with the record's key). */
  putStatement(disputeId: string, recordId: string, text: string): void;
  getStatement(disputeId: string): string | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY, state TEXT NOT NULL, tx_id TEXT NOT NULL, tx BLOB NOT NULL,
  tx_expires_at INTEGER NOT NULL, root BLOB NOT NULL, created_at INTEGER NOT NULL, commitments BLOB);
CREATE TABLE IF NOT EXISTS records (
  id TEXT PRIMARY KEY, subject TEXT NOT NULL, schema TEXT NOT NULL, ref TEXT, version INTEGER NOT NULL,
  batch TEXT, idx INTEGER, commitment BLOB, state TEXT NOT NULL, expires_at INTEGER,
  wrapped_key BLOB, sealed BLOB);
CREATE INDEX IF NOT EXISTS records_subject ON records(subject);
CREATE UNIQUE INDEX IF NOT EXISTS records_ref_version ON records(schema, ref, version);
DROP INDEX IF EXISTS records_batch;
CREATE TABLE IF NOT EXISTS statements (
  dispute_id TEXT PRIMARY KEY, record_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS statements_record ON statements(record_id);
CREATE TABLE IF NOT EXISTS batch_keys (batch TEXT NOT NULL, chunk INTEGER NOT NULL, wrapped BLOB NOT NULL, PRIMARY KEY (batch, chunk)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_expiry ON records(expires_at) WHERE state = 'live' AND expires_at IS NOT NULL;
`;

const KEY_CHECK = utf8('credence vault key check');
/**
 * The records of a batch, found by the primary key: a batch's record ids are its id followed by
 * the index in 8 hex digits (recordIdAt), so they are one key range and need no index of
 * their own (one index less to write per record). Parameters: batchRange(id).
 */
const IN_BATCH = "id BETWEEN ? || '00000000' AND ? || 'ffffffff' AND batch = ?";
const batchRange = (id: string): [string, string, string] => [id, id, id];
const LIVE = `r.state = 'live' AND ${NOT_PENDING}`;
type Sealed = SealedRow;

interface RecordRow {
  id: string;
  batch: string | null;
  idx: number | null;
  wrapped_key: Buffer | null;
  /** The record's key chunk, when its batch's keys are wrapped in chunks (vaultKeys.ts). */
  chunk: Buffer | null;
  sealed: Buffer | null;
  state: string;
}

/** A record row with its key chunk (if any). */
const RECORD_WITH_KEY = `SELECT r.id, r.batch, r.idx, r.wrapped_key, r.sealed, r.state, k.wrapped AS chunk FROM records r
  LEFT JOIN batch_keys k ON r.wrapped_key IS NULL AND k.batch = r.batch AND k.chunk = r.idx / ${KEYS_PER_CHUNK}`;

export interface SqliteVaultOptions {
  readonly path: string;
  readonly key: Uint8Array;
  readonly suite: CryptoSuite;
  /** Worker threads that seal batches (0: seal on the calling thread). */
  readonly sealThreads?: number;
}

/** Batch trees kept for inclusion proofs (a batch of 8,192 records is about 0.5 MB of hashes). */
const TREES_MAX = 16;

export class SqliteVault implements BatchVault {
  private readonly db: Database.Database;
  private readonly suite: CryptoSuite;
  private readonly key: Uint8Array;
  /** Statements prepared once, on first use. */
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly trees = new Map<string, BatchTree>();
  private readonly pool: SealPool | undefined;
  readonly imports: ImportRunner;

  constructor(opts: SqliteVaultOptions) {
    if (opts.key.byteLength !== VAULT_KEY_BYTES) throw new CredenceError(Codes.BAD_KEY, `vault key must be ${VAULT_KEY_BYTES} bytes`);
    this.suite = opts.suite;
    this.key = opts.key;
    this.db = openVaultDb(opts.path);
    this.db.exec(SCHEMA);
    this.checkKey();
    this.pool = (opts.sealThreads ?? 0) > 0 ? new SealPool(opts.suite, opts.key, opts.path, opts.sealThreads as number) : undefined;
    this.imports = this.pool ?? new InlineImports({ suite: this.suite, key: this.key, db: this.db, validator: new RecordValidator() });
  }

  private checkKey(): void {
    const row = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('keycheck') as { v: Buffer } | undefined;
    if (row === undefined) {
      this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)').run('keycheck', this.suite.encrypt(this.key, KEY_CHECK));
      return;
    }
    try {
      this.suite.decrypt(this.key, new Uint8Array(row.v));
    } catch {
      throw new CredenceError(Codes.BAD_KEY, 'the vault key does not open this vault: check vaultKeyFile in the node config');
    }
  }

  private openBytes(wrapped: Buffer, sealed: Buffer, aad: Uint8Array): Uint8Array {
    const dataKey = this.suite.decrypt(this.key, new Uint8Array(wrapped), aad);
    const plain = this.suite.decrypt(dataKey, new Uint8Array(sealed), aad);
    dataKey.fill(0);
    return plain;
  }

  private stmt(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st;
  }

  /** The sealed row of each item (the cryptography, before any SQLite lock is taken). */
  private sealItems(items: readonly StagedItem[]): Sealed[] {
    return items.map((item) =>
      sealRecordJson(this.suite, this.key, item.record.id, item.recordJson ?? canonicalJsonBytes(item.record as unknown as JsonValue), item.salt),
    );
  }

  publishedRefs(schema: string, refs: readonly string[]): Set<string> {
    return publishedRefsIn(this.db, schema, refs);
  }

  private rowOf(item: StagedItem, row: Sealed): StageRow {
    const r = item.record;
    return stageRowOf(r.id, { subject: r.subject, schema: r.schema, ref: item.ref ?? null, version: r.version, expiresAt: item.expiresAt ?? null }, row);
  }

  put(record: Record, salt: Uint8Array): void {
    const item = { record, salt, commitment: new Uint8Array(0) };
    insertRow(this.db, this.rowOf(item, this.sealItems([item])[0] as Sealed), null);
  }

  /** The record's data key, or undefined if it was destroyed. */
  private dataKey(row: RecordRow): Uint8Array | undefined {
    const aad = utf8(row.id);
    if (row.wrapped_key !== null) return this.suite.decrypt(this.key, new Uint8Array(row.wrapped_key), aad);
    if (row.chunk === null || row.batch === null || row.idx === null) return undefined;
    return unwrapKey(this.suite, this.key, row.batch, row.idx, new Uint8Array(row.chunk));
  }

  get(id: string): StoredRecord | undefined {
    const row = this.stmt(`${RECORD_WITH_KEY} WHERE r.id = ? AND ${LIVE}`).get(id) as RecordRow | undefined;
    if (row === undefined || row.state !== 'live' || row.sealed === null) return undefined;
    const dataKey = this.dataKey(row);
    if (dataKey === undefined) return undefined;
    const plain = this.suite.decrypt(dataKey, new Uint8Array(row.sealed), utf8(row.id));
    dataKey.fill(0);
    const parsed = JSON.parse(Buffer.from(plain).toString('utf8')) as { record: unknown; salt: string };
    const salt = fromHexStrict(parsed.salt);
    if (salt === undefined) throw new CredenceError(Codes.CORRUPT, 'vault entry has a bad salt');
    return { record: parseRecord(parsed.record), salt };
  }

  listBySubject(subject: SubjectId): string[] {
    return (this.stmt(`SELECT r.id FROM records r WHERE r.subject = ? AND ${LIVE} ORDER BY r.rowid`).all(subject) as { id: string }[]).map((r) => r.id);
  }

  destroyKey(id: string): boolean {
    return this.destroyKeys([id]) > 0;
  }

  /** Destroy one record's key: its statements, its wrapped key (or its slot of its batch's key chunk) and its ciphertext. */
  private destroyOne(id: string): number {
    this.stmt('DELETE FROM statements WHERE record_id = ?').run(id);
    const row = this.stmt(`${RECORD_WITH_KEY} WHERE r.id = ? AND r.state = 'live'`).get(id) as RecordRow | undefined;
    if (row === undefined) return 0;
    if (row.chunk !== null && row.batch !== null && row.idx !== null) {
      const chunk = withoutKey(this.suite, this.key, row.batch, row.idx, new Uint8Array(row.chunk));
      this.stmt('UPDATE batch_keys SET wrapped = ? WHERE batch = ? AND chunk = ?').run(chunk, row.batch, keyPlace(row.idx).chunk);
    }
    return this.stmt("UPDATE records SET wrapped_key = NULL, sealed = NULL, state = 'destroyed' WHERE id = ? AND state = 'live'").run(id).changes;
  }

  /** Destroy many keys in one transaction and one WAL truncation (old page images of the rows may sit in the WAL until a checkpoint). */
  destroyKeys(ids: readonly string[]): number {
    const n = this.db.transaction(() => ids.reduce((acc, id) => acc + this.destroyOne(id), 0)).immediate();
    if (n > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    return n;
  }

  stageBatch(batch: StagedBatch): void {
    const sealed = this.sealItems(batch.items);
    const b = batch;
    const header = { id: b.id, txId: b.txId, tx: b.tx, txExpiresAt: b.txExpiresAt, root: b.root, commitments: Buffer.concat(b.items.map((i) => i.commitment)) };
    stageRows(
      this.db,
      header,
      b.items.map((item, i) => this.rowOf(item, sealed[i] as Sealed)),
    );
  }

  finishBatch(id: string): void {
    finishBatchRow(this.db, id);
  }

  dropBatch(id: string): void {
    this.db
      .transaction(() => {
        // Only a pending batch is dropped: an anchored one's records are live.
        if ((this.stmt('SELECT state FROM batches WHERE id = ?').get(id) as { state: string } | undefined)?.state !== 'pending') return;
        this.stmt(`DELETE FROM records WHERE ${IN_BATCH}`).run(...batchRange(id));
        this.stmt('DELETE FROM batch_keys WHERE batch = ?').run(id);
        this.stmt('DELETE FROM batches WHERE id = ?').run(id);
      })
      .immediate();
  }

  pendingBatches(): PendingBatch[] {
    const rows = this.db
      .prepare(
        `SELECT b.id, b.tx_id, b.tx, b.tx_expires_at, (SELECT count(*) FROM records WHERE ${IN_BATCH.replaceAll('?', 'b.id')}) AS n
         FROM batches b WHERE b.state = 'pending' ORDER BY b.created_at`,
      )
      .all() as { id: string; tx_id: string; tx: Buffer; tx_expires_at: number; n: number }[];
    return rows.map((r) => ({ id: r.id, txId: r.tx_id, tx: new Uint8Array(r.tx), txExpiresAt: r.tx_expires_at, records: r.n }));
  }

  inclusion(id: string): Inclusion | undefined {
    const row = this.stmt(`SELECT r.batch, r.idx FROM records r WHERE r.id = ? AND ${LIVE} AND r.batch IS NOT NULL`).get(id) as
      | { batch: string; idx: number }
      | undefined;
    if (row === undefined) return undefined;
    const tree = this.tree(row.batch);
    return { batch: row.batch, index: row.idx, root: tree.root, proof: tree.proof(row.idx) };
  }

  /** The batch's Merkle tree, from a small cache (most recently used kept). */
  private tree(batch: string): BatchTree {
    let tree = this.trees.get(batch);
    if (tree === undefined) {
      const b = this.stmt('SELECT commitments FROM batches WHERE id = ?').get(batch) as { commitments: Buffer | null };
      if (b.commitments === null) throw new CredenceError(Codes.CORRUPT, `vault batch ${batch} has no commitments`);
      const c = new Uint8Array(b.commitments);
      tree = new BatchTree(
        this.suite,
        Array.from({ length: c.byteLength / 32 }, (_, i) => c.subarray(32 * i, 32 * i + 32)),
      );
      if (this.trees.size >= TREES_MAX) this.trees.delete(this.trees.keys().next().value as string);
    } else this.trees.delete(batch);
    this.trees.set(batch, tree);
    return tree;
  }

  latestByRef(schema: string, ref: string): { id: string; version: number; readable: boolean } | undefined {
    const row = this.stmt(
      `SELECT r.id, r.version, r.state FROM records r WHERE r.schema = ? AND r.ref = ? AND ${NOT_PENDING} ORDER BY r.version DESC LIMIT 1`,
    ).get(schema, ref) as { id: string; version: number; state: string } | undefined;
    return row === undefined ? undefined : { id: row.id, version: row.version, readable: row.state === 'live' };
  }

  dueForExpiry(now: number, limit: number): string[] {
    return (
      this.db
        .prepare(
          `SELECT r.id FROM records r WHERE r.state = 'live' AND r.expires_at IS NOT NULL AND r.expires_at <= ? AND ${NOT_PENDING} ORDER BY r.expires_at LIMIT ?`,
        )
        .all(now, limit) as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  stats(): { live: number; pending: number; destroyed: number } {
    const rows = this.db.prepare(`SELECT CASE WHEN ${NOT_PENDING} THEN r.state ELSE 'pending' END AS state, count(*) AS n FROM records r GROUP BY 1`).all() as {
      state: string;
      n: number;
    }[];
    const of = (s: string) => rows.find((r) => r.state === s)?.n ?? 0;
    return { live: of('live'), pending: of('pending'), destroyed: of('destroyed') };
  }

  putStatement(disputeId: string, recordId: string, text: string): void {
    const { wrapped, sealed } = sealBytes(this.suite, this.key, utf8(text), utf8(`statement:${disputeId}`));
    this.db
      .prepare('INSERT OR REPLACE INTO statements (dispute_id, record_id, wrapped_key, sealed) VALUES (?, ?, ?, ?)')
      .run(disputeId, recordId, wrapped, sealed);
  }

  getStatement(disputeId: string): string | undefined {
    const row = this.db.prepare('SELECT wrapped_key, sealed FROM statements WHERE dispute_id = ?').get(disputeId) as
      | { wrapped_key: Buffer; sealed: Buffer }
      | undefined;
    return row === undefined ? undefined : Buffer.from(this.openBytes(row.wrapped_key, row.sealed, utf8(`statement:${disputeId}`))).toString('utf8');
  }

  close(): void {
    void this.pool?.close();
    if (this.db.open) this.db.close();
  }
}
