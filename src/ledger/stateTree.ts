// The authenticated key-value state: SQLite holds the data, memory holds a fixed 16-ary Merkle
// tree over 2^16 buckets (~2.2 MiB) so a block's state root costs one row read per touched
// bucket (none for a bucket that was empty) plus ~3.5 hashes per write (its value, its bucket,
// the few inner nodes above the dirty buckets), never a walk of the whole state (stateProof.ts
// defines the hashes).
//
// Storage (deviates from a "state(key, value, bucket, leaf) + index(bucket, key)" layout on
// purpose: re-reading ~15 index rows per dirty bucket cost ~25 ms per 2,000-write block at
// 1M keys; one blob row per bucket costs a few ms and the state table needs no second index):
//   state (key PRIMARY KEY, value) WITHOUT ROWID   — what get() reads
//   state_bucket (bucket PRIMARY KEY, hash, entries) — only non-empty buckets; `hash` is read
//       at open (it precedes the blob, so the scan skips the entries' overflow pages);
//       `entries` is the bucket's sorted [u16be keyLen | key bytes | 32-byte value hash]*,
//       exactly what the bucket hash covers. Written lazily (below).
//   state_journal (seq PRIMARY KEY, keys) — per block, the keys it wrote ([u16be len | key]*),
//       for the blocks since the buckets were last flushed.
//
// LAZY BUCKETS. A block's writes go to `state` and, as one appended row, to `state_journal`;
// the dirty buckets stay in memory (`pending`). Each block also flushes one slice of the
// bucket space (B / SWEEP_BLOCKS consecutive bucket numbers, i.e. neighbouring pages): the
// pending buckets in it get their rows written. When the sweep wraps, every bucket that was
// pending when it began has been written, so the journal rows older than the sweep are
// deleted. A bucket row is thus rewritten about once per sweep instead of once per block,
// and the rows written together share pages: far fewer random page writes per block, and
// no block pays for a whole flush. At open, the journal's keys are re-read from `state` and
// merged into their buckets' stored entries, so state_bucket + state_journal always give
// the committed root, whatever crashed when.
//
// ATOMICITY CONTRACT. applyWrites() must run inside the caller's better-sqlite3 transaction
// (it asserts so) together with the block insert, and it updates the in-memory tree just
// before returning. If that transaction then rolls back, the caller MUST call reload(), which
// rebuilds the tree from the (rolled-back) tables: until then root()/prove() are ahead of the db.
//   const tx = db.transaction(() => { root = state.applyWrites(w); insertBlock(root); });
//   try { tx(); } catch (e) { state.reload(); throw e; }
// If applyWrites() itself throws, memory is untouched (only the caller's SQL needs rolling back).
// computeRootFor() answers "what root would these writes give" with no lasting effect.

import type Database from 'better-sqlite3';
import { CredenceError, assert } from '../util/errors.js';
import { bucketEntries, isBucket, mergeBucket } from './bucketBlob.js';
import type { HashFn, HashIntoFn } from './merkle.js';
import {
  STATE_BUCKETS,
  STATE_PATH_HASHES,
  STATE_TREE_ARITY,
  STATE_TREE_LEVELS,
  STATE_VALUE_BYTES_MAX,
  type StateProof,
  emptyBucketHash,
  stateBucketOf,
  isStateKey,
  stateKeyBytes,
} from './stateProof.js';

export type { StateProof } from './stateProof.js';

/** Most writes accepted in one applyWrites call (a block is far smaller). */
export const STATE_WRITES_MAX = 1_000_000;

