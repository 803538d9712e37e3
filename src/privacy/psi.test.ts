// PSI: results equal the plain intersection on the same data (property test), size-only mode,
// commutativity of the blinding on the curve and on the twist, and the coded errors for invalid
// group elements, replayed, foreign or out-of-order frames and mismatched sizes.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { CredenceError } from '../util/errors.js';
import { PrivacyCodes } from './codes.js';
import { P25519, writeLE } from './h2c25519.js';
import { PsiPool } from './pool.js';
import { decodeFrame, encodeFrame, FrameAssembler, intersect, PsiReceiver, PsiSender, shufflePoints, toFrames } from './psi.js';
import { blindPoints, forceJwkImport, importPath, newBlindingKey, privateKeyObject } from './x25519.js';

const pool = new PsiPool(2);
after(() => pool.close());

const enc = (xs: readonly string[]) => xs.map((x) => Buffer.from(x, 'utf8'));

async function runPsi(r: string[], s: string[], mode: 'set' | 'size') {
  const receiver = new PsiReceiver(pool, enc(r), mode);
  const sender = new PsiSender(pool, enc(s), mode);
  const reply = await sender.answer(await receiver.query(), r.length);
  receiver.acceptReply(reply);
  return receiver.finish(await sender.ownSet(), s.length);
}

function codeOf(code: string) {
  return (e: unknown) => e instanceof CredenceError && e.code === code;
}

describe('ECDH-PSI', () => {
  it('equals the plain intersection (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 40 }),
        fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 40 }),
        async (r, s) => {
          const res = await runPsi(r, s, 'set');
          const want = r.flatMap((x, i) => (s.includes(x) ? [i] : []));
          assert.deepEqual(res.indices, want);
          assert.equal(res.size, want.length);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('size-only mode reveals the count and no indices', async () => {
    const res = await runPsi(['a', 'b', 'c', 'd', 'e'], ['e', 'x', 'b', 'y'], 'size');
    assert.deepEqual(res, { size: 2 });
  });

  it('blinding commutes for any u, on the curve and on the twist', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n, max: P25519 - 2n }), (u) => {
        const pt = new Uint8Array(32);
        writeLE(u, pt, 0);
        const a = privateKeyObject(newBlindingKey());
        const b = privateKeyObject(newBlindingKey());
        let ab: Uint8Array;
        try {
          ab = blindPoints(b, blindPoints(a, pt));
        } catch (e) {
          // Only a low-order input may fail, and then on both sides.
          assert.ok(codeOf(PrivacyCodes.BAD_POINT)(e));
          return;
        }
        assert.deepEqual(blindPoints(a, blindPoints(b, pt)), ab);
      }),
      { numRuns: 40 },
    );
  });

  function refusesBadPoints(): void {
    const key = privateKeyObject(newBlindingKey());
    const low = [
      '00',
      '01',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    ];
    for (const h of low) {
      const pt = Buffer.alloc(32);
      Buffer.from(h, 'hex').copy(pt);
      assert.throws(() => blindPoints(key, pt), codeOf(PrivacyCodes.BAD_POINT), h);
    }
    const nonCanonical = Buffer.alloc(32, 0xff);
    assert.throws(() => blindPoints(key, nonCanonical), codeOf(PrivacyCodes.BAD_POINT));
    const pEnc = new Uint8Array(32);
    writeLE(P25519 + 9n - 2n ** 255n + 2n ** 255n, pEnc, 0); // p + 9: same point as 9, non-canonical
    assert.throws(() => blindPoints(key, pEnc), codeOf(PrivacyCodes.BAD_POINT));
  }

  it('refuses low-order and non-canonical points with BAD_POINT, on both public-key import paths', () => {
    assert.ok(['handle', 'jwk'].includes(importPath())); // 'handle' on Node 20 (the bench reports which)
    refusesBadPoints();
    forceJwkImport(true);
    try {
      refusesBadPoints();
    } finally {
      forceJwkImport(false);
    }
  });

  it('the in-place public-key import gives the JWK import results (property)', () => {
    const key = privateKeyObject(newBlindingKey());
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32 * 8, maxLength: 32 * 8 }), (raw) => {
        for (let i = 31; i < raw.length; i += 32) raw[i] = (raw[i] as number) & 0x7f;
        forceJwkImport(true);
        const viaJwk = blindPoints(key, raw);
        forceJwkImport(false);
        assert.deepEqual(blindPoints(key, raw), viaJwk);
      }),
      { numRuns: 20 },
    );
  });

  it('a sender given a low-order point in the query fails with BAD_POINT, through the pool', async () => {
    const sender = new PsiSender(pool, enc(['a']), 'set');
    const q = new Uint8Array(64);
    q.set(randomBytes(32).map((x, i) => (i === 31 ? x & 0x3f : x)));
    await assert.rejects(sender.answer(q, 2), codeOf(PrivacyCodes.BAD_POINT));
  });

  it('refuses mismatched set sizes on both sides', async () => {
    const receiver = new PsiReceiver(pool, enc(['a', 'b']), 'set');
    const sender = new PsiSender(pool, enc(['a']), 'set');
    const q = await receiver.query();
    await assert.rejects(sender.answer(q, 3), codeOf(PrivacyCodes.SIZE_MISMATCH));
    assert.throws(() => receiver.acceptReply(q.subarray(0, 32)), codeOf(PrivacyCodes.SIZE_MISMATCH));
    receiver.acceptReply(await sender.answer(q, 2));
    await assert.rejects(receiver.finish(await sender.ownSet(), 2), codeOf(PrivacyCodes.SIZE_MISMATCH));
  });

  it('intersect finds exactly the common points, also among points sharing their 48-bit prefix', () => {
    const pt = (prefix: number, rest: number) => {
      const b = Buffer.alloc(32);
      b.writeUIntLE(prefix, 0, 6);
      b.writeUInt32LE(rest, 28);
      return b;
    };
    const theirs = Buffer.concat([pt(1, 1), pt(1, 2), pt(2, 1), pt(1, 3), pt(3, 9)]);
    const mine = Buffer.concat([pt(1, 2), pt(1, 4), pt(3, 9), pt(4, 1), pt(1, 1), pt(2, 2), pt(1, 3)]);
    assert.deepEqual(intersect(mine, theirs, 'set'), { size: 4, indices: [0, 2, 4, 6] });
    assert.deepEqual(intersect(mine, theirs, 'size'), { size: 4 });
    assert.deepEqual(intersect(mine, new Uint8Array(0), 'set'), { size: 0, indices: [] });
  });

  it('shuffle keeps the multiset of points', () => {
    const pts = new Uint8Array(randomBytes(32 * 50));
    const sh = shufflePoints(pts);
    const key = (b: Uint8Array) =>
      Array.from({ length: 50 }, (_, i) => Buffer.from(b.subarray(32 * i, 32 * i + 32)).toString('hex'))
        .sort()
        .join();
    assert.equal(key(sh), key(pts));
  });
});

