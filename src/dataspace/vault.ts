// The provider's off-chain store of records. Each record (with its commitment salt) is
// encrypted under its own random data key with the suite's AEAD; the data keys of a batch are
// wrapped by the node's vault key in chunks of 64 (vaultKeys.ts), and each chunk row holds
// the ciphertexts of its 64 records next to their wrapped keys: no table row per record (the
// layout is in vaultStage.ts and docs/architecture.md, "Vault"). Destroying a record's key
// (expiry, Reg Art 16) re-seals its key chunk without it and rewrites the chunk row without
// its ciphertext, with SQLite's secure_delete on, and truncates the WAL, so the record cannot
// be read back from the file by anyone, vault key or not.
//
// Import consistency: a batch is first staged (records "pending" plus the signed anchor
// transaction), then finished (live) or dropped depending on what the chain did with the
// transaction, so after a crash `pendingBatches()` says exactly what to reconcile.

import type Database from 'better-sqlite3';
import { type JsonValue, canonicalJson } from '../codec/canonicalJson.js';
import { recordIdAt, splitRecordId } from '../contracts/recordBatch.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { MerkleProof } from '../ledger/merkle.js';
import { fromHexStrict, utf8 } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import { sealBatchRecords } from './batchSeal.js';
import { BatchTree } from './commitment.js';
import type { SubjectId } from './identifiers.js';
import { type ImportRunner, InlineImports } from './importWork.js';
import { type Record, parseRecord } from './record.js';
import { sealBytes } from './recordSeal.js';
import { SealPool } from './sealPool.js';
import { RecordValidator } from './validate.js';
import { KEYS_PER_CHUNK, unwrapKey, withoutKey } from './vaultKeys.js';
import {
  VAULT_BATCH_MAX,
  batchChunkRows,
  batchPlaces,
  checkVaultFormat,
  chunkRowOf,
  finishBatchRow,
  openVaultDb,
  placeOf,
  publishedRefsIn,
  stageSealedRecords,
} from './vaultStage.js';

export const VAULT_KEY_BYTES = 32;

export interface StoredRecord {
  readonly record: Record;
  readonly salt: Uint8Array;
}

/** The seam every vault implements (SQLite by default). */
export interface Vault {
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

const KEY_CHECK = utf8('credence vault key check');

/** A record's chunk row and batch, when its batch is anchored (or pending, with `pending` set). */
interface ChunkRow {
  no: number;
  state: string;
  count: number;
  keys: Buffer;
  ends: Buffer;
  sealed: Buffer;
}

/** The sealed bytes of slot `slot` of a chunk (empty if destroyed). */
function slotBytes(row: ChunkRow, slot: number): Buffer {
  const ends = new Uint32Array(row.ends.buffer.slice(row.ends.byteOffset, row.ends.byteOffset + row.ends.byteLength));
  if (slot >= ends.length) return Buffer.alloc(0);
  return row.sealed.subarray(slot === 0 ? 0 : ends[slot - 1], ends[slot]);
}

/** The chunk's ends and ciphertexts with slot `slot`'s bytes removed. */
function withoutSlot(row: ChunkRow, slot: number): { ends: Uint8Array; sealed: Buffer } {
  const ends = new Uint32Array(row.ends.buffer.slice(row.ends.byteOffset, row.ends.byteOffset + row.ends.byteLength));
  const from = slot === 0 ? 0 : (ends[slot - 1] as number);
  const to = ends[slot] as number;
  for (let i = slot; i < ends.length; i++) ends[i] = (ends[i] as number) - (to - from);
  return { ends: new Uint8Array(ends.buffer), sealed: Buffer.concat([row.sealed.subarray(0, from), row.sealed.subarray(to)]) };
}

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
    try {
      checkVaultFormat(this.db);
      this.checkKey();
    } catch (e) {
      this.db.close();
      throw e;
    }
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

  private stmt(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st;
  }

  publishedRefs(schema: string, refs: readonly string[]): Set<string> {
    return publishedRefsIn(this.db, schema, refs);
  }

  /** The chunk row holding record `id` and its batch's state, or undefined if there is none. */
  private chunkOf(id: string): { batch: string; index: number; row: ChunkRow } | undefined {
    const place = splitRecordId(id);
    if (place === undefined) return undefined;
    const row = this.stmt(
      `SELECT b.no, b.state, b.count, c.keys, c.ends, c.sealed FROM batches b JOIN chunks c ON c.id = b.no * ${VAULT_BATCH_MAX / KEYS_PER_CHUNK} + ?
       WHERE b.id = ?`,
    ).get(Math.floor(place.index / KEYS_PER_CHUNK), place.batch) as ChunkRow | undefined;
    if (row === undefined || place.index >= row.count) return undefined;
    return { ...place, row };
  }

