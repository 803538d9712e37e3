// Small byte helpers shared by every layer. Uint8Array is the currency at the core; hex is
// for humans and JSON edges.

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Strict lowercase hex decode; returns undefined on anything else. */
export function fromHexStrict(s: string): Uint8Array | undefined {
  if (!HEX_RE.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function fromHex(s: string): Uint8Array {
  const b = fromHexStrict(s.toLowerCase());
  if (b === undefined) throw new Error('invalid hex');
  return b;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/**
 * Byte-wise order of a and b (negative, zero or positive), as Buffer.compare but in plain JS:
 * for the short keys and ids compared in hot loops the native call costs more than the loop.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function utf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'));
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function fromBase64Strict(s: string): Uint8Array | undefined {
  if (!B64_RE.test(s) || s.length % 4 !== 0) return undefined;
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) return undefined;
  return new Uint8Array(b);
}
