// Worker thread of the PSI pool: hash-to-curve and X25519 blinding of one chunk per message.

import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { isCredenceError } from '../util/errors.js';
import { Expander, hashBatchToU, PSI_DST } from './h2c25519.js';
import { blindPoints, measureX25519, newBlindingKey, privateKeyObject } from './x25519.js';

export type PsiTask =
  | { readonly id: number; readonly op: 'hashBlind'; readonly key: Uint8Array; readonly dst: string; readonly data: Uint8Array; readonly ends: Uint32Array }
  | { readonly id: number; readonly op: 'blind'; readonly key: Uint8Array; readonly points: Uint8Array; readonly indexBase: number }
  | { readonly id: number; readonly op: 'measure'; readonly ms: number };

export type PsiTaskResult =
  | { readonly id: number; readonly points: Uint8Array }
  | { readonly id: number; readonly rate: number }
  | { readonly id: number; readonly error: { code: string; message: string; details: Record<string, string | number | boolean | null> } };

const expanders = new Map<string, Expander>();
/** Most private KeyObjects kept per worker (a few jobs' keys; both parties' when one pool serves both). */
const KEYS_KEPT = 8;
const keys = new Map<string, KeyObject>();

/**
 * The private KeyObject of a raw blinding key. Making one from PKCS#8 costs ~0.7 ms, and chunks of
 * different jobs (or of both parties of one job) interleave, so the last few are kept.
 */
function keyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  let k = keys.get(id);
  if (k === undefined) {
    k = privateKeyObject(raw);
    if (keys.size >= KEYS_KEPT) keys.delete(keys.keys().next().value as string);
  } else {
    keys.delete(id);
  }
  keys.set(id, k);
  return k;
}

function hashBlind(key: Uint8Array, dst: string, data: Uint8Array, ends: Uint32Array): Uint8Array {
  let ex = expanders.get(dst);
  if (ex === undefined) {
    ex = new Expander(dst);
    expanders.set(dst, ex);
  }
  const hashed = new Uint8Array(32 * ends.length);
  hashBatchToU(ex, data, ends, hashed);
  return blindPoints(keyObject(key), hashed);
}

/**
 * Once at spawn: hash and blind a few hundred dummy items, so that V8 has compiled this code and
 * the lazily loaded crypto internals are in before the first job (~20 ms per worker, once).
 */
function warmUp(): void {
  const n = Number(process.env.PSI_WARM ?? 256);
  const data = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) data.set([i & 0xff, i >> 8], 2 * i);
  hashBlind(
    newBlindingKey(),
    PSI_DST,
    data,
    Uint32Array.from({ length: n }, (_, i) => 2 * (i + 1)),
  );
  keys.clear();
}

warmUp();

function run(t: PsiTask): PsiTaskResult {
  try {
    if (t.op === 'measure') return { id: t.id, rate: measureX25519(t.ms) };
    if (t.op === 'blind') return { id: t.id, points: blindPoints(keyObject(t.key), t.points, t.indexBase) };
    return { id: t.id, points: hashBlind(t.key, t.dst, t.data, t.ends) };
  } catch (e) {
    if (isCredenceError(e)) return { id: t.id, error: { code: e.code, message: e.message, details: { ...e.details } } };
    return { id: t.id, error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), details: {} } };
  }
}

parentPort?.on('message', (t: PsiTask) => {
  const r = run(t);
  // Copied, not transferred: the first detached ArrayBuffer in a thread invalidates V8's
  // "no buffer was ever detached" assumption and throws away all optimised typed-array code here
  // (hash to curve, Jacobi), which then recompiles with detach checks; a chunk is at most 64 KB.
  parentPort?.postMessage(r);
});
