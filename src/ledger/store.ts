// The chain store: one SQLite file (WAL) per node holding the block log, per-transaction
// results, the transaction index and the authenticated state. A block, its results, its
// index rows and the state it produces are written in ONE SQLite transaction, so a crash
// (even SIGKILL) leaves the node at the last whole block and it simply carries on.

import Database from 'better-sqlite3';
import type { Block, BlockHeader } from '../codec/block.js';
import { decodeBlock, decodeHeader, encodeBlock, encodeHeader, headerHash } from '../codec/block.js';
import type { HashFn } from '../codec/tx.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { CredenceError, Codes, assert } from '../util/errors.js';
import { WAL_FALLBACK_PAGES, WalCheckpointer } from './checkpointer.js';
import { IdFilter } from './idFilter.js';
import type { HashIntoFn } from './merkle.js';
import { StateTree } from './stateTree.js';
import { type StagedIndex, TxIndex, type TxLocation } from './txIndex.js';

export type { TxLocation } from './txIndex.js';

export interface StoredHead {
  readonly header: BlockHeader;
  readonly hash: Uint8Array;
}

/** Everything a commit writes, except the header, which needs the state root first. */
export interface BlockCommit {
  readonly txs: readonly Uint8Array[];
  readonly txIds: readonly Uint8Array[];
  readonly results: readonly Uint8Array[];
  readonly codes: readonly string[];
  readonly writes: ReadonlyMap<string, Uint8Array | undefined>;
  /** Builds the header from the state root the writes produce. */
  readonly makeHeader: (stateRoot: Uint8Array) => BlockHeader;
  /** For a follower: the header it was given; the commit fails if ours differs. */
  readonly expectedHash?: Uint8Array;
}

/**
 * Version of the stored layout, kept in `meta` under "format". 2: the state root is a 16-ary
 * tree over the buckets and the state journal holds one row per block. 3: a bucket's hash
 * covers its entries (key, value hash) directly, with no leaf hash, and the bucket index is
 * FNV-1a-based (stateProof.ts). A store written in
 * another format is refused at open: its state roots cannot be recomputed by this code.
 */
export const STORE_FORMAT = '3';

/** Code the executor gives a transaction whose id is already committed. */
export const REPLAYED_CODE = 'TX_REPLAYED';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
  height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, header BLOB NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (height INTEGER PRIMARY KEY, body BLOB NOT NULL);
