// Transactions: a pinned known-answer vector (encoding, SHA-256 and SM3 ids) that freezes the
// wire format, round trips of txs and batches, the id ignoring the signature, decoder fuzzing
// (random bytes, truncations, mutations, oversized length prefixes) and the JSON edge form.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getSuite } from '../crypto/suites.js';
import { CredenceError } from '../util/errors.js';
import { Writer } from './binary.js';
import { canonicalJsonBytes, type JsonValue } from './canonicalJson.js';
import { type Tx, TX_LIMITS, decodeTx, decodeTxBatch, encodeTx, encodeTxBatch, encodeUnsignedTx, toDecoded, txDigest, txFromJson, txToJson } from './tx.js';
import { fromHex, hex, isCode } from '../../test/fixtures.js';

const sha256 = getSuite('default').hash;
const sm3 = getSuite('gm').hash;
const SEED = 1763700;

// ---- known-answer vector ---------------------------------------------------------------------

const VECTOR_TX: Tx = {
  chainId: 'credence-test',
  signer: new Uint8Array(32).fill(0x11),
  nonce: 42,
  expiresAt: 1763700000000,
  contract: 'kv',
  method: 'put',
  args: canonicalJsonBytes({ key: 'k', value: 1 }),
  signature: new Uint8Array(64).fill(0x22),
};

// Layout (all integers big-endian; "str"/"bytes" = u32 length prefix + bytes):
//   01                                  tag TX
//   0000000d 63726564656e63652d74657374 chainId "credence-test" (13 bytes)
//   00000020 11 x 32                    signer (32 bytes)
//   000000000000002a                    nonce 42 (u64)
//   0000019aa4b64500                    expiresAt 1763700000000 (u64)
//   00000002 6b76                       contract "kv"
//   00000003 707574                     method "put"
//   00000015 7b226b6579223a226b222c2276616c7565223a317d   args {"key":"k","value":1} (21 bytes)
// -- end of the unsigned encoding (the id is its hash) --
//   00000040 22 x 64                    signature (64 bytes)
const VECTOR_UNSIGNED_HEX =
  '01' +
  '0000000d63726564656e63652d74657374' +
  `00000020${'11'.repeat(32)}` +
  '000000000000002a' +
  '0000019aa4b64500' +
  '000000026b76' +
  '00000003707574' +
  '000000157b226b6579223a226b222c2276616c7565223a317d';
const VECTOR_TX_HEX = `${VECTOR_UNSIGNED_HEX}00000040${'22'.repeat(64)}`;
/** SHA-256 of the unsigned encoding = the tx id on a default-suite chain. */
const VECTOR_ID_SHA256 = 'def9dac1bf6c0608c6d0b1d3e6f289b8ed4c04a63fa79fd04545be17f6d1f6bd';
/** SM3 of the unsigned encoding = the tx id on a gm-suite chain. */
const VECTOR_ID_SM3 = '06e1031e63c9bb163874a2fcec2b7fc6edb68717f0e0f212c4115b39ca17d2e8';

describe('tx known-answer vector', () => {
  it('encodes to the pinned bytes', () => {
    assert.equal(hex(encodeUnsignedTx(VECTOR_TX)), VECTOR_UNSIGNED_HEX);
    assert.equal(hex(encodeTx(VECTOR_TX)), VECTOR_TX_HEX);
    assert.equal(encodeTx(VECTOR_TX).byteLength, 176);
  });

  it('has the pinned SHA-256 and SM3 ids', () => {
    assert.equal(hex(txDigest(sha256, VECTOR_TX)), VECTOR_ID_SHA256);
    assert.equal(hex(txDigest(sm3, VECTOR_TX)), VECTOR_ID_SM3);
    // The default suite's hash is plain SHA-256.
    assert.equal(createHash('sha256').update(fromHex(VECTOR_UNSIGNED_HEX)).digest('hex'), VECTOR_ID_SHA256);
  });

  it('decodes the pinned bytes back to the same fields and id', () => {
    const d = decodeTx(sha256, fromHex(VECTOR_TX_HEX));
    assert.deepEqual({ ...d.tx }, VECTOR_TX);
    assert.equal(d.idHex, VECTOR_ID_SHA256);
    assert.equal(hex(d.id), VECTOR_ID_SHA256);
    assert.deepEqual(d.args, { key: 'k', value: 1 });
    assert.equal(decodeTx(sm3, fromHex(VECTOR_TX_HEX)).idHex, VECTOR_ID_SM3);
  });
});

