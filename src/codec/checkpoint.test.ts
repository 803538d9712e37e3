// Checkpoints: a pinned known-answer vector for the signed body (bytes, SHA-256 and SM3
// digests) and for the full signed encoding, a real signature over the digest, round trips,
// and the decoder's refusals (random bytes, truncation, mutation, limits, trailing bytes).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getSuite } from '../crypto/suites.js';
import { CredenceError } from '../util/errors.js';
import { Writer } from './binary.js';
import { type Checkpoint, type CheckpointBody, checkpointDigest, decodeCheckpoint, encodeCheckpoint, encodeCheckpointBody } from './checkpoint.js';
import { TX_LIMITS } from './tx.js';
import { fromHex, hex, isCode } from '../../test/fixtures.js';

const sha256 = getSuite('default').hash;
const sm3 = getSuite('gm').hash;
const SEED = 31337;

const VECTOR_BODY: CheckpointBody = {
  chainId: 'credence-test',
  height: 7,
  blockHash: new Uint8Array(32).fill(0x33),
  stateRoot: new Uint8Array(32).fill(0x44),
};

// Body layout (the signed part; big-endian):
//   03                                   tag CHECKPOINT
//   0000000d 63726564656e63652d74657374  chainId "credence-test" (u32 length + UTF-8)
//   0000000000000007                     height 7 (u64)
//   33 x 32                              blockHash (raw)
//   44 x 32                              stateRoot (raw)
const VECTOR_BODY_HEX = '03' + '0000000d63726564656e63652d74657374' + '0000000000000007' + '33'.repeat(32) + '44'.repeat(32);
const VECTOR_BODY_SHA256 = '4ce9391c924a154dfd4ff6b561172e3ad8b373dc2f6de8b6e96c6f7061f3cb8d';
const VECTOR_BODY_SM3 = 'e6b5bb546f86f93fe2794b0eb15cd628af77510b032fce5a2f6d1be1083fc5f0';

// Full encoding: u32 body length (0x5a = 90) + body | u32 length + signer | u32 length + signature.
const VECTOR_CHECKPOINT: Checkpoint = { ...VECTOR_BODY, signer: new Uint8Array(32).fill(0x55), signature: new Uint8Array(64).fill(0x66) };
const VECTOR_CHECKPOINT_HEX = `0000005a${VECTOR_BODY_HEX}00000020${'55'.repeat(32)}00000040${'66'.repeat(64)}`;

describe('checkpoint known-answer vector', () => {
  it('body encodes to the pinned bytes and digests', () => {
    assert.equal(hex(encodeCheckpointBody(VECTOR_BODY)), VECTOR_BODY_HEX);
    assert.equal(hex(checkpointDigest(sha256, VECTOR_BODY)), VECTOR_BODY_SHA256);
    assert.equal(hex(checkpointDigest(sm3, VECTOR_BODY)), VECTOR_BODY_SM3);
  });

  it('the signed checkpoint encodes to the pinned bytes and decodes back', () => {
    assert.equal(hex(encodeCheckpoint(VECTOR_CHECKPOINT)), VECTOR_CHECKPOINT_HEX);
    assert.deepEqual(decodeCheckpoint(fromHex(VECTOR_CHECKPOINT_HEX)), VECTOR_CHECKPOINT);
  });

  it('the digest ignores signer and signature, and a real signature over it verifies', async () => {
    const suite = getSuite('default');
    const key = suite.generateSigningKey();
    const digest = checkpointDigest(sha256, VECTOR_BODY);
    const signature = await suite.signerFromPem(key.privateKeyPem).sign(digest);
    const cp = decodeCheckpoint(encodeCheckpoint({ ...VECTOR_BODY, signer: key.publicKey, signature }));
    assert.deepEqual(checkpointDigest(sha256, cp), digest);
    assert.equal(suite.verify(cp.signer, checkpointDigest(sha256, cp), cp.signature), true);
    assert.equal(suite.verify(cp.signer, checkpointDigest(sha256, { ...cp, height: 8 }), cp.signature), false);
  });
});

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const checkpointArb: fc.Arbitrary<Checkpoint> = fc.record(
  {
    chainId: fc.string({ maxLength: 64 }),
    height: fc.maxSafeNat(),
    blockHash: hash32,
    stateRoot: hash32,
    signer: fc.uint8Array({ maxLength: TX_LIMITS.publicKeyBytesMax }),
    signature: fc.uint8Array({ maxLength: TX_LIMITS.signatureBytesMax }),
  },
  { noNullPrototype: true },
);

