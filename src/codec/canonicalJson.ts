// Canonical JSON (the RFC 8785 subset we need): object keys sorted by UTF-16 code units, no
// whitespace, integers only (no floats, so every node renders numbers identically), and a
// depth and size limit. Contract arguments, results and state values use it.

import { CredenceError, Codes } from '../util/errors.js';
import { decodeUtf8 } from './binary.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export const JSON_DEPTH_MAX = 32;

function fail(message: string): never {
  throw new CredenceError(Codes.MALFORMED, message);
}

/** Printable ASCII without `"` or a backslash: JSON.stringify would only add the quotes. */
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function quote(s: string): string {
  return s.length <= 128 && PLAIN_STRING.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** Own keys in UTF-16 code-unit order; most objects are built already sorted. */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return keys.sort();
  return keys;
}

function write(v: unknown, depth: number): string {
  if (depth > JSON_DEPTH_MAX) fail(`JSON nested deeper than ${JSON_DEPTH_MAX}`);
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(v)) fail('JSON numbers must be safe integers (use strings for decimals)');
      return Object.is(v, -0) ? '0' : String(v);
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += i > 0 ? `,${write(v[i], depth + 1)}` : write(v[i], depth + 1);
        return `${out}]`;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype) break;
      const keys = sortedKeys(v);
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        out += `${i > 0 ? ',' : ''}${quote(k)}:${write((v as Record<string, unknown>)[k], depth + 1)}`;
      }
      return `${out}}`;
    }
  }
  return fail(`value of type ${typeof v} is not allowed in canonical JSON`);
}

/** Canonical text of a JSON value. Throws MALFORMED on floats, undefined, cycles (depth). */
export function canonicalJson(v: unknown): string {
  return write(v, 0);
}

export function canonicalJsonBytes(v: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalJson(v), 'utf8'));
}

/** Parse bytes that must already be canonical; anything else is MALFORMED. */
export function parseCanonicalJson(bytes: Uint8Array): JsonValue {
  const text = decodeUtf8(bytes);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CredenceError(Codes.MALFORMED, 'arguments are not valid JSON', {}, e);
  }
  if (canonicalJson(v) !== text) fail('JSON is not in canonical form (sorted keys, no spaces, integers only)');
  return v as JsonValue;
}

const parsedCache = new WeakMap<Uint8Array, JsonValue>();

function deepFreeze(v: JsonValue): JsonValue {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

/**
 * Parse JSON bytes this node wrote itself (state values): no canonical-form re-check. The
 * result is frozen and remembered per byte array, so hot values held in a cache (member
 * keys, policies) are parsed once; callers must build new objects rather than mutate.
 */
export function parseStoredJson(bytes: Uint8Array): JsonValue {
  const hit = parsedCache.get(bytes);
  if (hit !== undefined) return hit;
  const v = deepFreeze(JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as JsonValue);
  parsedCache.set(bytes, v);
  return v;
}