  private isDestroyed(no: number, index: number): boolean {
    return this.stmt('SELECT 1 FROM destroyed WHERE place = ?').get(placeOf(no, index)) !== undefined;
  }

  get(id: string): StoredRecord | undefined {
    const c = this.chunkOf(id);
    if (c === undefined || c.row.state !== 'anchored') return undefined;
    const sealed = slotBytes(c.row, c.index % KEYS_PER_CHUNK);
    const dataKey = sealed.byteLength === 0 ? undefined : unwrapKey(this.suite, this.key, c.batch, c.index, new Uint8Array(c.row.keys));
    if (dataKey === undefined) return undefined;
    const plain = this.suite.decrypt(dataKey, new Uint8Array(sealed), utf8(id));
    dataKey.fill(0);
    const parsed = JSON.parse(Buffer.from(plain).toString('utf8')) as { record: unknown; salt: string };
    const salt = fromHexStrict(parsed.salt);
    if (salt === undefined) throw new CredenceError(Codes.CORRUPT, 'vault entry has a bad salt');
    return { record: parseRecord(parsed.record), salt };
  }

  listBySubject(subject: SubjectId): string[] {
    const runs = this.stmt(
      `SELECT b.id, s.place, s.count FROM subjects s JOIN batches b ON b.no = s.place >> 16 WHERE s.subject = ? AND b.state = 'anchored' ORDER BY s.place`,
    ).all(subject) as { id: string; place: number; count: number }[];
    return runs.flatMap((r) => {
      const gone = new Set(
        this.stmt('SELECT place FROM destroyed WHERE place BETWEEN ? AND ?')
          .pluck()
          .all(r.place, r.place + r.count - 1) as number[],
      );
      const first = r.place % VAULT_BATCH_MAX;
      return Array.from({ length: r.count }, (_, i) => (gone.has(r.place + i) ? [] : [recordIdAt(r.id, first + i)])).flat();
    });
  }

  destroyKey(id: string): boolean {
    return this.destroyKeys([id]) > 0;
  }

  /** Destroy one record's key: its statements, its slot of its batch's key chunk and its ciphertext (the chunk row rewritten). */
  private destroyOne(id: string): number {
    this.stmt('DELETE FROM statements WHERE record_id = ?').run(id);
    const c = this.chunkOf(id);
    if (c === undefined || this.isDestroyed(c.row.no, c.index)) return 0;
    const keys = withoutKey(this.suite, this.key, c.batch, c.index, new Uint8Array(c.row.keys));
    const { ends, sealed } = withoutSlot(c.row, c.index % KEYS_PER_CHUNK);
    this.stmt('UPDATE chunks SET keys = ?, ends = ?, sealed = ? WHERE id = ?').run(keys, ends, sealed, chunkRowOf(c.row.no, c.index));
    this.stmt('INSERT INTO destroyed (place) VALUES (?)').run(placeOf(c.row.no, c.index));
    return 1;
  }

