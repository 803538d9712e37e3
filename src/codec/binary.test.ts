// The canonical binary Writer/Reader: byte layout of each primitive (big-endian u32/u64, u32
// length prefixes), round trips of random field sequences, and the reader's refusals (short
// input, length over a limit, integers beyond 2^53 - 1, invalid UTF-8, trailing bytes).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CredenceError } from '../util/errors.js';
import { Reader, Writer } from './binary.js';
import { hex, isCode } from '../../test/fixtures.js';

const SEED = 20251121;

type Op =
  | { k: 'u8'; v: number }
  | { k: 'u32'; v: number }
  | { k: 'u64'; v: number }
  | { k: 'bytes'; v: Uint8Array }
  | { k: 'raw'; v: Uint8Array }
  | { k: 'str'; v: string };

// Well-formed strings; a leading U+FEFF is excluded here and covered by its own (todo) test.
const wellFormed = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.startsWith('\uFEFF'));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 255 }) }, { noNullPrototype: true }),
  fc.record({ k: fc.constant('u32' as const), v: fc.integer({ min: 0, max: 0xffffffff }) }, { noNullPrototype: true }),
  fc.record({ k: fc.constant('u64' as const), v: fc.maxSafeNat() }, { noNullPrototype: true }),
  fc.record({ k: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 40 }) }, { noNullPrototype: true }),
  fc.record({ k: fc.constant('raw' as const), v: fc.uint8Array({ maxLength: 40 }) }, { noNullPrototype: true }),
  fc.record({ k: fc.constant('str' as const), v: wellFormed }, { noNullPrototype: true }),
);

function writeOps(ops: readonly Op[], initialBytes?: number): Uint8Array {
  const w = new Writer(initialBytes);
  for (const op of ops) {
    if (op.k === 'u8') w.u8(op.v);
    else if (op.k === 'u32') w.u32(op.v);
    else if (op.k === 'u64') w.u64(op.v);
    else if (op.k === 'bytes') w.bytes(op.v);
    else if (op.k === 'raw') w.raw(op.v);
    else w.str(op.v);
  }
  return w.finish();
}

function readOps(r: Reader, ops: readonly Op[]): Op[] {
  return ops.map((op): Op => {
    if (op.k === 'u8') return { k: 'u8', v: r.u8() };
    if (op.k === 'u32') return { k: 'u32', v: r.u32() };
    if (op.k === 'u64') return { k: 'u64', v: r.u64() };
    if (op.k === 'bytes') return { k: 'bytes', v: new Uint8Array(r.bytes(1 << 20)) };
    if (op.k === 'raw') return { k: 'raw', v: new Uint8Array(r.raw(op.v.byteLength)) };
    return { k: 'str', v: r.str(1 << 20) };
  });
}

describe('Writer layout', () => {
  it('u8, u32 and u64 are fixed-width big-endian', () => {
    assert.equal(hex(new Writer().u8(0xab).finish()), 'ab');
    assert.equal(hex(new Writer().u32(0x01020304).finish()), '01020304');
    // 1763700000000 = 0x0000019aa4b64500
    assert.equal(hex(new Writer().u64(1763700000000).finish()), '0000019aa4b64500');
    assert.equal(hex(new Writer().u64(Number.MAX_SAFE_INTEGER).finish()), '001fffffffffffff');
  });

  it('bytes and str carry a u32 length prefix; raw carries none', () => {
    assert.equal(hex(new Writer().bytes(Uint8Array.of(1, 2, 3)).finish()), '00000003010203');
    assert.equal(hex(new Writer().bytes(new Uint8Array(0)).finish()), '00000000');
    assert.equal(hex(new Writer().raw(Uint8Array.of(1, 2, 3)).finish()), '010203');
    // UTF-8, length in bytes not characters: "é" is c3 a9.
    assert.equal(hex(new Writer().str('aé').finish()), '0000000361c3a9');
  });

  it('u64 refuses negative, fractional and unsafe integers with MALFORMED', () => {
    for (const v of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new Writer().u64(v), isCode('MALFORMED'), String(v));
    }
  });

  it('grows past its initial size and finish() returns an independent copy', () => {
    const w = new Writer(1);
    const big = new Uint8Array(1000).fill(7);
    w.u32(5).bytes(big);
    const out = w.finish();
    assert.equal(out.byteLength, 4 + 4 + 1000);
    w.u8(9);
    assert.equal(out.byteLength, 1008);
    assert.equal(w.finish().byteLength, 1009);
  });
});

