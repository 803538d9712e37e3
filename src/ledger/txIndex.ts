// The transaction index (id -> height, position, result code), written lazily so that a
// block does not pay one random B-tree insert per transaction.
//
// Transaction ids are uniform hashes, so inserting a block's ids one by one into the
// `txs(id PRIMARY KEY)` table dirties about one page per id once the table outgrows a few
// thousand pages (measured: ~35 us of CPU per insert at 200k rows, against ~7 us for an
// append). Instead, each block appends ONE row to `tx_recent` (its index entries packed in a
// blob) and the entries wait in memory, split into SLICES by the top bits of the id. Once
// FLUSH_ENTRIES_MIN entries have arrived since the last flush, the block flushes one slice
// (at most one per block): its waiting entries, sorted, go into `txs` together — a
// contiguous key range, so neighbouring inserts share pages (~5-12 us per entry). After a full
// sweep of the slices every entry from before the sweep began is in `txs`, and the
// `tx_recent` rows up to that height are deleted.
//
// Reads look in memory first, then in `txs`. At open, the `tx_recent` rows still present are
// loaded back into memory (re-inserting an entry a previous sweep already flushed is a no-op),
// so `txs` + `tx_recent` always answer for every committed block, whatever crashed when.
//
// ATOMICITY CONTRACT (as for StateTree): stage() runs inside the caller's transaction and
// touches only SQL; the caller calls commit(staged) after that transaction commits. If it
// rolls back, the caller drops the staged value and memory was never changed.

import type Database from 'better-sqlite3';
import { CredenceError, Codes, assert } from '../util/errors.js';

export interface TxLocation {
  readonly height: number;
  readonly index: number;
  readonly code: string;
}

/** One entry of a block's index row. */
interface Entry extends TxLocation {
  readonly id: Uint8Array;
}

/** What stage() wrote, for commit() to mirror in memory. */
export interface StagedIndex {
  readonly fresh: readonly Entry[];
  /** The slice flushed, if any. */
  readonly slice: number | undefined;
  readonly trimmedTo: number | undefined;
  readonly height: number;
}

