// The lazy transaction index against a reference Map: random blocks of ids, any slice count,
// the database reopened (a crash) after any block, a rolled-back stage, and tx_recent
// bounded by about two sweeps.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { TxIndex, type TxLocation } from './txIndex.js';

const dir = mkdtempSync(join(tmpdir(), 'credence-txindex-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dbCount = 0;

function openDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  return db;
}

const key = (id: Uint8Array): string => Buffer.from(id).toString('hex');
const CODES = ['OK', 'CONTRACT_REFUSED', 'TX_EXPIRED'];

interface Block {
  readonly ids: Uint8Array[];
  readonly codes: string[];
}

function commit(db: Database.Database, index: TxIndex, height: number, b: Block): void {
  const entries = b.ids.map((id, i) => ({ id, height, index: i, code: b.codes[i] ?? 'OK' }));
  const staged = db.transaction(() => index.stage(height, entries))();
  index.commit(staged);
}

const recentRows = (db: Database.Database): number => db.prepare('SELECT COUNT(*) FROM tx_recent').pluck().get() as number;

const blockArb = fc
  .array(fc.integer({ min: 0, max: 2 }), { maxLength: 12 })
  .map((codes): Block => ({ ids: codes.map(() => new Uint8Array(randomBytes(32))), codes: codes.map((c) => CODES[c] ?? 'OK') }));

describe('TxIndex', () => {
  it('answers like a reference map for any slice count, reopened after any block', () => {
    fc.assert(
      fc.property(
        fc.array(blockArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.integer({ min: 0, max: 30 }),
        (blocks, bits, reopenAt, flushEntriesMin) => {
          const path = join(dir, `p${dbCount++}.db`);
          let db = openDb(path);
          let index = TxIndex.open(db, { sliceBits: bits, flushEntriesMin });
          const model = new Map<string, TxLocation>();
          const absent = Array.from({ length: 5 }, () => new Uint8Array(randomBytes(32)));
          blocks.forEach((b, h) => {
            commit(db, index, h, b);
            b.ids.forEach((id, i) => {
              model.set(key(id), { height: h, index: i, code: b.codes[i] ?? 'OK' });
            });
            if (reopenAt[h] === true) {
              db.close();
              db = openDb(path);
              index = TxIndex.open(db, { sliceBits: bits, flushEntriesMin });
            }
          });
          for (const b of blocks) for (const id of b.ids) assert.deepEqual(index.get(id), model.get(key(id)));
          for (const id of absent) {
            assert.equal(index.get(id), undefined);
            assert.equal(index.has(id), false);
          }
          const all = new Set([...index.allIds()].map(key));
          assert.deepEqual([...all].sort(), [...model.keys()].sort());
          db.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('flushes slices into txs and keeps tx_recent within about two sweeps', () => {
    const db = openDb(join(dir, `b${dbCount++}.db`));
    const index = TxIndex.open(db, { sliceBits: 3, flushEntriesMin: 0 });
    for (let h = 0; h < 100; h++) {
      commit(db, index, h, { ids: Array.from({ length: 20 }, () => new Uint8Array(randomBytes(32))), codes: [] });
      assert.ok(recentRows(db) <= 2 * 8 + 1, `tx_recent has ${recentRows(db)} rows at height ${h}`);
    }
    const settled = db.prepare('SELECT COUNT(*) FROM txs').pluck().get() as number;
    assert.ok(settled >= 20 * (100 - 2 * 8), `only ${settled} entries reached txs`);
    db.close();
  });

  it('flushes a slice only once flushEntriesMin entries have arrived since the last flush', () => {
    const db = openDb(join(dir, `m${dbCount++}.db`));
    const index = TxIndex.open(db, { sliceBits: 0, flushEntriesMin: 50 });
    const settled = () => db.prepare('SELECT COUNT(*) FROM txs').pluck().get() as number;
    for (let h = 0; h < 4; h++) commit(db, index, h, { ids: Array.from({ length: 12 }, () => new Uint8Array(randomBytes(32))), codes: [] });
    assert.equal(settled(), 0, '48 entries: no flush yet');
    commit(db, index, 4, { ids: Array.from({ length: 12 }, () => new Uint8Array(randomBytes(32))), codes: [] });
    assert.equal(settled(), 60, 'the 50th entry flushes the (single) slice');
    db.close();
  });

  it('a rolled-back stage leaves memory and tables as they were', () => {
    const db = openDb(join(dir, `r${dbCount++}.db`));
    const index = TxIndex.open(db, { sliceBits: 0 });
    const id = new Uint8Array(randomBytes(32));
    assert.throws(
      () =>
        db.transaction(() => {
          index.stage(0, [{ id, height: 0, index: 0, code: 'OK' }]);
          throw new Error('abort');
        })(),
      /abort/,
    );
    assert.equal(index.has(id), false);
    assert.equal(recentRows(db), 0);
    commit(db, index, 0, { ids: [id], codes: ['OK'] });
    assert.deepEqual(index.get(id), { height: 0, index: 0, code: 'OK' });
    db.close();
  });

  it('refuses a damaged tx_recent row at open with CORRUPT', () => {
    const path = join(dir, `c${dbCount++}.db`);
    const db = openDb(path);
    const index = TxIndex.open(db);
    commit(db, index, 0, { ids: [new Uint8Array(randomBytes(32))], codes: ['OK'] });
    db.prepare('UPDATE tx_recent SET entries = ?').run(Buffer.from([0, 0, 0, 9, 1, 2]));
    db.close();
    const again = openDb(path);
    assert.throws(
      () => TxIndex.open(again),
      (e: unknown) => (e as { code?: string }).code === 'CORRUPT',
    );
    again.close();
  });
});