// ---- generators ------------------------------------------------------------------------------

const nameArb = fc.stringMatching(/^[a-z][a-zA-Z0-9_.-]{0,20}$/);
const argsArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -1000, max: 1000 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean()), { maxKeys: 4, noNullPrototype: true }),
);
const txArb: fc.Arbitrary<Tx> = fc.record(
  {
    chainId: fc.string({ unit: 'grapheme', maxLength: 16 }).filter((s) => !s.startsWith('\uFEFF') && Buffer.byteLength(s) <= TX_LIMITS.chainIdBytesMax),
    signer: fc.uint8Array({ maxLength: TX_LIMITS.publicKeyBytesMax }),
    nonce: fc.maxSafeNat(),
    expiresAt: fc.maxSafeNat(),
    contract: nameArb,
    method: nameArb,
    args: argsArb.map(canonicalJsonBytes),
    signature: fc.uint8Array({ maxLength: TX_LIMITS.signatureBytesMax }),
  },
  { noNullPrototype: true },
);

/** Decoding either fails with MALFORMED/TOO_LARGE or yields a tx that re-encodes to the input. */
function checkDecode(bytes: Uint8Array): void {
  let d: ReturnType<typeof decodeTx>;
  try {
    d = decodeTx(sha256, bytes);
  } catch (e) {
    assert.ok(e instanceof CredenceError && (e.code === 'MALFORMED' || e.code === 'TOO_LARGE'), `unexpected ${String(e)}`);
    return;
  }
  assert.deepEqual(encodeTx(d.tx), bytes);
  assert.deepEqual(d.id, txDigest(sha256, d.tx));
}

// ---- properties ------------------------------------------------------------------------------

