import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { type JsonValue, canonicalJsonBytes } from '../codec/canonicalJson.js';
import { getSuite } from '../crypto/suites.js';
import { recordIdAt } from '../contracts/recordBatch.js';
import { batchRoot, commit, inclusionProof, newSalt } from './commitment.js';
import type { Record } from './record.js';
import { SqliteVault, type StagedItem } from './vault.js';

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
  it('seals and stages batches in worker threads: same commitments and root, rows that open, duplicates refused', async () => {
    const path = join(dir, 'pool.sqlite');
    const v = new SqliteVault({ path, key, suite, sealThreads: 2 });
    const records = Array.from({ length: 50 }, (_, i) => rec(i));
    const inputs = records.map((r, i) => ({
      id: r.id,
      json: canonicalJsonBytes(r as unknown as JsonValue),
      subject: r.subject,
      schema: r.schema,
      version: 1,
      ref: `pool-${i}`,
      ...(i === 3 ? { expiresAt: Date.UTC(2026, 5, 30) } : {}),
    }));
    const sealed = await v.sealBatch(inputs);
    assert.deepEqual(sealed.root, batchRoot(suite, sealed.commitments));
    const tx = { id: BATCH, txId: 'cd'.repeat(32), tx: new Uint8Array([1]), txExpiresAt: 1 };
    await v.stageSealed(sealed, tx);
    assert.equal(v.get(records[7]?.id as string), undefined, 'staged: not readable yet');
    assert.deepEqual(v.stats(), { live: 0, pending: 50, destroyed: 0 });
    v.finishBatch(BATCH);
    const got = v.get(records[7]?.id as string);
    assert.deepEqual(got?.record, records[7]);
    assert.deepEqual(sealed.commitments[7], commit(suite, records[7] as Record, got?.salt as Uint8Array));
    assert.deepEqual(v.inclusion(records[7]?.id as string)?.proof, inclusionProof(suite, sealed.commitments, 7));
    assert.deepEqual(v.dueForExpiry(Date.UTC(2027, 0, 1), 10), [records[3]?.id]);
    assert.deepEqual(v.publishedRefs('court-judgment', ['pool-1', 'x']), new Set(['pool-1']));
    const again = await v.sealBatch(inputs.slice(0, 2));
    await assert.rejects(v.stageSealed(again, tx), (e: { code?: string }) => e.code === 'RECORD_EXISTS');
    const misnumbered = await v.sealBatch(inputs.slice(2, 3));
    await assert.rejects(v.stageSealed(misnumbered, { ...tx, id: 'd0'.repeat(28) }), (e: { code?: string }) => e.code === 'MALFORMED');
    v.discardSealed(await v.sealBatch(inputs.slice(5, 6)));
    assert.deepEqual(v.pendingBatches(), []);
    v.close();
    await assert.rejects(v.sealBatch(inputs), (e: { code?: string }) => e.code === 'UNAVAILABLE');
  });

  it('round-trips records encrypted under per-record keys; nothing readable in the file', () => {
    const path = join(dir, 'a.sqlite');
    const v = new SqliteVault({ path, key, suite });
    const r0 = rec(0);
    const salt = newSalt();
    v.put(r0, salt);
    v.put(rec(1, 'P:'.concat('ab'.repeat(32)) as Record['subject']), newSalt());
    assert.deepEqual(v.get(r0.id), { record: r0, salt });
    assert.deepEqual(v.listBySubject('E:91110000600037341L'), [r0.id]);
    assert.throws(
      () => v.put(r0, salt),
      (e: { code?: string }) => e.code === 'RECORD_EXISTS',
    );
    v.close();
    assert.ok(!fileBytes(path).includes('DISTINCTIVE-CONTENT'), 'record content is in the file in clear');
    const raw = new Database(path, { readonly: true });
    const keys = raw.prepare('SELECT wrapped_key FROM records').all() as { wrapped_key: Buffer }[];
    raw.close();
    assert.equal(keys.length, 2);
    const [k0, k1] = keys as [{ wrapped_key: Buffer }, { wrapped_key: Buffer }];
    assert.ok(!k0.wrapped_key.equals(k1.wrapped_key));
  });

  it('a wrong vault key is refused at open', () => {
    const path = join(dir, 'a.sqlite');
    assert.throws(
      () => new SqliteVault({ path, key: new Uint8Array(32).fill(1), suite }),
      (e: { code?: string }) => e.code === 'BAD_KEY',
    );
  });

  it('destroying a key makes the record unreadable, also from the raw SQLite file', () => {
    const path = join(dir, 'b.sqlite');
    const v = new SqliteVault({ path, key, suite });
    const r = rec(7);
    v.put(r, newSalt());
    const raw = new Database(path, { readonly: true });
    const before = raw.prepare('SELECT wrapped_key, sealed FROM records WHERE id = ?').get(r.id) as { wrapped_key: Buffer; sealed: Buffer };
    raw.close();
    assert.ok(fileBytes(path).includes(before.wrapped_key));
    assert.equal(v.destroyKey(r.id), true);
    assert.equal(v.get(r.id), undefined);
    assert.deepEqual(v.listBySubject(r.subject), []);
    assert.equal(v.destroyKey(r.id), false);
    v.close();
    const bytes = fileBytes(path);
    assert.ok(!bytes.includes(before.wrapped_key), 'the wrapped data key is still in the file');
    assert.ok(!bytes.includes(before.sealed.subarray(0, 48)), 'the ciphertext is still in the file');
    const again = new SqliteVault({ path, key, suite });
    assert.equal(again.get(r.id), undefined);
    assert.equal(again.stats().destroyed, 1);
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
