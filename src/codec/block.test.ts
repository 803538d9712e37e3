// Block headers, blocks and tx results: pinned known-answer vectors (header bytes and its
// SHA-256/SM3 hashes, a block's digest, a result's bytes), round trips as properties, and the
// decoders' refusals under random bytes, truncation, mutation and oversized length prefixes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getSuite } from '../crypto/suites.js';
import { CredenceError } from '../util/errors.js';
import { Writer } from './binary.js';
import {
  BLOCK_LIMITS,
  type Block,
  type BlockHeader,
  type TxResult,
  decodeBlock,
  decodeHeader,
  decodeResult,
  encodeBlock,
  encodeHeader,
  encodeResult,
  headerHash,
} from './block.js';
import { canonicalJsonBytes, type JsonValue } from './canonicalJson.js';
import { TX_LIMITS, type Tx, encodeTx } from './tx.js';
import { fromHex, hex, isCode } from '../../test/fixtures.js';

const sha256 = getSuite('default').hash;
const sm3 = getSuite('gm').hash;
const SEED = 77;

// ---- known-answer vectors --------------------------------------------------------------------

const VECTOR_HEADER: BlockHeader = {
  chainId: 'credence-test',
  height: 7,
  prevHash: new Uint8Array(32).fill(0xaa),
  time: 1763700000123,
  txCount: 1,
  txRoot: new Uint8Array(32).fill(0xbb),
  stateRoot: new Uint8Array(32).fill(0xcc),
  resultsRoot: new Uint8Array(32).fill(0xdd),
};

// Layout (big-endian; hashes are raw 32 bytes with no prefix):
//   02                                   tag HEADER
//   0000000d 63726564656e63652d74657374  chainId "credence-test" (u32 length + UTF-8)
//   0000000000000007                     height 7 (u64)
//   aa x 32                              prevHash
//   0000019aa4b6457b                     time 1763700000123 (u64)
//   00000001                             txCount 1 (u32)
//   bb x 32 | cc x 32 | dd x 32          txRoot | stateRoot | resultsRoot
const VECTOR_HEADER_HEX =
  '02' +
  '0000000d63726564656e63652d74657374' +
  '0000000000000007' +
  'aa'.repeat(32) +
  '0000019aa4b6457b' +
  '00000001' +
  'bb'.repeat(32) +
  'cc'.repeat(32) +
  'dd'.repeat(32);
const VECTOR_HEADER_SHA256 = 'e5b346f037102735831e4e5f255887d13f945dc32bc6a30a1477b6c3c69e9654';
const VECTOR_HEADER_SM3 = '087ed344f49854bd665ecbed53375b2f38fb2dd06310ec1daa723e4fe7f3f65d';

// The tx of tx.test.ts's vector, as the block's only transaction.
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
// Block layout: u32 header length (0xa6 = 166) + header | u32 tx count | per tx: u32 length + bytes.
const VECTOR_BLOCK_SHA256 = '0b7d81ab31b252c900fe00cd7c63f4933324765b6f87213cfbfbdbc9483c93b2';

// Result layout: code (u32 length + UTF-8) | u32 event count | per event: contract, name (strings),
// data (u32 length + canonical JSON) | value (u32 length + canonical JSON).
const VECTOR_RESULT: TxResult = { code: 'OK', events: [{ contract: 'kv', name: 'put', data: { key: 'k' } }], value: { a: 1 } };
const VECTOR_RESULT_HEX =
  '000000024f4b' + // "OK"
  '00000001' + // one event
  '000000026b76' + // "kv"
  '00000003707574' + // "put"
  '0000000b7b226b6579223a226b227d' + // {"key":"k"}
  '000000077b2261223a317d'; // {"a":1}

describe('header, block and result known-answer vectors', () => {
  it('header encodes to the pinned bytes and hashes', () => {
    assert.equal(hex(encodeHeader(VECTOR_HEADER)), VECTOR_HEADER_HEX);
    assert.equal(encodeHeader(VECTOR_HEADER).byteLength, 166);
    assert.equal(hex(headerHash(sha256, VECTOR_HEADER)), VECTOR_HEADER_SHA256);
    assert.equal(hex(headerHash(sm3, VECTOR_HEADER)), VECTOR_HEADER_SM3);
    assert.deepEqual(decodeHeader(fromHex(VECTOR_HEADER_HEX)), VECTOR_HEADER);
  });

  it('block encodes as length-prefixed header, count, length-prefixed txs, with the pinned digest', () => {
    const txBytes = encodeTx(VECTOR_TX);
    const enc = encodeBlock({ header: VECTOR_HEADER, txs: [txBytes] });
    assert.equal(hex(enc), `000000a6${VECTOR_HEADER_HEX}00000001000000b0${hex(txBytes)}`);
    assert.equal(hex(sha256(enc)), VECTOR_BLOCK_SHA256);
    const back = decodeBlock(enc);
    assert.deepEqual(back.header, VECTOR_HEADER);
    assert.deepEqual(back.txs, [txBytes]);
  });

  it('result encodes to the pinned bytes', () => {
    assert.equal(hex(encodeResult(VECTOR_RESULT)), VECTOR_RESULT_HEX);
    assert.deepEqual(decodeResult(fromHex(VECTOR_RESULT_HEX)), VECTOR_RESULT);
  });
});