describe('tx encoding properties', () => {
  it('decode(encode(tx)) = tx, and the id is the hash of the unsigned encoding', () => {
    fc.assert(
      fc.property(txArb, (tx) => {
        const bytes = encodeTx(tx);
        const d = decodeTx(sha256, bytes);
        assert.deepEqual({ ...d.tx }, tx);
        assert.deepEqual(d.bytes, bytes);
        assert.deepEqual(d.id, sha256(encodeUnsignedTx(tx)));
        assert.equal(d.idHex, hex(d.id));
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('the id does not depend on the signature', () => {
    fc.assert(
      fc.property(txArb, fc.uint8Array({ maxLength: 128 }), (tx, other) => {
        const a = decodeTx(sha256, encodeTx(tx));
        const b = decodeTx(sha256, encodeTx({ ...tx, signature: other }));
        assert.equal(a.idHex, b.idHex);
        assert.equal(hex(a.bytes) === hex(b.bytes), hex(tx.signature) === hex(other));
      }),
      { numRuns: 200, seed: SEED },
    );
  });

  it('a real signature over the id verifies, with both suites', async () => {
    for (const suite of [getSuite('default'), getSuite('gm')]) {
      const key = suite.generateSigningKey();
      const signer = suite.signerFromPem(key.privateKeyPem);
      const unsigned = { ...VECTOR_TX, signer: key.publicKey };
      const signature = await signer.sign(txDigest(suite.hash, unsigned));
      const d = toDecoded((b) => suite.hash(b), { ...unsigned, signature });
      assert.equal(suite.verify(d.tx.signer, d.id, d.tx.signature), true, suite.name);
    }
  });

  it('tx batches round-trip', () => {
    fc.assert(
      fc.property(fc.array(txArb.map(encodeTx), { maxLength: 6 }), (txs) => {
        assert.deepEqual(decodeTxBatch(encodeTxBatch(txs), 6), txs);
      }),
      { numRuns: 100, seed: SEED },
    );
  });
});

// ---- decoder refusals ------------------------------------------------------------------------

describe('decodeTx refusals', () => {
  const vector = fromHex(VECTOR_TX_HEX);

  it('random bytes: only MALFORMED or TOO_LARGE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => checkDecode(b)),
      { numRuns: 1000, seed: SEED },
    );
    // Random bytes behind a valid tag, so the fuzz gets past the first byte.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => checkDecode(Uint8Array.of(0x01, ...b))),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('every truncation of a valid encoding is MALFORMED', () => {
    for (let n = 0; n < vector.byteLength; n++) assert.throws(() => decodeTx(sha256, vector.subarray(0, n)), isCode('MALFORMED'), `length ${n}`);
  });

  it('every single-byte mutation of valid encodings is refused with a code or re-encodes exactly', () => {
    for (let i = 0; i < vector.byteLength; i++) {
      for (const v of [0x00, 0x01, 0x7f, 0x80, 0xff, (vector[i] as number) ^ 0x01]) {
        const m = vector.slice();
        m[i] = v;
        checkDecode(m);
      }
    }
    fc.assert(
      fc.property(txArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (tx, at, v) => {
        const m = encodeTx(tx).slice();
        m[at % m.byteLength] = v;
        checkDecode(m);
      }),
      { numRuns: 500, seed: SEED },
    );
  });

  it('trailing bytes are MALFORMED', () => {
    assert.throws(() => decodeTx(sha256, Uint8Array.of(...vector, 0)), isCode('MALFORMED'));
  });

  it('a wrong tag is MALFORMED', () => {
    for (const tag of [0x00, 0x02, 0x03, 0x04, 0xff]) {
      const m = vector.slice();
      m[0] = tag;
      assert.throws(() => decodeTx(sha256, m), isCode('MALFORMED'), `tag ${tag}`);
    }
  });

  it('length prefixes over each field limit are TOO_LARGE', () => {
    const over = {
      chainId: 'c'.repeat(TX_LIMITS.chainIdBytesMax + 1),
      signer: new Uint8Array(TX_LIMITS.publicKeyBytesMax + 1),
      contract: `k${'v'.repeat(TX_LIMITS.nameBytesMax)}`,
      method: `p${'u'.repeat(TX_LIMITS.nameBytesMax)}`,
      args: canonicalJsonBytes('x'.repeat(TX_LIMITS.argsBytesMax)),
      signature: new Uint8Array(TX_LIMITS.signatureBytesMax + 1),
    };
    for (const [field, value] of Object.entries(over)) {
      assert.throws(() => decodeTx(sha256, encodeTx({ ...VECTOR_TX, [field]: value })), isCode('TOO_LARGE'), field);
    }
    // Exactly at the limits is fine.
    const at = {
      ...VECTOR_TX,
      chainId: 'c'.repeat(TX_LIMITS.chainIdBytesMax),
      signer: new Uint8Array(TX_LIMITS.publicKeyBytesMax),
      contract: `k${'v'.repeat(TX_LIMITS.nameBytesMax - 1)}`,
      signature: new Uint8Array(TX_LIMITS.signatureBytesMax),
    };
    assert.equal(decodeTx(sha256, encodeTx(at)).tx.chainId.length, TX_LIMITS.chainIdBytesMax);
    // A huge length prefix is refused without reading (or allocating) anything.
    assert.throws(() => decodeTx(sha256, fromHex('01ffffffff')), isCode('TOO_LARGE'));
  });

  it('a whole tx over txBytesMax is TOO_LARGE', () => {
    assert.throws(() => decodeTx(sha256, new Uint8Array(TX_LIMITS.txBytesMax + 1).fill(1)), isCode('TOO_LARGE'));
  });

  it('names outside [a-z][a-zA-Z0-9_.-]{0,63} and non-canonical args are MALFORMED', () => {
    for (const name of ['', 'Kv', '1kv', '_kv', '__proto__', 'k v', 'kv/put', 'é']) {
      assert.throws(() => decodeTx(sha256, encodeTx({ ...VECTOR_TX, contract: name })), isCode('MALFORMED'), `contract ${name}`);
      assert.throws(() => decodeTx(sha256, encodeTx({ ...VECTOR_TX, method: name })), isCode('MALFORMED'), `method ${name}`);
    }
    for (const args of ['{"value":1, "key":"k"}', '{"value":1,"key":"k"}', '1.5', '', 'nul']) {
      const bytes = new Uint8Array(Buffer.from(args));
      assert.throws(() => decodeTx(sha256, encodeTx({ ...VECTOR_TX, args: bytes })), isCode('MALFORMED'), args);
    }
  });

  it('decoding is injective: a BOM-prefixed chainId does not decode to the plain one', () => {
    const withBom = encodeTx({ ...VECTOR_TX, chainId: '\uFEFFcredence-test' });
    const d = decodeTx(sha256, withBom);
    // Observed: d.tx.chainId === 'credence-test' while d.idHex !== VECTOR_ID_SHA256, so the
    // decoded tx does not re-encode to its bytes and txDigest(d.tx) !== d.id.
    assert.deepEqual(encodeTx(d.tx), withBom);
  });
});

describe('decodeTxBatch refusals', () => {
  const one = fromHex(VECTOR_TX_HEX);

  it('a count over countMax is TOO_LARGE; at countMax it decodes', () => {
    const batch = encodeTxBatch([one, one, one]);
    assert.throws(() => decodeTxBatch(batch, 2), isCode('TOO_LARGE'));
    assert.equal(decodeTxBatch(batch, 3).length, 3);
    assert.throws(() => decodeTxBatch(fromHex('ffffffff'), 1000), isCode('TOO_LARGE'));
  });

  it('an element over txBytesMax is TOO_LARGE; trailing bytes and truncation are MALFORMED', () => {
    const big = new Writer()
      .u32(1)
      .u32(TX_LIMITS.txBytesMax + 1)
      .finish();
    assert.throws(() => decodeTxBatch(big, 10), isCode('TOO_LARGE'));
    const batch = encodeTxBatch([one]);
    assert.throws(() => decodeTxBatch(Uint8Array.of(...batch, 0), 10), isCode('MALFORMED'));
    for (let n = 0; n < batch.byteLength; n++) assert.throws(() => decodeTxBatch(batch.subarray(0, n), 10), isCode('MALFORMED'));
  });

  it('random bytes and mutations: only MALFORMED or TOO_LARGE', () => {
    const batch = encodeTxBatch([one, one]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
            const m = batch.slice();
            m[at % m.byteLength] = v;
            return m;
          }),
        ),
        (b) => {
          try {
            decodeTxBatch(b, 8);
          } catch (e) {
            assert.ok(e instanceof CredenceError && (e.code === 'MALFORMED' || e.code === 'TOO_LARGE'), String(e));
          }
        },
      ),
      { numRuns: 500, seed: SEED },
    );
  });
});

