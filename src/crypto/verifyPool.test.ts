// VerifyPool against the suites' own verify: mixed good/bad batches (garbage keys included) for
// both suites, split across workers, bounded queue, worker crash recovery, and a pool that does
// not keep the process alive after close().

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { CredenceError } from '../util/errors.js';
import { getSuite, SUITE_NAMES } from './suites.js';
import { packBatch, VerifyPool, type VerifyItem } from './verifyPool.js';
import { unpackAndVerify } from './verifyWorker.js';

async function mixedBatch(name: 'default' | 'gm', n: number): Promise<{ items: VerifyItem[]; expected: boolean[] }> {
  const suite = getSuite(name);
  const signers = Array.from({ length: 5 }, () => suite.signerFromPem(suite.generateSigningKey().privateKeyPem));
  const items: VerifyItem[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const s = signers[i % signers.length];
    assert.ok(s);
    const digest = suite.hash(Buffer.from(`tx ${i}`));
    const signature = await s.sign(digest);
    switch (i % 7) {
      case 0: // wrong digest
        items.push({ publicKey: s.publicKey, digest: suite.hash(Buffer.from('other')), signature });
        expected.push(false);
        break;
      case 1: // flipped signature byte
        items.push({ publicKey: s.publicKey, digest, signature: signature.map((b, j) => (j === 9 ? b ^ 1 : b)) });
        expected.push(false);
        break;
      case 2: // garbage key of the right length
        items.push({ publicKey: crypto.randomBytes(suite.publicKeyBytes), digest, signature });
        expected.push(false);
        break;
      case 3: // garbage of any length, including huge
        items.push({ publicKey: crypto.randomBytes(i % 3 === 0 ? 5000 : 3), digest: new Uint8Array(0), signature: crypto.randomBytes(i % 90) });
        expected.push(false);
        break;
      default:
        items.push({ publicKey: s.publicKey, digest, signature });
        expected.push(true);
    }
  }
  return { items, expected };
}

describe('batch packing', () => {
  it('unpack(pack(items)) sees the same bytes', () => {
    const items: VerifyItem[] = Array.from({ length: 20 }, (_, i) => ({
      publicKey: crypto.randomBytes(i),
      digest: crypto.randomBytes(32),
      signature: crypto.randomBytes(64 + i),
    }));
    const seen: VerifyItem[] = [];
    const res = unpackAndVerify(packBatch(items, 3, 17), (publicKey, digest, signature) => {
      seen.push({ publicKey: publicKey.slice(), digest: digest.slice(), signature: signature.slice() });
      return seen.length % 2 === 0;
    });
    assert.equal(res.length, 14);
    assert.deepEqual(
      seen.map((s) => [Buffer.from(s.publicKey), Buffer.from(s.digest), Buffer.from(s.signature)]),
      items.slice(3, 17).map((s) => [Buffer.from(s.publicKey), Buffer.from(s.digest), Buffer.from(s.signature)]),
    );
    assert.deepEqual(
      [...res],
      seen.map((_, i) => ((i + 1) % 2 === 0 ? 1 : 0)),
    );
  });
});

for (const name of SUITE_NAMES) {
  describe(`VerifyPool (${name})`, () => {
    it('agrees with suite.verify on a mixed batch, small and split', async () => {
      const { items, expected } = await mixedBatch(name, 300);
      const suite = getSuite(name);
      assert.deepEqual(
        items.map((it) => suite.verify(it.publicKey, it.digest, it.signature)),
        expected,
      );
      const pool = new VerifyPool(name, { threads: 2 });
      try {
        assert.deepEqual(await pool.verifyBatch(items), expected);
        assert.deepEqual(await pool.verifyBatch(items.slice(0, 5)), expected.slice(0, 5));
        assert.deepEqual(await pool.verifyBatch([]), []);
        const many = await Promise.all([pool.verifyBatch(items), pool.verifyBatch(items.slice(100))]);
        assert.deepEqual(many, [expected, expected.slice(100)]);
        assert.equal(pool.pending, 0);
      } finally {
        await pool.close();
      }
    });
  });
}

describe('VerifyPool limits and failures', () => {
  it('rejects with POOL_FULL beyond queueMax', async () => {
    const { items } = await mixedBatch('default', 50);
    const pool = new VerifyPool('default', { threads: 1, queueMax: 60 });
    try {
      const first = pool.verifyBatch(items);
      await assert.rejects(pool.verifyBatch(items), (e: unknown) => e instanceof CredenceError && e.code === 'POOL_FULL');
      await first;
      await pool.verifyBatch(items); // room again
    } finally {
      await pool.close();
    }
  });

  it('a dead worker rejects its pending batch with UNAVAILABLE and is replaced', async () => {
    const { items, expected } = await mixedBatch('gm', 200);
    const pool = new VerifyPool('gm', { threads: 1 });
    try {
      const pending = pool.verifyBatch(items);
      await pool.killWorkerForTest(0);
      await assert.rejects(pending, (e: unknown) => e instanceof CredenceError && e.code === 'UNAVAILABLE');
      assert.deepEqual(await pool.verifyBatch(items), expected);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.verifyBatch(items), (e: unknown) => e instanceof CredenceError && e.code === 'UNAVAILABLE');
  });

  it('unknown suites are refused before any thread starts', () => {
    assert.throws(
      () => new VerifyPool('rsa' as 'default'),
      (e: unknown) => e instanceof CredenceError && e.code === 'UNSUPPORTED_SUITE',
    );
  });

  it('a process that used a pool exits after close() (and even without it, once idle)', () => {
    const url = new URL('./verifyPool.js', import.meta.url).href;
    for (const closeIt of [true, false]) {
      const script = `
        import { VerifyPool } from ${JSON.stringify(url)};
        const pool = new VerifyPool('default', { threads: 2 });
        const r = await pool.verifyBatch([{ publicKey: new Uint8Array(32), digest: new Uint8Array(32), signature: new Uint8Array(64) }]);
        if (r[0] !== false) process.exit(3);
        ${closeIt ? 'await pool.close();' : ''}
      `;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 15_000 });
      assert.equal(child.signal, null, `child hung (close=${closeIt})`);
      assert.equal(child.status, 0, child.stderr.toString());
    }
  });
});