  /** Destroy many keys in one transaction and one WAL truncation (old page images of the rows may sit in the WAL until a checkpoint). */
  destroyKeys(ids: readonly string[]): number {
    const n = this.db.transaction(() => ids.reduce((acc, id) => acc + this.destroyOne(id), 0)).immediate();
    if (n > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    return n;
  }

  /** Seal and stage a batch of records given with their salts (the import path seals in importWork.ts instead). */
  stageBatch(batch: StagedBatch): void {
    const items = batch.items;
    const schema = items[0]?.record.schema ?? '';
    if (items.some((item, i) => item.record.schema !== schema || item.record.id !== recordIdAt(batch.id, i)))
      throw new CredenceError(Codes.MALFORMED, `the records of batch ${batch.id.slice(0, 64)} must have its schema and its record ids in order`);
    const salts = Buffer.concat(items.map((i) => i.salt));
    const sealed = sealBatchRecords(
      this.suite,
      this.key,
      batch.id,
      items.length,
      (i) => {
        const r = (items[i] as StagedItem).record;
        return { id: r.id, json: canonicalJson(r as unknown as JsonValue) };
      },
      salts,
    );
    const header = { ...batch, schema, commitments: Buffer.concat(items.map((i) => i.commitment)) };
    stageSealedRecords(this.db, header, sealed, {
      subject: (i) => (items[i] as StagedItem).record.subject,
      ref: (i) => (items[i] as StagedItem).ref,
      version: (i) => (items[i] as StagedItem).record.version,
      expiresAt: (i) => (items[i] as StagedItem).expiresAt ?? null,
    });
  }

  finishBatch(id: string): void {
    finishBatchRow(this.db, id);
  }

  dropBatch(id: string): void {
    this.db
      .transaction(() => {
        // Only a pending batch is dropped: an anchored one's records are live.
        const b = this.stmt('SELECT no, state FROM batches WHERE id = ?').get(id) as { no: number; state: string } | undefined;
        if (b?.state !== 'pending') return;
        // `refs` is keyed by ref, so this scans it: dropping a batch (the chain refused it) is rare.
        for (const table of ['refs', 'subjects', 'expiry', 'destroyed'])
          this.stmt(`DELETE FROM ${table} WHERE place BETWEEN ? AND ?`).run(...batchPlaces(b.no));
        for (const table of ['pending', 'commitments']) this.stmt(`DELETE FROM ${table} WHERE no = ?`).run(b.no);
        this.stmt('DELETE FROM chunks WHERE id BETWEEN ? AND ?').run(...batchChunkRows(b.no));
        this.stmt('DELETE FROM batches WHERE no = ?').run(b.no);
      })
      .immediate();
  }

  pendingBatches(): PendingBatch[] {
    const rows = this.db
      .prepare(
        "SELECT b.id, p.tx_id, p.tx, p.tx_expires_at, b.count FROM batches b JOIN pending p ON p.no = b.no WHERE b.state = 'pending' ORDER BY b.created_at, b.no",
      )
      .all() as {
      id: string;
      tx_id: string;
      tx: Buffer;
      tx_expires_at: number;
      count: number;
    }[];
    return rows.map((r) => ({ id: r.id, txId: r.tx_id, tx: new Uint8Array(r.tx), txExpiresAt: r.tx_expires_at, records: r.count }));
  }

  inclusion(id: string): Inclusion | undefined {
    const place = splitRecordId(id);
    if (place === undefined) return undefined;
    const b = this.stmt("SELECT no, count FROM batches WHERE id = ? AND state = 'anchored'").get(place.batch) as { no: number; count: number } | undefined;
    if (b === undefined || place.index >= b.count || this.isDestroyed(b.no, place.index)) return undefined;
    const tree = this.tree(place.batch);
    return { batch: place.batch, index: place.index, root: tree.root, proof: tree.proof(place.index) };
  }

  /** The batch's Merkle tree, from a small cache (most recently used kept). */
  private tree(batch: string): BatchTree {
    let tree = this.trees.get(batch);
    if (tree === undefined) {
      const hashes = this.stmt('SELECT c.hashes FROM batches b JOIN commitments c ON c.no = b.no WHERE b.id = ?').pluck().get(batch) as Buffer;
      const c = new Uint8Array(hashes);
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
      `SELECT b.id, r.place, r.version, EXISTS (SELECT 1 FROM destroyed d WHERE d.place = r.place) AS gone
       FROM refs r JOIN batches b ON b.no = r.place >> 16 WHERE r.schema = ? AND r.ref = ? AND b.state = 'anchored' ORDER BY r.version DESC LIMIT 1`,
    ).get(schema, ref) as { id: string; place: number; version: number; gone: number } | undefined;
    return row === undefined ? undefined : { id: recordIdAt(row.id, row.place % VAULT_BATCH_MAX), version: row.version, readable: row.gone === 0 };
  }

  dueForExpiry(now: number, limit: number): string[] {
    const rows = this.stmt(
      `SELECT b.id, e.place FROM expiry e JOIN batches b ON b.no = e.place >> 16
       WHERE e.expires_at <= ? AND b.state = 'anchored' AND NOT EXISTS (SELECT 1 FROM destroyed d WHERE d.place = e.place)
       ORDER BY e.expires_at, e.place LIMIT ?`,
    ).all(now, limit) as { id: string; place: number }[];
    return rows.map((r) => recordIdAt(r.id, r.place % VAULT_BATCH_MAX));
  }

  stats(): { live: number; pending: number; destroyed: number } {
    const count = (sql: string) => (this.db.prepare(sql).pluck().get() as number | null) ?? 0;
    const destroyed = count('SELECT count(*) FROM destroyed');
    const anchored = count("SELECT sum(count) FROM batches WHERE state = 'anchored'");
    return { live: anchored - destroyed, pending: count("SELECT sum(count) FROM batches WHERE state = 'pending'"), destroyed };
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
    if (row === undefined) return undefined;
    const aad = utf8(`statement:${disputeId}`);
    const dataKey = this.suite.decrypt(this.key, new Uint8Array(row.wrapped_key), aad);
    const plain = this.suite.decrypt(dataKey, new Uint8Array(row.sealed), aad);
    dataKey.fill(0);
    return Buffer.from(plain).toString('utf8');
  }

  close(): void {
    void this.pool?.close();
    if (this.db.open) this.db.close();
  }
}