// ---- JSON form -------------------------------------------------------------------------------

describe('txToJson / txFromJson', () => {
  const json = txToJson(VECTOR_TX);

  it('has hex keys, numbers and parsed args, and round-trips to the same bytes', () => {
    assert.deepEqual(json, {
      chainId: 'credence-test',
      signer: '11'.repeat(32),
      nonce: 42,
      expiresAt: 1763700000000,
      contract: 'kv',
      method: 'put',
      args: { key: 'k', value: 1 },
      signature: '22'.repeat(64),
    });
    assert.equal(hex(encodeTx(txFromJson(JSON.parse(JSON.stringify(json))))), VECTOR_TX_HEX);
  });

  it('round-trips random txs', () => {
    fc.assert(
      fc.property(txArb, (tx) => assert.deepEqual(encodeTx(txFromJson(JSON.parse(JSON.stringify(txToJson(tx))))), encodeTx(tx))),
      { numRuns: 200, seed: SEED },
    );
  });

  it('missing args become null', () => {
    const { args: _args, ...rest } = json;
    assert.equal(Buffer.from(txFromJson(rest).args).toString(), 'null');
  });

  it('refuses wrong types, non-lowercase hex, floats and negatives with MALFORMED', () => {
    const cases: Array<[string, unknown]> = [
      ['null', null],
      ['array', [json]],
      ['string', 'tx'],
      ['chainId number', { ...json, chainId: 1 }],
      ['chainId missing', { ...json, chainId: undefined }],
      ['signer uppercase', { ...json, signer: 'AB'.repeat(32) }],
      ['signer 0x', { ...json, signer: `0x${'11'.repeat(32)}` }],
      ['signer odd length', { ...json, signer: '111' }],
      ['signer bytes', { ...json, signer: [1, 2] }],
      ['signature uppercase', { ...json, signature: 'FF'.repeat(64) }],
      ['signature non-hex', { ...json, signature: 'zz' }],
      ['nonce float', { ...json, nonce: 1.5 }],
      ['nonce negative', { ...json, nonce: -1 }],
      ['nonce string', { ...json, nonce: '42' }],
      ['nonce unsafe', { ...json, nonce: 2 ** 53 }],
      ['expiresAt float', { ...json, expiresAt: 1.25 }],
      ['expiresAt negative', { ...json, expiresAt: -5 }],
      ['contract number', { ...json, contract: 7 }],
      ['method null', { ...json, method: null }],
      ['args float', { ...json, args: { value: 1.5 } }],
    ];
    for (const [what, v] of cases) assert.throws(() => txFromJson(v), isCode('MALFORMED'), what);
  });
});