describe('PSI frames', () => {
  const job = new Uint8Array(randomBytes(32));
  const pts = new Uint8Array(randomBytes(32 * 10));

  it('round-trip through frames of a few points', () => {
    const asm = new FrameAssembler(job, 'query', 10);
    for (const f of toFrames(job, 'query', pts, 3)) asm.add(decodeFrame(encodeFrame(f)));
    assert.deepEqual(asm.points(), pts);
  });

  it('refuse replayed, out-of-order, foreign, wrong-kind, mis-sized and malformed frames', () => {
    const frames = toFrames(job, 'query', pts, 3);
    const [f0, f1, f2] = frames as [(typeof frames)[0], (typeof frames)[0], (typeof frames)[0]];
    const asm = new FrameAssembler(job, 'query', 10);
    asm.add(f0);
    assert.throws(() => asm.add(f0), codeOf(PrivacyCodes.REPLAYED));
    assert.throws(() => asm.add(f2), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => asm.add({ ...f1, job: new Uint8Array(32) }), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => asm.add({ ...f1, kind: 'reply' }), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => asm.add({ ...f1, total: 11 }), codeOf(PrivacyCodes.SIZE_MISMATCH));
    assert.throws(() => asm.points(), codeOf(PrivacyCodes.SIZE_MISMATCH));
    const bytes = encodeFrame(f1);
    assert.throws(() => decodeFrame(bytes.subarray(0, bytes.length - 1)), codeOf(PrivacyCodes.BAD_MESSAGE));
    assert.throws(() => decodeFrame(new Uint8Array(10)), codeOf(PrivacyCodes.BAD_MESSAGE));
    const bad = bytes.slice();
    bad[0] = 0;
    assert.throws(() => decodeFrame(bad), codeOf(PrivacyCodes.BAD_MESSAGE));
  });
});