describe('Reader', () => {
  it('round-trips random field sequences, from any byte offset and initial size', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 64 }), (ops, pad, initial) => {
        const enc = writeOps(ops, initial);
        // Embed in a larger buffer so the reader must honour byteOffset.
        const host = new Uint8Array(pad + enc.byteLength + 3);
        host.set(enc, pad);
        const r = new Reader(host.subarray(pad, pad + enc.byteLength));
        assert.deepEqual(readOps(r, ops), ops);
        assert.equal(r.remaining(), 0);
        r.end();
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('every strict prefix of an encoding is refused with MALFORMED (truncated)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 8 }), fc.nat(), (ops, cut) => {
        const enc = writeOps(ops);
        fc.pre(enc.byteLength > 0);
        const r = new Reader(enc.subarray(0, cut % enc.byteLength));
        assert.throws(() => {
          readOps(r, ops);
          r.end();
        }, isCode('MALFORMED'));
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('u64 above 2^53 - 1 is MALFORMED; 2^53 - 1 itself is read', () => {
    assert.equal(new Reader(Buffer.from('001fffffffffffff', 'hex')).u64(), Number.MAX_SAFE_INTEGER);
    assert.throws(() => new Reader(Buffer.from('0020000000000000', 'hex')).u64(), isCode('MALFORMED'));
    assert.throws(() => new Reader(Buffer.from('ffffffffffffffff', 'hex')).u64(), isCode('MALFORMED'));
  });

  it('a length prefix over the limit is TOO_LARGE before any data is needed', () => {
    assert.throws(() => new Reader(Buffer.from('00000005', 'hex')).bytes(4), isCode('TOO_LARGE'));
    assert.throws(() => new Reader(Buffer.from('ffffffff', 'hex')).bytes(1 << 20), isCode('TOO_LARGE'));
    assert.throws(() => new Reader(Buffer.from('00000041', 'hex')).str(64), isCode('TOO_LARGE'));
    // At the limit, but the data is missing: truncated, not too large.
    assert.throws(() => new Reader(Buffer.from('00000004', 'hex')).bytes(4), isCode('MALFORMED'));
    assert.deepEqual(new Uint8Array(new Reader(Buffer.from('0000000401020304', 'hex')).bytes(4)), Uint8Array.of(1, 2, 3, 4));
  });

  it('str refuses invalid UTF-8 with MALFORMED', () => {
    for (const bad of ['00000001ff', '00000002c328', '00000003eda080', '00000001c3']) {
      assert.throws(() => new Reader(Buffer.from(bad, 'hex')).str(64), isCode('MALFORMED'), bad);
    }
  });

  it('end() refuses trailing bytes with MALFORMED', () => {
    const r = new Reader(Uint8Array.of(1, 2));
    r.u8();
    assert.throws(() => r.end(), isCode('MALFORMED'));
    r.u8();
    r.end();
  });

  it('reads over random bytes throw only CredenceError MALFORMED or TOO_LARGE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(opArb, { maxLength: 8 }), (data, ops) => {
        const r = new Reader(data);
        try {
          for (const op of ops) {
            if (op.k === 'u8') r.u8();
            else if (op.k === 'u32') r.u32();
            else if (op.k === 'u64') r.u64();
            else if (op.k === 'bytes') r.bytes(16);
            else if (op.k === 'raw') r.raw(op.v.byteLength);
            else r.str(16);
          }
          r.end();
        } catch (e) {
          assert.ok(e instanceof CredenceError && (e.code === 'MALFORMED' || e.code === 'TOO_LARGE'), String(e));
        }
      }),
      { numRuns: 500, seed: SEED },
    );
  });

  it('str round-trips a string that starts with U+FEFF (BOM)', () => {
    const enc = new Writer().str('\uFEFFabc').finish();
    assert.equal(hex(enc), '00000006efbbbf616263');
    // Observed: "abc". Two different encodings decode to the same string, so the encoding is
    // not canonical (decode is not injective) and decode(encode(x)) !== x.
    assert.equal(new Reader(enc).str(64), '\uFEFFabc');
  });
});
