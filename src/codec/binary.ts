// A minimal canonical binary encoding: fixed field order, big-endian integers, u32
// length-prefixed byte strings. One way to encode each value, so hashes and signatures are
// stable across nodes and languages. The reader rejects trailing bytes and short input.

import { CredenceError, Codes } from '../util/errors.js';

// ignoreBOM: a leading U+FEFF is content, not a marker; dropping it would let two
// encodings decode to the same value.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if ((b[i] as number) > 0x7f) return false;
  return true;
}

/**
 * Strict UTF-8 decode (invalid sequences are MALFORMED, a leading BOM is kept). ASCII, the
 * common case for names, ids and JSON, takes a fast path: TextDecoder costs ~1 µs a call.
 */
export function decodeUtf8(b: Uint8Array): string {
  if (isAscii(b)) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  try {
    return textDecoder.decode(b);
  } catch (e) {
    throw new CredenceError(Codes.MALFORMED, 'string is not valid UTF-8', {}, e);
  }
}

export class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  /** Unsigned integer up to 2^53 - 1 (heights, times in ms), as 8 bytes. */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new CredenceError(Codes.MALFORMED, 'integer out of range');
    this.ensure(8);
    this.buf.writeUInt32BE(Math.floor(v / 2 ** 32), this.pos);
    this.buf.writeUInt32BE(v >>> 0, this.pos + 4);
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.u32(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
    return this;
  }

  /** Fixed-length bytes, no prefix (hashes). */
  raw(b: Uint8Array): this {
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
    return this;
  }

  /** UTF-8, written straight into the buffer (lone surrogates become U+FFFD, as TextEncoder does). */
  str(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.u32(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  finish(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos).slice();
  }
}

function short(): CredenceError {
  return new CredenceError(Codes.MALFORMED, 'encoding is truncated');
}

export class Reader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  remaining(): number {
    return this.data.byteLength - this.pos;
  }

  u8(): number {
    if (this.pos + 1 > this.data.byteLength) throw short();
    return this.view.getUint8(this.pos++);
  }

  u32(): number {
    if (this.pos + 4 > this.data.byteLength) throw short();
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    if (this.pos + 8 > this.data.byteLength) throw short();
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    // Safe integers are below 2^53: the high word must fit in 21 bits.
    if (hi >= 2 ** 21) throw new CredenceError(Codes.MALFORMED, 'integer out of range');
    return hi * 2 ** 32 + lo;
  }

  bytes(maxBytes: number): Uint8Array {
    const n = this.u32();
    if (n > maxBytes) throw new CredenceError(Codes.TOO_LARGE, `field of ${n} bytes exceeds limit ${maxBytes}`);
    return this.raw(n);
  }

  raw(n: number): Uint8Array {
    if (this.pos + n > this.data.byteLength) throw short();
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  str(maxBytes: number): string {
    return decodeUtf8(this.bytes(maxBytes));
  }

  end(): void {
    if (this.pos !== this.data.byteLength) throw new CredenceError(Codes.MALFORMED, 'trailing bytes after encoding');
  }
}