// ---- generators ------------------------------------------------------------------------------

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const headerArb: fc.Arbitrary<BlockHeader> = fc.record(
  {
    chainId: fc.string({ maxLength: 64 }),
    height: fc.maxSafeNat(),
    prevHash: hash32,
    time: fc.maxSafeNat(),
    txCount: fc.constant(0),
    txRoot: hash32,
    stateRoot: hash32,
    resultsRoot: hash32,
  },
  { noNullPrototype: true },
);
const blockArb: fc.Arbitrary<Block> = fc
  .tuple(headerArb, fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }))
  .map(([header, txs]) => ({ header: { ...header, txCount: txs.length }, txs }));
const smallJson: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.boolean(), { maxKeys: 3, noNullPrototype: true }),
);
const nameArb = fc.string({ maxLength: 16 });
const resultArb: fc.Arbitrary<TxResult> = fc.record(
  {
    code: fc.string({ maxLength: 20 }),
    events: fc.array(fc.record({ contract: nameArb, name: nameArb, data: smallJson }, { noNullPrototype: true }), { maxLength: 4 }),
    value: smallJson,
  },
  { noNullPrototype: true },
);

/** Decoding either succeeds or fails with MALFORMED/TOO_LARGE; never another exception. */
function onlyCodes(decode: (b: Uint8Array) => unknown, b: Uint8Array): void {
  try {
    decode(b);
  } catch (e) {
    assert.ok(e instanceof CredenceError && (e.code === 'MALFORMED' || e.code === 'TOO_LARGE'), `unexpected ${String(e)}`);
  }
}

function mutations(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, b.byteLength === 0 ? 0 : n % b.byteLength)),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
      const m = b.slice();
      if (m.byteLength > 0) m[at % m.byteLength] = v;
      return m;
    }),
  );
}

// ---- properties ------------------------------------------------------------------------------

