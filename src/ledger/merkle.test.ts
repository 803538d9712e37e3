import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getSuite } from '../crypto/suites.js';
import {
  auditPathLength,
  type HashFn,
  type MerkleProof,
  merkleLeafHash,
  merkleNodeHash,
  merkleProof,
  merkleProofOfLeafHashes,
  merkleRoot,
  merkleRootInto,
  merkleRootPacked,
  merkleRootOfLeafHashes,
  verifyMerkleProof,
  verifyMerkleProofOfLeafHash,
} from './merkle.js';

const sha256: HashFn = (d) => new Uint8Array(createHash('sha256').update(d).digest());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

// Certificate Transparency reference tree (RFC 6962 test data, as used by Trillian and
// certificate-transparency-go): the leaves and the root after each prefix of them.
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// Audit paths from the same reference (0-based index, tree size, path bottom-up).
const CT_PATHS: { index: number; size: number; path: string[] }[] = [
  {
    index: 0,
    size: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    path: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

/** RFC 6962 MTH written straight from the definition, as the oracle. */
function referenceRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const n = leaves.length;
  if (n === 0) return sha256(new Uint8Array(0));
  if (n === 1) return merkleLeafHash(sha256, leaves[0] as Uint8Array);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return merkleNodeHash(sha256, referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** Which side each audit-path sibling sits on, bottom-up ("L"/"R"). */
function pathShape(index: number, size: number): string {
  let shape = '';
  let i = index;
  let last = size - 1;
  while (last > 0) {
    if (i % 2 === 1) shape += 'L';
    else if (i < last) shape += 'R';
    i = Math.floor(i / 2);
    last = Math.floor(last / 2);
  }
  return shape;
}

describe('merkle: RFC 6962 known answers', () => {
  it('roots of every prefix of the CT reference leaves', () => {
    for (let n = 0; n <= CT_LEAVES.length; n++) {
      assert.equal(hex(merkleRoot(sha256, CT_LEAVES.slice(0, n))), CT_ROOTS[n], `root of ${n} leaves`);
    }
  });

  it('audit paths match the CT reference and verify', () => {
    for (const v of CT_PATHS) {
      const leaves = CT_LEAVES.slice(0, v.size);
      const proof = merkleProof(sha256, leaves, v.index);
      assert.deepEqual(proof.path.map(hex), v.path);
      assert.equal(proof.path.length, auditPathLength(v.index, v.size));
      const root = unhex(CT_ROOTS[v.size] as string);
      assert.ok(verifyMerkleProof(sha256, root, leaves[v.index] as Uint8Array, proof));
    }
  });

  it('merkleRootOfLeafHashes takes H(0x00||leaf) values and does not hash them again', () => {
    const leafHashes = CT_LEAVES.map((l) => merkleLeafHash(sha256, l));
    assert.equal(hex(merkleRootOfLeafHashes(sha256, leafHashes)), CT_ROOTS[8]);
    assert.equal(hex(merkleRootOfLeafHashes(sha256, [])), CT_ROOTS[0]);
    // The input array is left untouched (the level is computed on a copy).
    assert.equal(hex(leafHashes[0] as Uint8Array), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    const p = merkleProofOfLeafHashes(sha256, leafHashes, 6);
    assert.ok(verifyMerkleProofOfLeafHash(sha256, unhex(CT_ROOTS[8] as string), leafHashes[6] as Uint8Array, p));
  });

  it('a leaf that looks like an interior node does not collide with it (domain separation)', () => {
    const a = merkleLeafHash(sha256, unhex('00'));
    const b = merkleLeafHash(sha256, unhex('10'));
    const forged = new Uint8Array([...a, ...b]);
    assert.notEqual(hex(merkleRoot(sha256, [forged])), hex(merkleRoot(sha256, [unhex('00'), unhex('10')])));
  });

  it('rejects out-of-range proof indices with MALFORMED', () => {
    assert.throws(() => merkleProof(sha256, CT_LEAVES, 8), { code: 'MALFORMED' });
    assert.throws(() => merkleProof(sha256, [], 0), { code: 'MALFORMED' });
    assert.throws(() => merkleProof(sha256, CT_LEAVES, -1), { code: 'MALFORMED' });
  });

  it('verify never throws on garbage', () => {
    const root = unhex(CT_ROOTS[8] as string);
    const leaf = CT_LEAVES[0] as Uint8Array;
    const bad: unknown[] = [
      null,
      undefined,
      {},
      { index: 0, size: 8 },
      { index: 0, size: 8, path: null },
      { index: 0, size: 8, path: [1, 2, 3] },
      { index: 0.5, size: 8, path: [] },
      { index: 0, size: Number.NaN, path: [] },
      { index: 8, size: 8, path: [] },
      { index: 0, size: 0, path: [] },
      { index: 0, size: 8, path: [new Uint8Array(31), new Uint8Array(32), new Uint8Array(32)] },
    ];
    for (const p of bad) assert.equal(verifyMerkleProof(sha256, root, leaf, p as MerkleProof), false);
    const good = merkleProof(sha256, CT_LEAVES, 0);
    assert.equal(verifyMerkleProof(sha256, new Uint8Array(31), leaf, good), false);
    assert.equal(verifyMerkleProof(sha256, root, 'x' as unknown as Uint8Array, good), false);
  });
});

describe('merkle: properties', () => {
  const leavesArb = fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 70 });

  it('the root equals the RFC 6962 recursive definition', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 70 }), (leaves) => {
        assert.equal(hex(merkleRoot(sha256, leaves)), hex(referenceRoot(leaves)));
      }),
    );
  });

  it('merkleRootInto gives the CT roots and the recursive definition, with either suite', () => {
    const into = (d: Uint8Array, out: Uint8Array, at: number) => out.set(sha256(d), at);
    for (let n = 0; n <= CT_LEAVES.length; n++) assert.equal(hex(merkleRootInto(into, CT_LEAVES.slice(0, n))), CT_ROOTS[n], `root of ${n} leaves`);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 70 }), (leaves) => {
        assert.equal(hex(merkleRootInto(into, leaves)), hex(referenceRoot(leaves)));
        for (const s of [getSuite('default'), getSuite('gm')]) assert.equal(hex(merkleRootInto(s.hashInto, leaves)), hex(merkleRoot(s.hash, leaves)));
      }),
    );
  });

  it("the packed root of 32-byte leaves equals merkleRoot (the suites' hashInto)", () => {
    const into = (d: Uint8Array, out: Uint8Array, at: number) => out.set(sha256(d), at);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer(), (count, seed) => {
        const leaves = Array.from({ length: count }, (_, i) => sha256(new Uint8Array([seed & 255, i & 255, i >> 8])));
        const packed = new Uint8Array(32 * count);
        leaves.forEach((l, i) => {
          packed.set(l, 32 * i);
        });
        assert.equal(hex(merkleRootPacked(into, packed, count)), hex(merkleRoot(sha256, leaves)));
        for (const s of [getSuite('default'), getSuite('gm')]) assert.equal(hex(merkleRootPacked(s.hashInto, packed, count)), hex(merkleRoot(s.hash, leaves)));
      }),
      { numRuns: 60 },
    );
  });

  it('every proof of every index verifies', () => {
    fc.assert(
      fc.property(leavesArb, (leaves) => {
        const root = merkleRoot(sha256, leaves);
        for (let i = 0; i < leaves.length; i++) {
          const p = merkleProof(sha256, leaves, i);
          assert.equal(p.path.length, auditPathLength(i, leaves.length));
          assert.ok(verifyMerkleProof(sha256, root, leaves[i] as Uint8Array, p));
        }
      }),
    );
  });

  it('an altered leaf, index, size or path element fails', () => {
    fc.assert(
      fc.property(
        leavesArb.chain((leaves) => fc.tuple(fc.constant(leaves), fc.nat(leaves.length - 1), fc.nat(), fc.nat(255))),
        ([leaves, i, pick, delta]) => {
          const root = merkleRoot(sha256, leaves);
          const leaf = leaves[i] as Uint8Array;
          const p = merkleProof(sha256, leaves, i);
          // Altered leaf: flip one bit, or append a byte.
          if (leaf.length > 0) {
            const l2 = leaf.slice();
            l2[pick % l2.length] = (l2[pick % l2.length] as number) ^ (1 << (delta % 8));
            assert.equal(verifyMerkleProof(sha256, root, l2, p), false);
          }
          assert.equal(verifyMerkleProof(sha256, root, new Uint8Array([...leaf, delta]), p), false);
          // Altered index (unless another index holds an identical leaf at an identical position).
          for (const j of [i - 1, i + 1, pick % leaves.length]) {
            if (j === i) continue;
            const ok = verifyMerkleProof(sha256, root, leaf, { ...p, index: j });
            if (ok) assert.equal(hex(leaves[j] as Uint8Array), hex(leaf));
          }
          // Altered size. RFC 6962 roots do not commit to the size: a size whose audit path
          // has the same left/right shape verifies too, which is why the size must come from
          // the signed header (the block's tx count), never from the proof's sender.
          for (const s of [leaves.length - 1, leaves.length + 1, leaves.length * 2, 0]) {
            if (s === leaves.length) continue;
            const ok = verifyMerkleProof(sha256, root, leaf, { ...p, size: s });
            if (i < s && pathShape(i, s) === pathShape(i, leaves.length)) continue;
            assert.equal(ok, false, `size ${s}`);
          }
          // Altered path: flip a bit of one element, drop one, add one.
          if (p.path.length > 0) {
            const k = pick % p.path.length;
            const path = p.path.map((h) => h.slice());
            const e = path[k] as Uint8Array;
            e[delta % 32] = (e[delta % 32] as number) ^ 1;
            assert.equal(verifyMerkleProof(sha256, root, leaf, { ...p, path }), false);
            assert.equal(verifyMerkleProof(sha256, root, leaf, { ...p, path: p.path.slice(1) }), false);
          }
          assert.equal(verifyMerkleProof(sha256, root, leaf, { ...p, path: [...p.path, sha256(leaf)] }), false);
        },
      ),
    );
  });
});

describe('merkle: performance sanity', () => {
  it('10,000 leaves: root and a proof agree', () => {
    const leaves = Array.from({ length: 10_000 }, (_, i) => sha256(new Uint8Array([i & 255, i >> 8])));
    const root = merkleRoot(sha256, leaves);
    const p = merkleProof(sha256, leaves, 9_999);
    assert.ok(verifyMerkleProof(sha256, root, leaves[9_999] as Uint8Array, p));
  });
});