const HASH_BYTES = 32;
/** Most bytes of clean bucket entries kept in memory (beside the pending ones). */
const BUCKET_CACHE_BYTES_MAX = 128 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const B = STATE_BUCKETS;
const BUCKET_PREFIX = 0x03;
const NODE_PREFIX = 0x01;
const A = STATE_TREE_ARITY;
/** Index of level d's first node (level 0 = the root, level 4 = the buckets): (16^d − 1) / 15. */
const LEVEL_START = Array.from({ length: STATE_TREE_LEVELS + 1 }, (_, d) => (A ** d - 1) / (A - 1));
const BUCKET_LEVEL = STATE_TREE_LEVELS;
/** Node index of bucket 0. */
const BUCKET0 = LEVEL_START[BUCKET_LEVEL] as number;
const NODE_COUNT = BUCKET0 + B;
const CHILDREN_BYTES = A * HASH_BYTES;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_bucket (bucket INTEGER PRIMARY KEY, hash BLOB NOT NULL, entries BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state_journal (seq INTEGER PRIMARY KEY, keys BLOB NOT NULL);
`;

/** Slices per sweep of the whole bucket space, by default. */
const SWEEP_BLOCKS = 32;
/**
 * A slice is flushed once at least this many writes arrived since the last flush (at most one
 * slice per block): a slice's rows span a fixed set of pages, so flushing it after every small
 * block would rewrite the same pages for a few entries each time.
 */
const FLUSH_WRITES_MIN = 1000;

/** One validated write, grouped by bucket. valueHash undefined = delete. */
interface Op {
  key: string;
  keyBytes: Buffer;
  value: Uint8Array | undefined;
  valueHash: Uint8Array | undefined;
}

class Rollback extends Error {}

export class StateTree {
  /**
   * Node (level d, position i) at bytes [32n, 32n+32) with n = LEVEL_START[d] + i, so a node's
   * 16 children are contiguous. Staged hashes are written in place; `undo` holds what they
   * overwrote (the k-th staged node's old hash at [32k, 32k+32)) until the stage commits.
   */
  private readonly nodes = Buffer.alloc(NODE_COUNT * HASH_BYTES);
  private readonly isStaged = new Uint8Array(NODE_COUNT);
  private stagedList: number[] = [];
  private undo = Buffer.alloc(1024 * HASH_BYTES);
  /**
   * Buckets' entries (bucketBlob.ts layout), so a dirty bucket is merged without re-reading
   * its row. Holds at most BUCKET_CACHE_BYTES_MAX bytes, then starts again; staged buckets
   * join it on commit.
   */
  private readonly entryCache = new Map<number, Buffer>();
  private entryCacheBytes = 0;
  private readonly stagedEntries = new Map<number, Buffer>();
  /** Buckets whose state_bucket row is older than their entries here (see LAZY BUCKETS). */
  private readonly pending = new Map<number, Buffer>();
  /** Next bucket the sweep flushes, and the last journal row older than this sweep. */
  private sweepCursor = 0;
  private sweepFrom = 0;
  /** Writes applied since the last slice flush. */
  private sinceFlush = 0;
  private readonly emptyBucket: Uint8Array;
  private readonly nodeBuf = Buffer.alloc(1 + CHILDREN_BYTES);
  /** For each inner node, a view of its 16 children's hashes in `nodes` (made once: no view per hash). */
  private readonly childViews: Uint8Array[];
  private bucketBuf = Buffer.alloc(1 + 64 * HASH_BYTES);
  private readonly stmts;

  private constructor(
    private readonly db: Database.Database,
    private readonly hash: HashFn,
    private readonly hashInto: HashIntoFn,
    private readonly sweepWidth: number,
    private readonly flushWritesMin: number,
  ) {
    this.emptyBucket = emptyBucketHash(hash);
    this.nodeBuf[0] = NODE_PREFIX;
    this.childViews = Array.from({ length: BUCKET0 }, (_, n) => this.nodes.subarray((A * n + 1) * HASH_BYTES, (A * n + 1 + A) * HASH_BYTES));
    this.stmts = {
      get: db.prepare<[string], Buffer>('SELECT value FROM state WHERE key = ?').pluck(),
      put: db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      del: db.prepare('DELETE FROM state WHERE key = ?'),
      entries: db.prepare<[number], Buffer>('SELECT entries FROM state_bucket WHERE bucket = ?').pluck(),
      putBucket: db.prepare(
        'INSERT INTO state_bucket (bucket, hash, entries) VALUES (?, ?, ?) ON CONFLICT(bucket) DO UPDATE SET hash = excluded.hash, entries = excluded.entries',
      ),
      delBucket: db.prepare('DELETE FROM state_bucket WHERE bucket = ?'),
      journal: db.prepare('INSERT INTO state_journal (keys) VALUES (?)'),
      journalRows: db.prepare<[], Buffer>('SELECT keys FROM state_journal').pluck(),
      journalEnd: db.prepare<[], number | null>('SELECT max(seq) FROM state_journal').pluck(),
      trimJournal: db.prepare('DELETE FROM state_journal WHERE seq <= ?'),
      allHashes: db.prepare<[], [number, Buffer]>('SELECT bucket, hash FROM state_bucket').raw(),
    };
  }

  /**
   * Open the state held in `db`, creating its tables if needed, and build the in-memory tree
   * (~65k hashes, tens of ms).
   *
   * @example const state = StateTree.open(db, suite.hash); state.root();
   */
  static open(db: Database.Database, hash: HashFn, opts: { sweepBlocks?: number; flushWritesMin?: number; hashInto?: HashIntoFn } = {}): StateTree {
    db.exec(SCHEMA);
    const hashInto = opts.hashInto ?? ((d, out, at) => out.set(hash(d), at));
    const t = new StateTree(db, hash, hashInto, Math.ceil(B / (opts.sweepBlocks ?? SWEEP_BLOCKS)), opts.flushWritesMin ?? FLUSH_WRITES_MIN);
    t.reload();
    return t;
  }

  /** The current state root (a copy). */
  root(): Uint8Array {
    return new Uint8Array(this.nodes.subarray(0, HASH_BYTES));
  }

  /** The value of `key`, or undefined. Inside a transaction, sees that transaction's writes. */
  get(key: string): Uint8Array | undefined {
    if (!isStateKey(key)) return undefined;
    return this.stmts.get.get(key);
  }

  /**
   * Apply a block's writes (value undefined = delete) and return the new root. Synchronous,
   * and must run inside the caller's SQL transaction (see the atomicity contract above).
   * Throws MALFORMED / TOO_LARGE on a bad key or value, before touching anything.
   */
  applyWrites(writes: ReadonlyMap<string, Uint8Array | undefined>): Uint8Array {
    assert(this.db.inTransaction, 'StateTree.applyWrites runs inside the caller’s transaction');
    const root = this.stageWrites(writes);
    if (this.sinceFlush + writes.size < this.flushWritesMin) {
      this.commitStage([]);
      this.sinceFlush += writes.size;
      return root;
    }
    const end = Math.min(B, this.sweepCursor + this.sweepWidth);
    const flushed = this.flushRange(this.sweepCursor, end);
    let sweepFrom = this.sweepFrom;
    if (end === B) {
      this.stmts.trimJournal.run(sweepFrom);
      sweepFrom = this.stmts.journalEnd.get() ?? 0;
    }
    this.commitStage(flushed);
    this.sweepCursor = end === B ? 0 : end;
    this.sweepFrom = sweepFrom;
    this.sinceFlush = 0;
    return root;
  }

  /**
   * The root `writes` would produce, with no lasting effect on the db or the tree: a follower
   * checks a proposed block's claimed state root before committing it. Uses a savepoint, so it
   * may run inside or outside a transaction.
   */
  computeRootFor(writes: ReadonlyMap<string, Uint8Array | undefined>): Uint8Array {
    let root: Uint8Array | undefined;
    const dryRun = this.db.transaction(() => {
      root = this.stageWrites(writes);
      throw new Rollback();
    });
    try {
      dryRun();
    } catch (e) {
      if (!(e instanceof Rollback)) throw e;
    } finally {
      this.discardStage();
    }
    assert(root !== undefined, 'dry run produced a root');
    return root;
  }

  /**
   * Rebuild the in-memory tree from the tables. Call it after the transaction that ran
   * applyWrites rolled back (outside that transaction). Throws CORRUPT on damaged rows.
   */
  reload(): void {
    this.discardStage();
    this.entryCache.clear();
    this.entryCacheBytes = 0;
    this.pending.clear();
    this.sweepCursor = 0;
    this.sinceFlush = 0;
    this.sweepFrom = this.stmts.journalEnd.get() ?? 0;
    const n = this.nodes;
    for (let b = 0; b < B; b++) n.set(this.emptyBucket, (BUCKET0 + b) * HASH_BYTES);
    for (const [bucket, hash] of this.stmts.allHashes.iterate()) {
      if (!Number.isInteger(bucket) || bucket < 0 || bucket >= B || !(hash instanceof Uint8Array)) {
        throw new CredenceError('CORRUPT', 'state_bucket row is damaged', { bucket: String(bucket) });
      }
      if (hash.byteLength !== HASH_BYTES) {
        throw new CredenceError('CORRUPT', 'state_bucket hash has the wrong length', { bucket });
      }
      n.set(hash, (BUCKET0 + bucket) * HASH_BYTES);
    }
    this.replayJournal();
    for (let d = BUCKET_LEVEL - 1; d >= 0; d--) {
      for (let i = 0; i < A ** d; i++) this.innerHashInto((LEVEL_START[d] as number) + i, n, ((LEVEL_START[d] as number) + i) * HASH_BYTES);
    }
  }

  /**
   * Proof that `key` holds its current value (or is absent), against root(). The caller ships
   * the value (get(key)) beside it. Throws MALFORMED on an invalid key, CORRUPT on damaged rows.
   */
  prove(key: string): StateProof {
    const keyBytes = stateKeyBytes(key);
    if (keyBytes === undefined) throw new CredenceError('MALFORMED', 'invalid state key');
    const bucket = stateBucketOf(keyBytes);
    const leaves: StateProof['leaves'] = [];
    for (const e of bucketEntries(this.readEntries(bucket))) {
      const k = e.keyBytes.toString('utf8');
      const value = this.stmts.get.get(k);
      if (value === undefined) throw new CredenceError('CORRUPT', 'state bucket lists a missing key', { bucket });
      if (Buffer.compare(this.hash(value), e.valueHash) !== 0) {
        throw new CredenceError('CORRUPT', 'state bucket entry does not match its value', { bucket });
      }
      leaves.push({ key: k, valueHash: e.valueHash.toString('hex') });
    }
    const path: string[] = [];
    for (let d = BUCKET_LEVEL, pos = bucket; d > 0; d--, pos = Math.floor(pos / A)) {
      const first = (LEVEL_START[d] as number) + pos - (pos % A);
      for (let c = 0; c < A; c++) {
        if (c !== pos % A) path.push(this.nodes.toString('hex', (first + c) * HASH_BYTES, (first + c + 1) * HASH_BYTES));
      }
    }
    assert(path.length === STATE_PATH_HASHES, 'state proof path has 15 siblings per level');
    return { key, bucket, leaves, path };
  }

  // --- internals -----------------------------------------------------------------------

  /** Write rows and compute the new tree into the stage; returns the staged root. */
  private stageWrites(writes: ReadonlyMap<string, Uint8Array | undefined>): Uint8Array {
    assert(this.stagedList.length === 0, 'no stage is pending');
    const byBucket = this.validate(writes);

    for (const ops of byBucket.values()) {
      for (const op of ops) {
        if (op.value === undefined) this.stmts.del.run(op.key);
        else this.stmts.put.run(op.key, op.value);
      }
    }
    if (writes.size > 0) this.stmts.journal.run(encodeJournalKeys(byBucket));

    const dirty = [...byBucket.keys()].sort((a, b) => a - b);
    try {
      for (const bucket of dirty) {
        const ops = byBucket.get(bucket) as Op[];
        const entries = mergeBucket(this.readEntries(bucket), ops);
        this.stagedEntries.set(bucket, entries);
        this.saveUndo(BUCKET0 + bucket);
        this.setBucketHash(bucket, entries);
      }
      // Recompute only the dirty paths, one level at a time (parents of a sorted list stay sorted).
      let level = dirty;
      for (let d = BUCKET_LEVEL - 1; d >= 0; d--) {
        const parents: number[] = [];
        for (const i of level) {
          const p = Math.floor(i / A);
          if (parents[parents.length - 1] !== p) parents.push(p);
        }
        for (const p of parents) {
          const n = (LEVEL_START[d] as number) + p;
          this.saveUndo(n);
          this.innerHashInto(n, this.nodes, n * HASH_BYTES);
        }
        level = parents;
      }
    } catch (e) {
      this.discardStage();
      throw e;
    }
    return this.root();
  }

  private validate(writes: ReadonlyMap<string, Uint8Array | undefined>): Map<number, Op[]> {
    if (!(writes instanceof Map)) throw new CredenceError('MALFORMED', 'state writes must be a Map');
    if (writes.size > STATE_WRITES_MAX) {
      throw new CredenceError('TOO_LARGE', 'too many state writes', { writes: writes.size, max: STATE_WRITES_MAX });
    }
    const byBucket = new Map<number, Op[]>();
    for (const [key, value] of writes) {
      const keyBytes = stateKeyBytes(key);
      if (keyBytes === undefined) {
        throw new CredenceError('MALFORMED', 'state key must be 1..256 bytes of valid UTF-8 without NUL');
      }
      let valueHash: Uint8Array | undefined;
      if (value !== undefined) {
        if (!(value instanceof Uint8Array)) throw new CredenceError('MALFORMED', 'state value must be bytes');
        if (value.byteLength > STATE_VALUE_BYTES_MAX) {
          throw new CredenceError('TOO_LARGE', 'state value too large', {
            bytes: value.byteLength,
            max: STATE_VALUE_BYTES_MAX,
          });
        }
        valueHash = this.hash(value);
      }
      addOp(byBucket, stateBucketOf(keyBytes), { key, keyBytes, value, valueHash });
    }
    return byBucket;
  }

  private readEntries(bucket: number): Buffer {
    const cached = this.pending.get(bucket) ?? this.entryCache.get(bucket);
    if (cached !== undefined) return cached;
    // A bucket whose committed hash is H(0x03) has no entries (and no row): skip the lookup.
    if (this.nodeBytes(BUCKET0 + bucket).equals(this.emptyBucket)) return EMPTY;
    const blob = this.stmts.entries.get(bucket);
    if (blob === undefined) return EMPTY;
    if (blob.length === 0 || !isBucket(blob)) throw new CredenceError('CORRUPT', 'state bucket entries are damaged', { bucket });
    return blob;
  }

  /** Write the bucket's hash, H(0x03 || entries) (H(0x03) when empty), into its node: the entries are already the layout the hash covers. */
  private setBucketHash(bucket: number, entries: Buffer): void {
    const at = (BUCKET0 + bucket) * HASH_BYTES;
    if (entries.length === 0) {
      this.nodes.set(this.emptyBucket, at);
      return;
    }
    if (this.bucketBuf.byteLength < 1 + entries.length) this.bucketBuf = Buffer.alloc(2 * (1 + entries.length));
    const buf = this.bucketBuf;
    buf[0] = BUCKET_PREFIX;
    entries.copy(buf, 1);
    this.hashInto(buf.subarray(0, 1 + entries.length), this.nodes, at);
  }

  /** H(0x01 || the 16 children) of inner node n, from the current hashes, into out[at, at + 32). */
  private innerHashInto(n: number, out: Uint8Array, at: number): void {
    this.nodeBuf.set(this.childViews[n] as Uint8Array, 1);
    this.hashInto(this.nodeBuf, out, at);
  }

  /** Keep node i's hash in `undo` before the stage first overwrites it. */
  private saveUndo(i: number): void {
    if (this.isStaged[i] !== 0) return;
    const k = this.stagedList.length;
    if ((k + 1) * HASH_BYTES > this.undo.byteLength) {
      const grown = Buffer.alloc(2 * this.undo.byteLength);
      this.undo.copy(grown);
      this.undo = grown;
    }
    const from = i * HASH_BYTES;
    const to = k * HASH_BYTES;
    for (let b = 0; b < HASH_BYTES; b++) this.undo[to + b] = this.nodes[from + b] as number;
    this.isStaged[i] = 1;
    this.stagedList.push(i);
  }

  /** Node i's current hash (a view, valid until the next stage). */
  private nodeBytes(i: number): Buffer {
    return this.nodes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }

  /** Bring the buckets the journal names up to date from `state`; they become pending. */
  private replayJournal(): void {
    const keys = new Set<string>();
    for (const row of this.stmts.journalRows.iterate()) {
      if (!decodeJournalKeys(row, keys)) throw new CredenceError('CORRUPT', 'state journal row is damaged');
    }
    const byBucket = new Map<number, Op[]>();
    for (const key of keys) {
      const keyBytes = stateKeyBytes(key);
      if (keyBytes === undefined) throw new CredenceError('CORRUPT', 'state journal names an invalid key');
      const value = this.stmts.get.get(key);
      const valueHash = value === undefined ? undefined : this.hash(value);
      addOp(byBucket, stateBucketOf(keyBytes), { key, keyBytes, value, valueHash });
    }
    for (const [bucket, ops] of byBucket) {
      const entries = mergeBucket(this.readEntries(bucket), ops);
      this.setPending(bucket, entries);
      this.setBucketHash(bucket, entries);
    }
  }

  /** Write the rows of the pending and staged buckets in [from, to); returns them. */
  private flushRange(from: number, to: number): number[] {
    const flushed: number[] = [];
    for (let bucket = from; bucket < to; bucket++) {
      const entries = this.stagedEntries.get(bucket) ?? this.pending.get(bucket);
      if (entries === undefined) continue;
      if (entries.length === 0) this.stmts.delBucket.run(bucket);
      else this.stmts.putBucket.run(bucket, this.nodeBytes(BUCKET0 + bucket), entries);
      flushed.push(bucket);
    }
    return flushed;
  }

  /** Make the stage current; the `flushed` buckets' rows are up to date. */
  private commitStage(flushed: readonly number[]): void {
    for (const i of this.stagedList) this.isStaged[i] = 0;
    this.stagedList = [];
    for (const [bucket, entries] of this.stagedEntries) this.setPending(bucket, entries);
    this.stagedEntries.clear();
    for (const bucket of flushed) {
      const entries = this.pending.get(bucket) as Buffer;
      this.pending.delete(bucket);
      this.cacheEntries(bucket, entries);
    }
  }

  private setPending(bucket: number, entries: Buffer): void {
    this.pending.set(bucket, entries);
    const cached = this.entryCache.get(bucket);
    if (cached !== undefined) {
      this.entryCache.delete(bucket);
      this.entryCacheBytes -= cached.length;
    }
  }

  private cacheEntries(bucket: number, entries: Buffer): void {
    if (this.entryCacheBytes + entries.length > BUCKET_CACHE_BYTES_MAX) {
      this.entryCache.clear();
      this.entryCacheBytes = 0;
    }
    this.entryCacheBytes += entries.length - (this.entryCache.get(bucket)?.length ?? 0);
    this.entryCache.set(bucket, entries);
  }

  private discardStage(): void {
    const list = this.stagedList;
    for (let k = 0; k < list.length; k++) {
      const i = list[k] as number;
      this.undo.copy(this.nodes, i * HASH_BYTES, k * HASH_BYTES, (k + 1) * HASH_BYTES);
      this.isStaged[i] = 0;
    }
    this.stagedList = [];
    this.stagedEntries.clear();
  }
}

function addOp(byBucket: Map<number, Op[]>, bucket: number, op: Op): void {
  const list = byBucket.get(bucket);
  if (list === undefined) byBucket.set(bucket, [op]);
  else list.push(op);
}

/** A block's written keys as one journal row: [u16be keyLen | key bytes]*. */
function encodeJournalKeys(byBucket: ReadonlyMap<number, readonly Op[]>): Buffer {
  let len = 0;
  for (const ops of byBucket.values()) for (const op of ops) len += 2 + op.keyBytes.byteLength;
  const out = Buffer.allocUnsafe(len);
  let pos = 0;
  for (const ops of byBucket.values()) {
    for (const op of ops) {
      out.writeUInt16BE(op.keyBytes.byteLength, pos);
      pos += 2 + op.keyBytes.copy(out, pos + 2);
    }
  }
  return out;
}

/** Add a journal row's keys to `into`; false if the row is damaged. */
function decodeJournalKeys(row: Buffer, into: Set<string>): boolean {
  let pos = 0;
  while (pos < row.byteLength) {
    if (pos + 2 > row.byteLength) return false;
    const klen = row.readUInt16BE(pos);
    if (klen === 0 || pos + 2 + klen > row.byteLength) return false;
    const key = row.toString('utf8', pos + 2, pos + 2 + klen);
    if (Buffer.byteLength(key, 'utf8') !== klen) return false;
    into.add(key);
    pos += 2 + klen;
  }
  return row.byteLength > 0;
}