`;

/** Refuse a store written in another layout; stamp a new one (see STORE_FORMAT). */
function checkFormat(db: Database.Database): void {
  const stored = db.prepare<[string], Buffer>('SELECT value FROM meta WHERE key = ?').pluck().get('format');
  const found = stored?.toString('utf8') ?? (db.prepare('SELECT 1 FROM blocks LIMIT 1').get() === undefined ? undefined : '1');
  if (found === undefined) {
    if (!db.readonly) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('format', Buffer.from(STORE_FORMAT));
    return;
  }
  if (found !== STORE_FORMAT) {
    throw new CredenceError(
      Codes.CONFIG,
      `this data directory was written in store format ${found.slice(0, 16)}; this credence reads format ${STORE_FORMAT}: create the network again, or run the credence version that wrote it`,
    );
  }
}

export class ChainStore {
  readonly state: StateTree;
  private readonly index: TxIndex;
  private headCache: StoredHead | undefined;
  private readonly stmts;
  private readonly ids = new IdFilter();
  private checkpointer: WalCheckpointer | undefined;

  private constructor(
    readonly db: Database.Database,
    private readonly hash: HashFn,
    hashInto: HashIntoFn | undefined,
  ) {
    db.exec(SCHEMA);
    checkFormat(db);
    this.state = StateTree.open(db, hash, hashInto === undefined ? {} : { hashInto });
    this.index = TxIndex.open(db);
    this.stmts = {
      insertBlock: db.prepare('INSERT INTO blocks (height, hash, header, body) VALUES (?, ?, ?, ?)'),
      insertResults: db.prepare('INSERT INTO results (height, body) VALUES (?, ?)'),
      lastBlock: db.prepare('SELECT header, hash FROM blocks ORDER BY height DESC LIMIT 1'),
      headerAt: db.prepare('SELECT header FROM blocks WHERE height = ?').pluck(),
      hashAt: db.prepare('SELECT hash FROM blocks WHERE height = ?').pluck(),
      bodyAt: db.prepare('SELECT body FROM blocks WHERE height = ?').pluck(),
      heightOfHash: db.prepare('SELECT height FROM blocks WHERE hash = ?').pluck(),
      resultsAt: db.prepare('SELECT body FROM results WHERE height = ?').pluck(),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
    this.headCache = this.readHead();
    this.rebuildIdFilter();
  }

  /** Open (or create) the chain database at `path`; `hashInto` (the suite's) saves an array per state hash. */
  static open(path: string, hash: HashFn, opts: { readonly?: boolean; backgroundCheckpoint?: boolean; hashInto?: HashIntoFn } = {}): ChainStore {
    const db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: a committed block survives power loss too, not only a process kill.
      db.pragma('synchronous = FULL');
    }
    db.pragma('busy_timeout = 5000');
    // 64 MiB page cache: the tx index and state lookups on the admission path stay in memory.
    db.pragma('cache_size = -65536');
    const store = new ChainStore(db, hash, opts.hashInto);
    if (opts.backgroundCheckpoint && !opts.readonly && path !== ':memory:') {
      db.pragma(`wal_autocheckpoint = ${WAL_FALLBACK_PAGES}`);
      store.checkpointer = new WalCheckpointer(path);
    }
    return store;
  }

  /** Close the database (and stop the background checkpointer). */
  async close(): Promise<void> {
    await this.checkpointer?.close();
    this.db.close();
  }

  private readHead(): StoredHead | undefined {
    const row = this.stmts.lastBlock.get() as { header: Uint8Array; hash: Uint8Array } | undefined;
    if (row === undefined) return undefined;
    return { header: decodeHeader(row.header), hash: new Uint8Array(row.hash) };
  }

  /** Height of the last block, or -1 for an empty store. */
  height(): number {
    return this.headCache?.header.height ?? -1;
  }

  head(): StoredHead | undefined {
    return this.headCache;
  }

  getMeta(key: string): Uint8Array | undefined {
    const v = this.stmts.getMeta.get(key) as Uint8Array | undefined;
    return v === undefined ? undefined : new Uint8Array(v);
  }

  setMeta(key: string, value: Uint8Array): void {
    this.stmts.setMeta.run(key, value);
  }

  headerBytes(height: number): Uint8Array | undefined {
    const v = this.stmts.headerAt.get(height) as Uint8Array | undefined;
    return v === undefined ? undefined : new Uint8Array(v);
  }

  header(height: number): BlockHeader | undefined {
    const b = this.headerBytes(height);
    return b === undefined ? undefined : decodeHeader(b);
  }

  blockHash(height: number): Uint8Array | undefined {
    const v = this.stmts.hashAt.get(height) as Uint8Array | undefined;
    return v === undefined ? undefined : new Uint8Array(v);
  }

  heightOfHash(hash: Uint8Array): number | undefined {
    return this.stmts.heightOfHash.get(hash) as number | undefined;
  }

  /** The stored block encoding (as served to followers). */
  blockBytes(height: number): Uint8Array | undefined {
    const v = this.stmts.bodyAt.get(height) as Uint8Array | undefined;
    return v === undefined ? undefined : new Uint8Array(v);
  }

  block(height: number): Block | undefined {
    const b = this.blockBytes(height);
    return b === undefined ? undefined : decodeBlock(b);
  }

  /** Encoded results of a block, in transaction order. */
  results(height: number): Uint8Array[] | undefined {
    const v = this.stmts.resultsAt.get(height) as Uint8Array | undefined;
    if (v === undefined) return undefined;
    return decodeResultList(new Uint8Array(v));
  }

  tx(id: Uint8Array): TxLocation | undefined {
    return this.index.get(id);
  }

  /** Is this transaction id committed? The Bloom filter answers most "no"s without SQLite. */
  hasTx(id: Uint8Array): boolean {
    return this.ids.mightHave(id) && this.index.has(id);
  }

  private rebuildIdFilter(): void {
    this.ids.reset(Math.max(1 << 20, this.index.count() * 2));
    for (const id of this.index.allIds()) this.ids.add(id);
  }

  /**
   * Write one block atomically: state writes, header (built from the new state root), block
   * body, results and index rows. On any failure nothing is written and the in-memory state
   * tree is reloaded. Returns the stored head.
   */
  commitBlock(c: BlockCommit): StoredHead {
    let head: StoredHead | undefined;
    let staged: StagedIndex | undefined;
    const run = this.db.transaction(() => {
      const stateRoot = this.state.applyWrites(c.writes);
      const header = c.makeHeader(stateRoot);
      assert(header.height === this.height() + 1, 'blocks are committed in height order');
      assert(header.txCount === c.txs.length && c.results.length === c.txs.length, 'block parts agree');
      const hash = headerHash(this.hash, header);
      if (c.expectedHash !== undefined && !bytesEqual(hash, c.expectedHash)) {
        throw new CredenceError(Codes.CORRUPT, `block ${header.height} does not re-execute to the same header`, {
          height: header.height,
          expected: toHex(c.expectedHash),
          computed: toHex(hash),
        });
      }
      this.stmts.insertBlock.run(header.height, hash, encodeHeader(header), encodeBlock({ header, txs: c.txs }));
      this.stmts.insertResults.run(header.height, encodeResultList(c.results));
      staged = this.index.stage(header.height, indexEntries(header.height, c));
      head = { header, hash };
    });
    try {
      run();
    } catch (e) {
      this.state.reload();
      throw e;
    }
    assert(head !== undefined && staged !== undefined, 'commit produced a head');
    this.index.commit(staged);
    this.headCache = head;
    c.txIds.forEach((id, i) => {
      if (c.codes[i] !== REPLAYED_CODE) this.ids.add(id);
    });
    if (this.ids.full) this.rebuildIdFilter();
    return head;
  }
}

/** A block's index entries: a replayed id stays in its block with its refusal code; the index keeps the first. */
function indexEntries(height: number, c: BlockCommit) {
  const out = [];
  for (let i = 0; i < c.txIds.length; i++) {
    const code = c.codes[i] ?? 'OK';
    if (code !== REPLAYED_CODE) out.push({ id: c.txIds[i] as Uint8Array, height, index: i, code });
  }
  return out;
}

function encodeResultList(results: readonly Uint8Array[]): Uint8Array {
  const total = results.reduce((n, r) => n + 4 + r.byteLength, 4);
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(results.length, 0);
  let pos = 4;
  for (const r of results) {
    out.writeUInt32BE(r.byteLength, pos);
    out.set(r, pos + 4);
    pos += 4 + r.byteLength;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Split a stored results blob; throws CORRUPT if it is damaged. */
export function decodeResultList(b: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 4) throw new CredenceError(Codes.CORRUPT, 'stored results are damaged');
  const n = buf.readUInt32BE(0);
  const out: Uint8Array[] = [];
  let pos = 4;
  for (let i = 0; i < n; i++) {
    if (pos + 4 > buf.length) throw new CredenceError(Codes.CORRUPT, 'stored results are damaged');
    const len = buf.readUInt32BE(pos);
    if (pos + 4 + len > buf.length) throw new CredenceError(Codes.CORRUPT, 'stored results are damaged');
    out.push(b.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  if (pos !== b.byteLength) throw new CredenceError(Codes.CORRUPT, 'stored results are damaged');
  return out;
}