const ID_BYTES = 32;
/** Blocks per sweep of the whole id space, by default (the slice is id[0] >> (8 - bits)). */
const SLICE_BITS = 5;
const CODE_BYTES_MAX = 255;
/** Entries that arrive between two slice flushes, at least (see StateTree's FLUSH_WRITES_MIN). */
const FLUSH_ENTRIES_MIN = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS txs (id BLOB PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL, code TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tx_recent (height INTEGER PRIMARY KEY, entries BLOB NOT NULL);
`;

const keyOf = (id: Uint8Array): string => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');

export class TxIndex {
  private readonly slices: Map<string, Entry>[];
  private cursor = 0;
  /** Height of the last block committed before the current sweep began. */
  private sweepStart = -1;
  /** Entries staged since the last slice flush. */
  private sinceFlush = 0;
  private readonly stmts;

  private constructor(
    private readonly db: Database.Database,
    private readonly sliceBits: number,
    private readonly flushEntriesMin: number,
  ) {
    this.slices = Array.from({ length: 1 << sliceBits }, () => new Map<string, Entry>());
    this.stmts = {
      get: db.prepare<[Uint8Array], { height: number; idx: number; code: string }>('SELECT height, idx, code FROM txs WHERE id = ?'),
      has: db.prepare<[Uint8Array], number>('SELECT 1 FROM txs WHERE id = ?').pluck(),
      insert: db.prepare('INSERT INTO txs (id, height, idx, code) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING'),
      addRecent: db.prepare('INSERT INTO tx_recent (height, entries) VALUES (?, ?)'),
      trimRecent: db.prepare('DELETE FROM tx_recent WHERE height <= ?'),
      allRecent: db.prepare<[], { height: number; entries: Uint8Array }>('SELECT height, entries FROM tx_recent ORDER BY height'),
      allIds: db.prepare<[], Uint8Array>('SELECT id FROM txs').pluck(),
      countIds: db.prepare<[], number>('SELECT COUNT(*) FROM txs').pluck(),
    };
  }

  /** Open the index in `db` (creating its tables) and load the entries not yet in `txs`. */
  static open(db: Database.Database, opts: { sliceBits?: number; flushEntriesMin?: number } = {}): TxIndex {
    db.exec(SCHEMA);
    const bits = opts.sliceBits ?? SLICE_BITS;
    assert(Number.isInteger(bits) && bits >= 0 && bits <= 8, 'slice bits in 0..8');
    const index = new TxIndex(db, bits, opts.flushEntriesMin ?? FLUSH_ENTRIES_MIN);
    index.load();
    return index;
  }

  private sliceOf(id: Uint8Array): number {
    return this.sliceBits === 0 ? 0 : (id[0] ?? 0) >> (8 - this.sliceBits);
  }

  private load(): void {
    let last = -1;
    for (const row of this.stmts.allRecent.iterate()) {
      for (const e of decodeEntries(row.height, new Uint8Array(row.entries))) this.slices[this.sliceOf(e.id)]?.set(keyOf(e.id), e);
      last = row.height;
    }
    this.cursor = 0;
    this.sweepStart = last;
  }

  /** Where a committed transaction is, or undefined. */
  get(id: Uint8Array): TxLocation | undefined {
    const e = this.slices[this.sliceOf(id)]?.get(keyOf(id));
    if (e !== undefined) return { height: e.height, index: e.index, code: e.code };
    const row = this.stmts.get.get(id);
    return row === undefined ? undefined : { height: row.height, index: row.idx, code: row.code };
  }

  has(id: Uint8Array): boolean {
    return this.slices[this.sliceOf(id)]?.has(keyOf(id)) === true || this.stmts.has.get(id) !== undefined;
  }

  /** Every indexed id, for rebuilding the Bloom filter. */
  *allIds(): Iterable<Uint8Array> {
    for (const s of this.slices) for (const e of s.values()) yield e.id;
    yield* this.stmts.allIds.iterate();
  }

  /** Rough number of indexed ids (entries being flushed may count twice). */
  count(): number {
    return (this.stmts.countIds.get() ?? 0) + this.slices.reduce((n, s) => n + s.size, 0);
  }

  /**
   * Write block `height`'s entries (one row) and flush one slice. Runs inside the caller's
   * transaction; memory changes wait for commit().
   */
  stage(height: number, entries: readonly Entry[]): StagedIndex {
    assert(this.db.inTransaction, 'TxIndex.stage runs inside the caller’s transaction');
    this.stmts.addRecent.run(height, encodeEntries(entries));
    if (this.sinceFlush + entries.length < this.flushEntriesMin) return { fresh: entries, slice: undefined, trimmedTo: undefined, height };
    const slice = this.cursor;
    // Sorted by the latin1 key strings: their code-unit order is the ids' byte order, and a
    // native string comparison is far cheaper than comparing byte arrays in JS.
    const due: [string, Entry][] = [...(this.slices[slice]?.entries() ?? [])];
    for (const e of entries) if (this.sliceOf(e.id) === slice) due.push([keyOf(e.id), e]);
    due.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [, e] of due) this.stmts.insert.run(e.id, e.height, e.index, e.code);
    let trimmedTo: number | undefined;
    if (slice === this.slices.length - 1) {
      this.stmts.trimRecent.run(this.sweepStart);
      trimmedTo = height;
    }
    return { fresh: entries, slice, trimmedTo, height };
  }

  /** Mirror a committed stage() in memory. */
  commit(s: StagedIndex): void {
    if (s.slice === undefined) {
      for (const e of s.fresh) this.slices[this.sliceOf(e.id)]?.set(keyOf(e.id), e);
      this.sinceFlush += s.fresh.length;
      return;
    }
    this.sinceFlush = 0;
    this.slices[s.slice]?.clear();
    for (const e of s.fresh) if (this.sliceOf(e.id) !== s.slice) this.slices[this.sliceOf(e.id)]?.set(keyOf(e.id), e);
    this.cursor = (s.slice + 1) % this.slices.length;
    // Entries staged at heights <= the sweep's start are all in `txs` once it wraps.
    if (s.trimmedTo !== undefined) this.sweepStart = s.trimmedTo;
  }
}

/** [u32 count] then per entry: id(32) | u32 index | u8 codeLen | code (ASCII). */
function encodeEntries(entries: readonly Entry[]): Uint8Array {
  let bytes = 4;
  for (const e of entries) bytes += ID_BYTES + 5 + e.code.length;
  const out = Buffer.allocUnsafe(bytes);
  out.writeUInt32BE(entries.length, 0);
  let pos = 4;
  for (const e of entries) {
    assert(e.id.byteLength === ID_BYTES && e.code.length <= CODE_BYTES_MAX, 'index entry shape');
    out.set(e.id, pos);
    out.writeUInt32BE(e.index, pos + ID_BYTES);
    out.writeUInt8(e.code.length, pos + ID_BYTES + 4);
    out.write(e.code, pos + ID_BYTES + 5, 'latin1');
    pos += ID_BYTES + 5 + e.code.length;
  }
  return out;
}

function decodeEntries(height: number, b: Uint8Array): Entry[] {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const damaged = () => new CredenceError(Codes.CORRUPT, 'stored transaction index row is damaged', { height });
  if (buf.length < 4) throw damaged();
  const n = buf.readUInt32BE(0);
  const out: Entry[] = [];
  let pos = 4;
  for (let i = 0; i < n; i++) {
    if (pos + ID_BYTES + 5 > buf.length) throw damaged();
    const len = buf.readUInt8(pos + ID_BYTES + 4);
    if (pos + ID_BYTES + 5 + len > buf.length) throw damaged();
    const id = new Uint8Array(b.subarray(pos, pos + ID_BYTES));
    out.push({ id, height, index: buf.readUInt32BE(pos + ID_BYTES), code: buf.toString('latin1', pos + ID_BYTES + 5, pos + ID_BYTES + 5 + len) });
    pos += ID_BYTES + 5 + len;
  }
  if (pos !== buf.length) throw damaged();
  return out;
}
