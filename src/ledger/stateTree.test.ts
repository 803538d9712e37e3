import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import type { HashFn } from './merkle.js';
import { type StateProof, verifyStateProof } from './stateProof.js';
import { StateTree } from './stateTree.js';
import { CredenceError } from '../util/errors.js';

const sha256: HashFn = (d) => new Uint8Array(createHash('sha256').update(d).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

const dir = mkdtempSync(join(tmpdir(), 'credence-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let dbCount = 0;

function openDb(path = join(dir, `s${dbCount++}.db`)): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  return db;
}

type Writes = Map<string, Uint8Array | undefined>;

function apply(db: Database.Database, st: StateTree, w: Writes): Uint8Array {
  return db.transaction(() => st.applyWrites(w))();
}

// --- an independent reference model: plain Map + full recomputation from the definition ---

/** FNV-1a-32 of the key's bytes, murmur3's fmix32, top 16 bits (in BigInt, apart from the code's Math.imul). */
function bucketOf(key: string): number {
  let h = 0x811c9dc5n;
  for (const b of utf8(key)) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  h = ((h ^ (h >> 16n)) * 0x85ebca6bn) & 0xffffffffn;
  h = ((h ^ (h >> 13n)) * 0xc2b2ae35n) & 0xffffffffn;
  return Number((h ^ (h >> 16n)) >> 16n);
}

function referenceRoot(model: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const buckets = new Map<number, string[]>();
  for (const k of model.keys()) {
    const b = bucketOf(k);
    buckets.set(b, [...(buckets.get(b) ?? []), k]);
  }
  const bucketHash = new Map<number, Uint8Array>();
  for (const [b, keys] of buckets) {
    keys.sort((x, y) => Buffer.compare(utf8(x), utf8(y)));
    const entries = keys.map((k) => {
      const kb = utf8(k);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(kb.length);
      return Buffer.concat([len, kb, sha256(model.get(k) as Uint8Array)]);
    });
    bucketHash.set(b, sha256(Buffer.concat([Buffer.from([3]), ...entries])));
  }
  // Sparse recursion over the 16-ary tree: a subtree with no key is the hash of an all-empty
  // subtree of its height (height counts 16-ary levels above the buckets).
  const emptyAt: Uint8Array[] = [sha256(new Uint8Array([3]))];
  for (let h = 1; h <= 4; h++) {
    const e = emptyAt[h - 1] as Uint8Array;
    emptyAt.push(sha256(Buffer.concat([Buffer.from([1]), ...Array.from({ length: 16 }, () => e)])));
  }
  const node = (height: number, first: number): Uint8Array => {
    if (height === 0) return bucketHash.get(first) ?? (emptyAt[0] as Uint8Array);
    const span = 16 ** height;
    let any = false;
    for (const b of bucketHash.keys()) if (b >= first && b < first + span) any = true;
    if (!any) return emptyAt[height] as Uint8Array;
    const children = Array.from({ length: 16 }, (_, c) => node(height - 1, first + (c * span) / 16));
    return sha256(Buffer.concat([Buffer.from([1]), ...children]));
  };
  return node(4, 0);
}

/** Keys that share buckets (found by search), plus keys whose UTF-16 and UTF-8 orders differ. */
function keyPool(): string[] {
  const byBucket = new Map<number, string[]>();
  const crowded: string[] = [];
  for (let i = 0; crowded.length < 12; i++) {
    const k = `acct/${i}`;
    const b = bucketOf(k);
    const list = [...(byBucket.get(b) ?? []), k];
    byBucket.set(b, list);
    if (list.length === 3) crowded.push(...list);
  }
  // U+E000 sorts before U+1F600 in UTF-8 bytes but after it in UTF-16 code units.
  const bmp = new Map<number, string>();
  for (let i = 0; i < 2000; i++) bmp.set(bucketOf(`p${i}\uE000`), `p${i}\uE000`);
  const mixed: string[] = [];
  for (let i = 0; mixed.length < 4; i++) {
    const k = `p${i}\u{1F600}`;
    const other = bmp.get(bucketOf(k));
    if (other !== undefined) mixed.push(k, other);
  }
  return [...crowded, ...mixed, 'a', 'b', 'consent/ünïcödé', 'x'.repeat(256)];
}
const POOL = keyPool();

const writeArb = fc.tuple(fc.constantFrom(...POOL), fc.option(fc.uint8Array({ maxLength: 24 }), { nil: undefined, freq: 4 }));
const blocksArb = fc.array(fc.array(writeArb, { maxLength: 12 }), { minLength: 1, maxLength: 6 });

describe('StateTree', () => {
  it('agrees with a reference model after random blocks of writes and deletes', () => {
    fc.assert(
      fc.property(blocksArb, (blocks) => {
        const db = openDb();
        const st = StateTree.open(db, sha256);
        const model = new Map<string, Uint8Array>();
        for (const block of blocks) {
          const w: Writes = new Map(block);
          const root = apply(db, st, w);
          for (const [k, v] of w) {
            if (v === undefined) model.delete(k);
            else model.set(k, v);
          }
          assert.equal(hex(root), hex(referenceRoot(model)));
          assert.equal(hex(st.root()), hex(root));
        }
        for (const k of POOL) assert.deepEqual(st.get(k) && hex(st.get(k) as Uint8Array), model.get(k) && hex(model.get(k) as Uint8Array));
        db.close();
      }),
      { numRuns: 15 },
    );
  });

  it('the root ignores write order within a block and how writes are split across blocks', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 20 }), fc.nat(), (list, seed) => {
        const final: Writes = new Map(list); // last write of a key wins
        const db1 = openDb();
        const st1 = StateTree.open(db1, sha256);
        const one = apply(db1, st1, final);

        const shuffled = [...final].sort((a, b) => ((bucketOf(a[0]) ^ seed) % 97) - ((bucketOf(b[0]) ^ seed) % 97));
        const db2 = openDb();
        const st2 = StateTree.open(db2, sha256);
        assert.equal(hex(apply(db2, st2, new Map(shuffled))), hex(one));

        const db3 = openDb();
        const st3 = StateTree.open(db3, sha256);
        const cut = list.length === 0 ? 0 : seed % (list.length + 1);
        apply(db3, st3, new Map(list.slice(0, cut)));
        apply(db3, st3, new Map(list.slice(cut)));
        // Keys written only in the first part and deleted nowhere stay; compare with the model.
        const model = new Map<string, Uint8Array>();
        for (const [k, v] of list) {
          if (v === undefined) model.delete(k);
          else model.set(k, v);
        }
        assert.equal(hex(st3.root()), hex(referenceRoot(model)));
        const modelOne = new Map([...final].filter((e): e is [string, Uint8Array] => e[1] !== undefined));
        assert.equal(hex(one), hex(referenceRoot(modelOne)));
        for (const db of [db1, db2, db3]) db.close();
      }),
      { numRuns: 15 },
    );
  });

  it('reopening the database gives the same root and values', () => {
    const path = join(dir, 'reopen.db');
    const db = openDb(path);
    const st = StateTree.open(db, sha256);
    const w: Writes = new Map(POOL.map((k, i) => [k, new Uint8Array([i])]));
    const root = apply(db, st, w);
    apply(db, st, new Map([[POOL[0] as string, undefined]]));
    const root2 = st.root();
    assert.notEqual(hex(root2), hex(root));
    db.close();
    const db2 = openDb(path);
    const st2 = StateTree.open(db2, sha256);
    assert.equal(hex(st2.root()), hex(root2));
    assert.equal(st2.get(POOL[0] as string), undefined);
    assert.deepEqual(st2.get(POOL[1] as string), Buffer.from([1]));
    db2.close();
  });

  it('lazy buckets: any sweep length, reopened at any block, gives the model root and valid proofs', () => {
    fc.assert(
      fc.property(blocksArb, fc.integer({ min: 1, max: 8 }), fc.nat(), fc.integer({ min: 0, max: 12 }), (blocks, sweepBlocks, reopenSeed, flushWritesMin) => {
        const path = join(dir, `lazy${dbCount++}.db`);
        let db = openDb(path);
        let st = StateTree.open(db, sha256, { sweepBlocks, flushWritesMin });
        const model = new Map<string, Uint8Array>();
        blocks.forEach((block, i) => {
          apply(db, st, new Map(block));
          for (const [k, v] of block) {
            if (v === undefined) model.delete(k);
            else model.set(k, v);
          }
          if ((reopenSeed >> i) & 1) {
            db.close();
            db = openDb(path);
            st = StateTree.open(db, sha256, { sweepBlocks, flushWritesMin });
          }
          assert.equal(hex(st.root()), hex(referenceRoot(model)));
        });
        for (const k of POOL) assert.ok(verifyStateProof(sha256, st.root(), k, st.get(k), st.prove(k)));
        // The stored rows plus the journal are the whole truth: a fresh open agrees.
        assert.equal(hex(StateTree.open(db, sha256).root()), hex(referenceRoot(model)));
        db.close();
      }),
      { numRuns: 15 },
    );
  });

  it('the sweep writes bucket rows and trims the journal; a rolled-back sweep is undone by reload()', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256, { sweepBlocks: 1, flushWritesMin: 0 });
    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
    apply(db, st, new Map([['a', new Uint8Array([1])]]));
    assert.deepEqual([count('state_bucket'), count('state_journal')], [1, 1]);
    const root2 = apply(db, st, new Map([['b', new Uint8Array([2])]]));
    // Rows older than the last full sweep are gone: only block 2's row is left.
    assert.deepEqual([count('state_bucket'), count('state_journal')], [2, 1]);
    const boom = db.transaction(() => {
      st.applyWrites(new Map([['c', new Uint8Array([3])]]));
      assert.deepEqual([count('state_bucket'), count('state_journal')], [3, 1]);
      throw new Error('block insert failed');
    });
    assert.throws(boom, /block insert failed/);
    st.reload();
    assert.equal(hex(st.root()), hex(root2));
    assert.deepEqual([count('state_bucket'), count('state_journal')], [2, 1]);
    const root3 = apply(db, st, new Map([['c', new Uint8Array([3])]]));
    assert.deepEqual([count('state_bucket'), count('state_journal')], [3, 1]);
    assert.equal(hex(StateTree.open(db, sha256).root()), hex(root3));
    db.close();
  });

  it('refuses a damaged journal row at open with CORRUPT', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256, { flushWritesMin: 1_000_000 });
    apply(db, st, new Map([['a', new Uint8Array([1])]]));
    assert.equal(hex(StateTree.open(db, sha256).root()), hex(st.root()));
    // truncated key, zero length, invalid UTF-8, empty row
    for (const bad of [Buffer.from([0, 5, 0x61]), Buffer.from([0, 0]), Buffer.from([0, 1, 0xff]), Buffer.alloc(0)]) {
      db.prepare('UPDATE state_journal SET keys = ?').run(bad);
      assert.throws(
        () => StateTree.open(db, sha256),
        (e: unknown) => e instanceof CredenceError && e.code === 'CORRUPT',
      );
    }
    db.close();
  });

  it('the journal stays bounded: rows older than two sweeps are gone', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256, { sweepBlocks: 4, flushWritesMin: 0 });
    for (let b = 0; b < 40; b++) apply(db, st, new Map(Array.from({ length: 10 }, (_, i) => [`k${b}-${i}`, new Uint8Array([i])])));
    const rows = db.prepare('SELECT count(*) FROM state_journal').pluck().get() as number;
    assert.ok(rows <= 2 * 4, `journal rows ${rows} (one per block)`);
    assert.ok((db.prepare('SELECT count(*) FROM state_bucket').pluck().get() as number) >= 400 - 2 * 4 * 10);
    db.close();
  });

  it('the empty state has the root of 2^16 empty buckets', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256, { sweepBlocks: 1, flushWritesMin: 0 });
    assert.equal(hex(st.root()), hex(referenceRoot(new Map())));
    // Writing then deleting everything comes back to it, and leaves no bucket rows behind.
    apply(db, st, new Map([['a', new Uint8Array([1])]]));
    apply(db, st, new Map([['a', undefined]]));
    assert.equal(hex(st.root()), hex(referenceRoot(new Map())));
    assert.equal(db.prepare('SELECT count(*) FROM state_bucket').pluck().get(), 0);
    db.close();
  });

  it('proofs of present and absent keys verify; tampered proofs, values and roots fail', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 25 }), fc.constantFrom(...POOL), fc.nat(), (list, key, pick) => {
        const db = openDb();
        const st = StateTree.open(db, sha256);
        const root = apply(db, st, new Map(list));
        const value = st.get(key);
        const proof = st.prove(key);
        assert.ok(verifyStateProof(sha256, root, key, value, proof));
        // Survives the trip through JSON (REST, CLI).
        const json = JSON.parse(JSON.stringify(proof)) as StateProof;
        assert.ok(verifyStateProof(sha256, root, key, value, json));

        const other = new Uint8Array([...(value ?? []), 7]);
        assert.equal(verifyStateProof(sha256, root, key, other, proof), false, 'wrong value');
        if (value !== undefined) assert.equal(verifyStateProof(sha256, root, key, undefined, proof), false, 'claims absent');
        const badRoot = root.slice();
        badRoot[pick % 32] = (badRoot[pick % 32] as number) ^ 1;
        assert.equal(verifyStateProof(sha256, badRoot, key, value, proof), false, 'wrong root');

        const tampered: StateProof[] = [];
        const path = [...proof.path];
        path[pick % 60] = flipHex(path[pick % 60] as string);
        tampered.push({ ...proof, path });
        tampered.push({ ...proof, path: proof.path.slice(1) });
        tampered.push({ ...proof, bucket: (proof.bucket + 1) % 65536 });
        if (proof.leaves.length > 0) {
          const i = pick % proof.leaves.length;
          const leaves = proof.leaves.map((l) => ({ ...l }));
          (leaves[i] as { valueHash: string }).valueHash = flipHex((leaves[i] as { valueHash: string }).valueHash);
          tampered.push({ ...proof, leaves });
          tampered.push({ ...proof, leaves: proof.leaves.filter((_, j) => j !== i) });
          tampered.push({ ...proof, leaves: [...proof.leaves, proof.leaves[i] as StateProof['leaves'][number]] });
        }
        if (proof.leaves.length > 1) tampered.push({ ...proof, leaves: [...proof.leaves].reverse() });
        for (const t of tampered) assert.equal(verifyStateProof(sha256, root, key, value, t), false);
        // A proof for one key does not prove another key.
        const otherKey = POOL.find((k) => k !== key) as string;
        assert.equal(verifyStateProof(sha256, root, otherKey, st.get(otherKey), proof), false);
        db.close();
      }),
      { numRuns: 25 },
    );
  });

  it('a rolled-back transaction leaves db and tree consistent after reload()', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256);
    const before = apply(
      db,
      st,
      new Map([
        ['a', new Uint8Array([1])],
        ['b', new Uint8Array([2])],
      ]),
    );
    const boom = db.transaction(() => {
      st.applyWrites(
        new Map([
          ['a', undefined],
          ['c', new Uint8Array([3])],
        ]),
      );
      throw new Error('block insert failed');
    });
    assert.throws(boom, /block insert failed/);
    st.reload();
    assert.equal(hex(st.root()), hex(before));
    assert.deepEqual(st.get('a'), Buffer.from([1]));
    assert.equal(st.get('c'), undefined);
    assert.ok(verifyStateProof(sha256, st.root(), 'a', st.get('a'), st.prove('a')));
    // The tree carries on normally afterwards.
    const next = apply(db, st, new Map([['c', new Uint8Array([3])]]));
    const model = new Map([
      ['a', new Uint8Array([1])],
      ['b', new Uint8Array([2])],
      ['c', new Uint8Array([3])],
    ]);
    assert.equal(hex(next), hex(referenceRoot(model)));
    db.close();
  });

  it('invalid writes throw before touching the tree', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256);
    const root = apply(db, st, new Map([['a', new Uint8Array([1])]]));
    const bad: Writes[] = [
      new Map([
        ['ok', new Uint8Array([1])],
        ['', new Uint8Array([1])],
      ]),
      new Map([['x'.repeat(257), new Uint8Array([1])]]),
      new Map([['é'.repeat(129), new Uint8Array([1])]]),
      new Map([['lone\uD800', new Uint8Array([1])]]),
      new Map([['nul\u0000', new Uint8Array([1])]]),
      new Map([['big', new Uint8Array(64 * 1024 + 1)]]),
      new Map([['str', 'abc' as unknown as Uint8Array]]),
    ];
    for (const w of bad) {
      assert.throws(
        () => apply(db, st, w),
        (e: unknown) => ['MALFORMED', 'TOO_LARGE'].includes((e as { code?: string }).code ?? ''),
      );
      assert.equal(hex(st.root()), hex(root));
    }
    assert.equal(st.get('ok'), undefined);
    assert.throws(() => st.prove(''), { code: 'MALFORMED' });
    db.close();
  });

  it('applyWrites refuses to run outside a transaction', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256);
    assert.throws(() => st.applyWrites(new Map([['a', new Uint8Array([1])]])), /invariant/);
    db.close();
  });

  it('computeRootFor predicts the root without changing db or tree', () => {
    const db = openDb();
    const st = StateTree.open(db, sha256);
    const root0 = apply(db, st, new Map([['a', new Uint8Array([1])]]));
    const w: Writes = new Map([
      ['a', undefined],
      ['b', new Uint8Array([2])],
    ]);
    const predicted = st.computeRootFor(w);
    assert.equal(hex(st.root()), hex(root0));
    assert.deepEqual(st.get('a'), Buffer.from([1]));
    assert.equal(st.get('b'), undefined);
    // Inside a transaction too.
    const inside = db.transaction(() => st.computeRootFor(w))();
    assert.equal(hex(inside), hex(predicted));
    assert.equal(hex(apply(db, st, w)), hex(predicted));
    db.close();
  });
});

function flipHex(h: string): string {
  const c = h[0] === '0' ? '1' : '0';
  return c + h.slice(1);
}
