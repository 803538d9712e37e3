import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { getSuite } from '../crypto/suites.js';
import { recordIdAt } from '../contracts/recordBatch.js';
import type { MerkleProof } from '../ledger/merkle.js';
import { fromHex } from '../util/bytes.js';
import { batchRoot, commit, inclusionProof, newSalt, verifyInclusion } from './commitment.js';
import type { PlannedBatch } from './importWork.js';
import { type SchemaDefinition, builtinSchema } from './schemas/catalog.js';
import type { Record } from './record.js';
import { SqliteVault, type StagedItem } from './vault.js';
import { unwrapKey } from './vaultKeys.js';

const require = createRequire(import.meta.url);
const suite = getSuite('default');
const dir = mkdtempSync(join(tmpdir(), 'vault-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = new Uint8Array(32).fill(9);

const BATCH = 'c0'.repeat(28);

function rec(i: number, subject: Record['subject'] = 'E:91110000600037341L', batch = BATCH): Record {
  return {
    id: recordIdAt(batch, i),
    schema: 'court-judgment',
    subject,
    provider: 'court',
    version: 1,
    data: { caseNumber: `(2021)京0105民初${1000 + i}号`, court: 'Chaoyang', judgmentDate: '2021-03-01', causeOfAction: `DISTINCTIVE-CONTENT-${i}` },
    conductEnd: '2021-06-30',
  };
}

function fileBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

/** Chunk 0 of a batch as it is in the file: wrapped keys, ends, ciphertexts. */
function rawChunk(path: string, batch: string): { keys: Buffer; ends: Buffer; sealed: Buffer } {
  const raw = new Database(path, { readonly: true });
  const row = raw.prepare('SELECT c.keys, c.ends, c.sealed FROM chunks c JOIN batches b ON c.id = b.no * 1024 WHERE b.id = ?').get(batch);
  raw.close();
  return row as { keys: Buffer; ends: Buffer; sealed: Buffer };
}

function stage(vault: SqliteVault, id: string, records: Record[]): StagedItem[] {
  const items = records.map((record) => {
    const salt = newSalt();
    return { record, salt, commitment: commit(suite, record, salt), expiresAt: Date.UTC(2026, 5, 30), ref: `ref-${record.id.slice(-12)}` };
  });
  vault.stageBatch({
    id,
    txId: 'ab'.repeat(32),
    tx: new Uint8Array([1, 2, 3]),
    txExpiresAt: 1,
    root: batchRoot(
      suite,
      items.map((x) => x.commitment),
    ),
    items,
  });
  return items;
}

describe('SqliteVault', () => {
  it('checks, seals and stages import calls in worker threads: rows that open under their commitments and root, row errors, duplicates refused', async () => {
    const path = join(dir, 'pool.sqlite');
    const v = new SqliteVault({ path, key, suite, sealThreads: 2 });
    const def = builtinSchema('court-judgment') as SchemaDefinition;
    const dataOf = (i: number) => ({ ...rec(i).data, performedOn: i === 3 ? '2021-06-30' : '2024-01-01' });
    const rows = Array.from({ length: 50 }, (_, i) => ({ uscc: '91110000600037341L', ref: `pool-${i}`, ...dataOf(i) }));
    const text = (rs: unknown[]) => Buffer.from(rs.map((r) => JSON.stringify(r)).join('\n'));
    const request = (rs: unknown[]) => ({ def, provider: 'court', text: text(rs), firstRow: 1, rowNumbers: null, pseudonymSecret: null });
    const bad = { ...rows[0], ref: 'bad', court: 7 };
    const p = await v.imports.prepare(request([...rows, bad, 'not an object']));
    assert.deepEqual(
      p.errors.map((e) => [e.row, e.code]),
      [
        [51, 'SCHEMA_VIOLATION'],
        [52, 'MALFORMED'],
      ],
    );
    assert.deepEqual(p.links, []);
    // A second call with the same rows, prepared before the first is staged: its stage is refused.
    const rival = await v.imports.prepare(request(rows.slice(0, 2)));
    // No new versions: the call was sealed as it was prepared.
    const batches = p.sealed?.batches ?? [];
    await assert.rejects(v.imports.seal(p.job, []), (e: { code?: string }) => e.code === 'MALFORMED');
    const batch = batches[0] as PlannedBatch;
    assert.equal(batches.length, 1);
    assert.deepEqual(batch.rows, [[1, 50]]);
    assert.deepEqual(batch.args.negatives?.[3], [3, Date.UTC(2021, 5, 30)]);
    await v.imports.stage(p.job, 0, { txId: 'cd'.repeat(32), tx: new Uint8Array([1]), txExpiresAt: 1 });
    const id7 = recordIdAt(batch.id, 7);
    assert.equal(v.get(id7), undefined, 'staged: not readable yet');
    assert.deepEqual(v.stats(), { live: 0, pending: 50, destroyed: 0 });
    await v.imports.finish(p.job, 0);
    const got = v.get(id7);
    assert.deepEqual(got?.record.data, dataOf(7));
    assert.equal(got?.record.id, id7);
    const inc = v.inclusion(id7);
    assert.equal(inc?.index, 7);
    assert.ok(verifyInclusion(suite, fromHex(batch.args.root), commit(suite, got?.record as Record, got?.salt as Uint8Array), inc?.proof as MerkleProof));
    assert.deepEqual(v.dueForExpiry(Date.UTC(2027, 0, 1), 10), [recordIdAt(batch.id, 3)]);
    assert.deepEqual(v.publishedRefs('court-judgment', ['pool-1', 'x']), new Set(['pool-1']));
    assert.equal(rival.sealed?.batches.length, 1);
    await assert.rejects(
      v.imports.stage(rival.job, 0, { txId: 'ce'.repeat(32), tx: new Uint8Array([1]), txExpiresAt: 1 }),
      (e: { code?: string }) => e.code === 'RECORD_EXISTS',
    );
    // One record's key destroyed: its slot of the batch's key chunk is gone from the file, the chunk's other records stay readable.
    const chunkBefore = rawChunk(path, batch.id);
    const sealed7 = chunkBefore.sealed.subarray(new Uint32Array(new Uint8Array(chunkBefore.ends).buffer)[6]).subarray(0, 48);
    assert.equal(v.destroyKey(id7), true);
    assert.equal(v.get(id7), undefined);
    assert.deepEqual(v.get(recordIdAt(batch.id, 8))?.record.data, dataOf(8));
    assert.ok(!fileBytes(path).includes(chunkBefore.keys), 'the key chunk that held the destroyed key is still in the file');
    assert.ok(!fileBytes(path).includes(sealed7), 'the destroyed record ciphertext is still in the file');
    const again = await v.imports.prepare(request(rows.slice(0, 1)));
    assert.deepEqual(
      again.errors.map((e) => e.code),
      ['RECORD_EXISTS'],
      'a published ref is a row error',
    );
    for (const job of [p.job, rival.job, again.job]) v.imports.release(job);
    assert.deepEqual(v.pendingBatches(), []);
    v.close();
    await assert.rejects(v.imports.prepare(request(rows)), (e: { code?: string }) => e.code === 'UNAVAILABLE');
  });

  it('finishing and dropping batches wait for a concurrent writer on another connection instead of failing with SQLITE_BUSY', async () => {
    const path = join(dir, 'busy.sqlite');
    const v = new SqliteVault({ path, key, suite });
    const [batchA, batchB] = ['e1'.repeat(28), 'e2'.repeat(28)];
    stage(v, batchA, [rec(0, undefined, batchA)]);
    stage(v, batchB, [rec(0, undefined, batchB)]);
    // Another thread (a seal worker's connection) holds the write lock for a while, then commits a write.
    const writer = new Worker(
      `const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
       const { parentPort } = require('node:worker_threads');
       const db = new Database(${JSON.stringify(path)});
       db.pragma('busy_timeout = 5000');
       db.exec('BEGIN IMMEDIATE');
       db.prepare("INSERT INTO meta (k, v) VALUES ('busy', x'00')").run();
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec('COMMIT');
       db.close();`,
      { eval: true },
    );
    await new Promise((resolve) => writer.once('message', resolve));
    // The reads these start (and the write they then need) must wait for the writer, not fail.
    v.finishBatch(batchA);
    v.dropBatch(batchB);
    await new Promise((resolve) => writer.once('exit', resolve));
    assert.deepEqual(v.pendingBatches(), []);
    assert.deepEqual(v.stats(), { live: 1, pending: 0, destroyed: 0 });
    v.close();
  });

  it('round-trips records encrypted under per-record keys; nothing readable in the file', () => {
    const path = join(dir, 'a.sqlite');
    const v = new SqliteVault({ path, key, suite });
    const r0 = rec(0);
    const [item] = stage(v, BATCH, [r0, rec(1, 'P:'.concat('ab'.repeat(32)) as Record['subject'])]);
    v.finishBatch(BATCH);
    assert.deepEqual(v.get(r0.id), { record: r0, salt: item?.salt });
    assert.deepEqual(v.listBySubject('E:91110000600037341L'), [r0.id]);
    assert.throws(
      () => stage(v, BATCH, [r0]),
      (e: { code?: string }) => e.code === 'RECORD_EXISTS',
    );
    v.close();
    assert.ok(!fileBytes(path).includes('DISTINCTIVE-CONTENT'), 'record content is in the file in clear');
    const [k0, k1] = [0, 1].map((i) => unwrapKey(suite, key, BATCH, i, rawChunk(path, BATCH).keys) as Uint8Array);
    assert.equal(k0?.byteLength, 32);
    assert.notDeepEqual(k0, k1, 'each record has its own data key');
  });

  it('refuses a vault written in another layout', () => {
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.exec('CREATE TABLE records (id TEXT PRIMARY KEY, sealed BLOB)');
    old.close();
    assert.throws(
      () => new SqliteVault({ path, key, suite }),
      (e: { code?: string; message?: string }) => e.code === 'CONFIG' && /layout credence\/vault\/1/.test(e.message ?? ''),
    );
  });

  it('a wrong vault key is refused at open', () => {
    const path = join(dir, 'a.sqlite');
    assert.throws(
      () => new SqliteVault({ path, key: new Uint8Array(32).fill(1), suite }),
      (e: { code?: string }) => e.code === 'BAD_KEY',
    );
  });

  it('destroying a key makes the record unreadable, also from the raw SQLite file; the rest of its chunk stays readable', () => {
    const path = join(dir, 'b.sqlite');
    const v = new SqliteVault({ path, key, suite });
    const records = Array.from({ length: 9 }, (_, i) => rec(i));
    stage(v, BATCH, records);
    v.finishBatch(BATCH);
    const r = records[7] as Record;
    const before = rawChunk(path, BATCH);
    const ends = new Uint32Array(new Uint8Array(before.ends).buffer);
    const sealed7 = before.sealed.subarray(ends[6], ends[7]);
    assert.ok(fileBytes(path).includes(before.keys));
    assert.ok(fileBytes(path).includes(sealed7));
    assert.equal(v.destroyKey(r.id), true);
    assert.equal(v.get(r.id), undefined);
    assert.equal(v.inclusion(r.id), undefined);
    assert.deepEqual(v.get(recordIdAt(BATCH, 8))?.record, records[8]);
    assert.equal(v.inclusion(recordIdAt(BATCH, 8))?.index, 8);
    assert.deepEqual(
      v.listBySubject(r.subject),
      records.filter((x) => x !== r).map((x) => x.id),
    );
    assert.equal(v.destroyKey(r.id), false);
    v.close();
    const bytes = fileBytes(path);
    assert.ok(!bytes.includes(before.keys), 'the wrapped data keys are still in the file');
    assert.ok(!bytes.includes(sealed7.subarray(0, 48)), 'the ciphertext is still in the file');
    const again = new SqliteVault({ path, key, suite });
    assert.equal(again.get(r.id), undefined);
    assert.deepEqual(again.stats(), { live: 8, pending: 0, destroyed: 1 });
    again.close();
  });

  it('staged batches are invisible until finished, and vanish when dropped', () => {
    const v = new SqliteVault({ path: join(dir, 'c.sqlite'), key, suite });
    const [batchA, batchB] = ['a1'.repeat(28), 'b2'.repeat(28)];
    const a = stage(v, batchA, [rec(0, undefined, batchA), rec(1, undefined, batchA)]);
    stage(v, batchB, [rec(0, undefined, batchB)]);
    assert.equal(v.get(a[0]?.record.id as string), undefined);
    assert.deepEqual(
      v.pendingBatches().map((b) => [b.id, b.records]),
      [
        [batchA, 2],
        [batchB, 1],
      ],
    );
    v.finishBatch(batchA);
    v.dropBatch(batchB);
    assert.deepEqual(v.pendingBatches(), []);
    stage(v, batchB, [rec(0, undefined, batchB)]);
    v.dropBatch(batchB);
    assert.deepEqual(v.get(a[1]?.record.id as string)?.record, a[1]?.record);
    const inc = v.inclusion(a[1]?.record.id as string);
    assert.equal(inc?.index, 1);
    const commitments = [a[0]?.commitment, a[1]?.commitment] as Uint8Array[];
    assert.deepEqual(inc?.proof, inclusionProof(suite, commitments, 1));
    assert.deepEqual(inc?.root, batchRoot(suite, commitments));
    assert.deepEqual(v.stats(), { live: 2, pending: 0, destroyed: 0 });
    assert.deepEqual(v.latestByRef('court-judgment', a[0]?.ref as string), { id: a[0]?.record.id, version: 1, readable: true });
    assert.deepEqual(v.publishedRefs('court-judgment', [a[0]?.ref as string, 'no-such-ref']), new Set([a[0]?.ref]));
    v.dropBatch(batchA);
    assert.equal(v.stats().live, 2, 'an anchored batch is never dropped');
    assert.deepEqual(v.dueForExpiry(Date.UTC(2026, 5, 29), 10), []);
    assert.equal(v.dueForExpiry(Date.UTC(2026, 5, 30), 10).length, 2);
    assert.equal(v.destroyKeys(v.dueForExpiry(Date.UTC(2030, 0, 1), 10)), 2);
    v.close();
  });
});
