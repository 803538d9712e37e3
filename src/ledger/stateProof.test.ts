import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HashFn } from './merkle.js';
import { type StateProof, emptyBucketHash, stateBucketHash, stateBucketOf, stateKeyBytes, verifyStateProof } from './stateProof.js';

const sha256: HashFn = (d) => new Uint8Array(createHash('sha256').update(d).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** An inner node: H(0x01 || its 16 children). */
const node = (children: Uint8Array[]): Uint8Array => sha256(new Uint8Array([1, ...children.flatMap((c) => [...c])]));

/**
 * Root and path for a state whose only non-empty bucket is `bucket`, holding `bucketHash`,
 * built by hand from the definition: 4 levels of 16-ary nodes over 2^16 buckets.
 */
function loneBucketRoot(bucket: number, bucketHash: Uint8Array): { root: Uint8Array; path: string[] } {
  let acc = bucketHash;
  let empty = sha256(new Uint8Array([3]));
  const path: string[] = [];
  let index = bucket;
  for (let level = 0; level < 4; level++) {
    const children = Array.from({ length: 16 }, (_, c) => (c === index % 16 ? acc : empty));
    for (let c = 0; c < 16; c++) if (c !== index % 16) path.push(hex(empty));
    acc = node(children);
    empty = node(Array.from({ length: 16 }, () => empty));
    index = Math.floor(index / 16);
  }
  return { root: acc, path };
}

/** The bucket index from its definition: FNV-1a-32 of the key bytes, murmur3's fmix32, top 16 bits. */
function bucketOf(kb: Uint8Array): number {
  let h = 0x811c9dc5n;
  for (const b of kb) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  h = ((h ^ (h >> 16n)) * 0x85ebca6bn) & 0xffffffffn;
  h = ((h ^ (h >> 13n)) * 0xc2b2ae35n) & 0xffffffffn;
  return Number((h ^ (h >> 16n)) >> 16n);
}

/** Root and proof for a state holding only `key = value`. */
function singleKeyState(key: string, value: Uint8Array): { root: Uint8Array; proof: StateProof } {
  const kb = Buffer.from(key, 'utf8');
  const bucket = bucketOf(kb);
  const { root, path } = loneBucketRoot(bucket, sha256(new Uint8Array([3, kb.length >> 8, kb.length & 255, ...kb, ...sha256(value)])));
  return { root, proof: { key, bucket, leaves: [{ key, valueHash: hex(sha256(value)) }], path } };
}

describe('stateProof', () => {
  it('the hashing helpers follow the documented layout', () => {
    const kb = stateKeyBytes('consent/42') as Buffer;
    assert.equal(stateBucketOf(kb), bucketOf(kb));
    // Known answers (FNV-1a-32 of "a" is 0xe40c292c; of "" 0x811c9dc5), after the mix, top 16 bits.
    assert.equal(stateBucketOf(Buffer.from('a')), 6784);
    assert.equal(stateBucketOf(Buffer.from('consent/42')), 30364);
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (b) => stateBucketOf(b) === bucketOf(b)));
    const vh = sha256(new Uint8Array([9]));
    const k2 = stateKeyBytes('consent/43') as Buffer;
    const h2 = sha256(new Uint8Array([8]));
    assert.equal(hex(emptyBucketHash(sha256)), hex(sha256(new Uint8Array([3]))));
    assert.equal(hex(stateBucketHash(sha256, [])), hex(sha256(new Uint8Array([3]))));
    assert.equal(
      hex(
        stateBucketHash(sha256, [
          { keyBytes: kb, valueHash: vh },
          { keyBytes: k2, valueHash: h2 },
        ]),
      ),
      hex(sha256(new Uint8Array([3, 0, kb.length, ...kb, ...vh, 0, k2.length, ...k2, ...h2]))),
    );
  });

  it('a hand-built single-key state verifies for its value, and absence of other keys does not', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 50 }), (key, value) => {
        fc.pre(stateKeyBytes(key) !== undefined);
        const { root, proof } = singleKeyState(key, value);
        assert.ok(verifyStateProof(sha256, root, key, value, proof));
        assert.equal(verifyStateProof(sha256, root, key, undefined, proof), false);
        assert.equal(verifyStateProof(sha256, root, key, new Uint8Array([...value, 0]), proof), false);
      }),
    );
  });

  it('absence in an empty bucket verifies against the empty state', () => {
    const key = 'nobody';
    const kb = stateKeyBytes(key) as Buffer;
    const bucket = stateBucketOf(kb);
    const { root: e, path } = loneBucketRoot(bucket, sha256(new Uint8Array([3])));
    const proof: StateProof = { key, bucket, leaves: [], path };
    assert.ok(verifyStateProof(sha256, e, key, undefined, proof));
    assert.equal(verifyStateProof(sha256, e, key, new Uint8Array(), proof), false);
  });

  it('never throws on malformed proofs', () => {
    const { root, proof } = singleKeyState('k', new Uint8Array([1]));
    const value = new Uint8Array([1]);
    const bad: unknown[] = [
      null,
      42,
      {},
      { ...proof, key: 'other' },
      { ...proof, bucket: -1 },
      { ...proof, bucket: 1.5 },
      { ...proof, bucket: '1' },
      { ...proof, leaves: null },
      { ...proof, leaves: [null] },
      { ...proof, leaves: [{ key: 'k', valueHash: 'zz' }] },
      { ...proof, leaves: [{ key: 'k', valueHash: (proof.leaves[0]?.valueHash ?? '').toUpperCase() }] },
      { ...proof, leaves: [{ key: 5, valueHash: proof.leaves[0]?.valueHash }] },
      { ...proof, path: proof.path.slice(0, 59) },
      { ...proof, path: [...proof.path.slice(0, 59), 'abc'] },
      { ...proof, path: [...proof.path, proof.path[0]] },
      { ...proof, path: 'nope' },
    ];
    for (const p of bad) assert.equal(verifyStateProof(sha256, root, 'k', value, p as StateProof), false);
    assert.equal(verifyStateProof(sha256, root.subarray(1), 'k', value, proof), false);
    assert.equal(verifyStateProof(sha256, root, 'k', 'x' as unknown as Uint8Array, proof), false);
    assert.equal(verifyStateProof(sha256, root, '', value, { ...proof, key: '' }), false);
    assert.ok(verifyStateProof(sha256, root, 'k', value, proof));
  });

  it('rejects keys that are not well-formed', () => {
    for (const k of ['', 'a\u0000b', '\uD800', 'x\uDC00', 'x'.repeat(257), 'é'.repeat(129)]) {
      assert.equal(stateKeyBytes(k), undefined, JSON.stringify(k));
    }
    for (const k of ['a', '\u{1F600}', 'x'.repeat(256), 'é'.repeat(128)]) assert.ok(stateKeyBytes(k));
  });
});