describe('checkpoint codec', () => {
  it('decodeCheckpoint(encodeCheckpoint(c)) = c', () => {
    fc.assert(
      fc.property(checkpointArb, (c) => assert.deepEqual(decodeCheckpoint(encodeCheckpoint(c)), c)),
      { numRuns: 300, seed: SEED },
    );
  });

  it('random bytes, truncations and mutations: only MALFORMED or TOO_LARGE, or an exact re-encoding', () => {
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(checkpointArb, fc.nat()).map(([c, n]) => {
        const b = encodeCheckpoint(c);
        return b.subarray(0, n % b.byteLength);
      }),
      fc.tuple(checkpointArb, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([c, at, v]) => {
        const m = encodeCheckpoint(c).slice();
        m[at % m.byteLength] = v;
        return m;
      }),
    );
    fc.assert(
      fc.property(inputs, (b) => {
        let c: Checkpoint;
        try {
          c = decodeCheckpoint(b);
        } catch (e) {
          assert.ok(e instanceof CredenceError && (e.code === 'MALFORMED' || e.code === 'TOO_LARGE'), `unexpected ${String(e)}`);
          return;
        }
        assert.deepEqual(encodeCheckpoint(c), b);
      }),
      { numRuns: 1500, seed: SEED },
    );
    const valid = fromHex(VECTOR_CHECKPOINT_HEX);
    for (let n = 0; n < valid.byteLength; n++) assert.throws(() => decodeCheckpoint(valid.subarray(0, n)), isCode('MALFORMED'));
  });

  it('trailing bytes after the checkpoint or inside the body are MALFORMED; a wrong tag is MALFORMED', () => {
    assert.throws(() => decodeCheckpoint(Uint8Array.of(...fromHex(VECTOR_CHECKPOINT_HEX), 0)), isCode('MALFORMED'));
    const paddedBody = Uint8Array.of(...fromHex(VECTOR_BODY_HEX), 0);
    const w = new Writer().bytes(paddedBody).bytes(VECTOR_CHECKPOINT.signer).bytes(VECTOR_CHECKPOINT.signature);
    assert.throws(() => decodeCheckpoint(w.finish()), isCode('MALFORMED'));
    const wrongTag = fromHex(VECTOR_CHECKPOINT_HEX);
    wrongTag[4] = 0x02; // a header tag where the checkpoint tag belongs
    assert.throws(() => decodeCheckpoint(wrongTag), isCode('MALFORMED'));
  });

  it('a body over 256 bytes, a long chainId, signer or signature are TOO_LARGE', () => {
    assert.throws(() => decodeCheckpoint(new Writer().u32(257).finish()), isCode('TOO_LARGE'));
    const cases: Array<Partial<Checkpoint>> = [
      { chainId: 'c'.repeat(TX_LIMITS.chainIdBytesMax + 1) },
      { signer: new Uint8Array(TX_LIMITS.publicKeyBytesMax + 1) },
      { signature: new Uint8Array(TX_LIMITS.signatureBytesMax + 1) },
    ];
    for (const c of cases) assert.throws(() => decodeCheckpoint(encodeCheckpoint({ ...VECTOR_CHECKPOINT, ...c })), isCode('TOO_LARGE'), Object.keys(c)[0]);
  });
});