describe('round trips', () => {
  it('decodeHeader(encodeHeader(h)) = h', () => {
    fc.assert(
      fc.property(headerArb, fc.integer({ min: 0, max: 0xffffffff }), (h, txCount) => {
        const full = { ...h, txCount };
        assert.deepEqual(decodeHeader(encodeHeader(full)), full);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('decodeBlock(encodeBlock(b)) = b', () => {
    fc.assert(
      fc.property(blockArb, (b) => {
        const back = decodeBlock(encodeBlock(b));
        assert.deepEqual(back.header, b.header);
        assert.deepEqual(back.txs, b.txs);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('decodeResult(encodeResult(r)) = r', () => {
    fc.assert(
      fc.property(resultArb, (r) => assert.deepEqual(decodeResult(encodeResult(r)), r)),
      { numRuns: 300, seed: SEED },
    );
  });
});

// ---- refusals --------------------------------------------------------------------------------

describe('header decoder refusals', () => {
  const valid = fromHex(VECTOR_HEADER_HEX);

  it('random bytes, truncations and mutations: only MALFORMED or TOO_LARGE', () => {
    fc.assert(
      fc.property(mutations(headerArb.map(encodeHeader)), (b) => onlyCodes(decodeHeader, b)),
      { numRuns: 1000, seed: SEED },
    );
    for (let n = 0; n < valid.byteLength; n++) assert.throws(() => decodeHeader(valid.subarray(0, n)), isCode('MALFORMED'));
  });

  it('wrong tag and trailing bytes are MALFORMED; an over-long chainId is TOO_LARGE', () => {
    const m = valid.slice();
    m[0] = 0x01;
    assert.throws(() => decodeHeader(m), isCode('MALFORMED'));
    assert.throws(() => decodeHeader(Uint8Array.of(...valid, 0)), isCode('MALFORMED'));
    assert.throws(() => decodeHeader(encodeHeader({ ...VECTOR_HEADER, chainId: 'c'.repeat(TX_LIMITS.chainIdBytesMax + 1) })), isCode('TOO_LARGE'));
  });
});

describe('block decoder refusals', () => {
  const txBytes = encodeTx(VECTOR_TX);
  const valid = encodeBlock({ header: VECTOR_HEADER, txs: [txBytes] });

  it('random bytes, truncations and mutations: only MALFORMED or TOO_LARGE', () => {
    fc.assert(
      fc.property(mutations(blockArb.map(encodeBlock)), (b) => onlyCodes(decodeBlock, b)),
      { numRuns: 1000, seed: SEED },
    );
    for (let n = 0; n < valid.byteLength; n++) assert.throws(() => decodeBlock(valid.subarray(0, n)), isCode('MALFORMED'));
  });

  it('a tx count that disagrees with the header is MALFORMED; trailing bytes are MALFORMED', () => {
    assert.throws(() => decodeBlock(encodeBlock({ header: { ...VECTOR_HEADER, txCount: 2 }, txs: [txBytes] })), isCode('MALFORMED'));
    assert.throws(() => decodeBlock(Uint8Array.of(...valid, 0)), isCode('MALFORMED'));
  });

  it('a header slot over 1024 bytes, a tx over txBytesMax or too many txs are TOO_LARGE', () => {
    assert.throws(() => decodeBlock(new Writer().u32(1025).finish()), isCode('TOO_LARGE'));
    const hdr = encodeHeader(VECTOR_HEADER);
    assert.throws(
      () =>
        decodeBlock(
          new Writer()
            .bytes(hdr)
            .u32(1)
            .u32(TX_LIMITS.txBytesMax + 1)
            .finish(),
        ),
      isCode('TOO_LARGE'),
    );
    const many = encodeHeader({ ...VECTOR_HEADER, txCount: BLOCK_LIMITS.txCountMax + 1 });
    assert.throws(
      () =>
        decodeBlock(
          new Writer()
            .bytes(many)
            .u32(BLOCK_LIMITS.txCountMax + 1)
            .finish(),
        ),
      isCode('TOO_LARGE'),
    );
    assert.throws(() => decodeBlock(new Uint8Array(BLOCK_LIMITS.blockBytesMax + 1)), isCode('TOO_LARGE'));
  });
});

describe('result decoder refusals', () => {
  it('random bytes, truncations and mutations: only MALFORMED or TOO_LARGE', () => {
    fc.assert(
      fc.property(mutations(resultArb.map(encodeResult)), (b) => onlyCodes(decodeResult, b)),
      { numRuns: 1000, seed: SEED },
    );
    const valid = fromHex(VECTOR_RESULT_HEX);
    for (let n = 0; n < valid.byteLength; n++) assert.throws(() => decodeResult(valid.subarray(0, n)), isCode('MALFORMED'));
    assert.throws(() => decodeResult(Uint8Array.of(...valid, 0)), isCode('MALFORMED'));
  });

  it('limits: code length, event count, event data and value sizes are TOO_LARGE', () => {
    const ev = { contract: 'c', name: 'n', data: null };
    assert.throws(() => decodeResult(encodeResult({ code: 'X'.repeat(BLOCK_LIMITS.codeBytesMax + 1), events: [], value: null })), isCode('TOO_LARGE'));
    const events = Array.from({ length: BLOCK_LIMITS.eventsPerTxMax + 1 }, () => ev);
    assert.throws(() => decodeResult(encodeResult({ code: 'OK', events, value: null })), isCode('TOO_LARGE'));
    assert.equal(decodeResult(encodeResult({ code: 'OK', events: events.slice(1), value: null })).events.length, BLOCK_LIMITS.eventsPerTxMax);
    const bigData = 'x'.repeat(BLOCK_LIMITS.eventBytesMax);
    assert.throws(() => decodeResult(encodeResult({ code: 'OK', events: [{ ...ev, data: bigData }], value: null })), isCode('TOO_LARGE'));
    assert.throws(() => decodeResult(encodeResult({ code: 'OK', events: [], value: 'x'.repeat(TX_LIMITS.argsBytesMax) })), isCode('TOO_LARGE'));
  });

  it('non-canonical event data or value is MALFORMED', () => {
    const w = new Writer()
      .str('OK')
      .u32(1)
      .str('c')
      .str('n')
      .bytes(new Uint8Array(Buffer.from('{"b":1,"a":2}')))
      .bytes(new Uint8Array(Buffer.from('null')));
    assert.throws(() => decodeResult(w.finish()), isCode('MALFORMED'));
    const v = new Writer()
      .str('OK')
      .u32(0)
      .bytes(new Uint8Array(Buffer.from('1.5')));
    assert.throws(() => decodeResult(v.finish()), isCode('MALFORMED'));
  });
});
