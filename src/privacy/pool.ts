// A pool of worker threads for the PSI's heavy lifting (hash-to-curve and X25519), fed in
// chunks: whole sets are split into chunks, a bounded window of chunks is in flight, and the
// results are reassembled in order. Progress is reported per finished chunk.

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CredenceError, Codes } from '../util/errors.js';
import type { PsiTask, PsiTaskResult } from './psiWorker.js';

const WORKER_URL = new URL('./psiWorker.js', import.meta.url);
export const CHUNK_ITEMS = 2048;

type TaskBody = PsiTask extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

interface Pending {
  resolve: (r: PsiTaskResult) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  load: number;
}

export type Progress = (done: number, total: number) => void;

export class PsiPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly threads: number;

  constructor(threads = os.availableParallelism()) {
    this.threads = Math.max(1, threads);
    for (let i = 0; i < this.threads; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
    const slot: Slot = { worker, load: 0 };
    worker.on('message', (r: PsiTaskResult) => {
      slot.load--;
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    return slot;
  }

  private run(body: TaskBody, transfer: ArrayBuffer[] = []): Promise<PsiTaskResult> {
    const id = this.nextId++;
    const slot = this.slots.reduce((a, b) => (b.load < a.load ? b : a));
    slot.load++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...body, id }, transfer);
    });
  }

  private async points(body: TaskBody, transfer: ArrayBuffer[] = []): Promise<Uint8Array> {
    const r = await this.run(body, transfer);
    if ('error' in r) throw new CredenceError(r.error.code, r.error.message, r.error.details);
    if (!('points' in r)) throw new CredenceError(Codes.MALFORMED, 'worker answered without points');
    return r.points;
  }

  /** Hash each item to the curve and blind it with key: 32 bytes per item, in order. */
  hashBlind(key: Uint8Array, dst: string, items: readonly Uint8Array[], onProgress?: Progress): Promise<Uint8Array> {
    return this.chunked(items.length, onProgress, (lo, hi) => {
      const part = items.slice(lo, hi);
      const ends = new Uint32Array(part.length);
      let total = 0;
      part.forEach((it, i) => {
        total += it.byteLength;
        ends[i] = total;
      });
      const data = Buffer.concat(part);
      return this.points({ op: 'hashBlind', key, dst, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ends });
    });
  }

  /** X25519(key, p) for each 32-byte point p, in order; BAD_POINT on an invalid one. */
  blind(key: Uint8Array, points: Uint8Array, onProgress?: Progress): Promise<Uint8Array> {
    return this.chunked(points.byteLength / 32, onProgress, (lo, hi) =>
      this.points({ op: 'blind', key, points: points.slice(32 * lo, 32 * hi), indexBase: lo }),
    );
  }

  private async chunked(n: number, onProgress: Progress | undefined, task: (lo: number, hi: number) => Promise<Uint8Array>): Promise<Uint8Array> {
    const out = new Uint8Array(32 * n);
    const window = 2 * this.threads;
    // Guided chunks: a share of what is left, so that they shrink towards the end and every
    // thread has work until the end (from at most CHUNK_ITEMS down to 64 items).
    const share = 8 * this.threads;
    let next = 0;
    let done = 0;
    const lane = async (): Promise<void> => {
      while (next < n) {
        const lo = next;
        const hi = Math.min(n, lo + Math.max(64, Math.min(CHUNK_ITEMS, Math.ceil((n - lo) / share))));
        next = hi;
        out.set(await task(lo, hi), 32 * lo);
        done += hi - lo;
        onProgress?.(done, n);
      }
    };
    await Promise.all(Array.from({ length: window }, lane));
    return out;
  }

  /** Raw X25519 rate (import peer point + derive) on all threads at once, ops per second. */
  async measureX25519(ms = 1500): Promise<number> {
    const rs = await Promise.all(this.slots.map(() => this.run({ op: 'measure', ms })));
    return rs.reduce((s, r) => s + ('rate' in r ? r.rate : 0), 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const p of this.pending.values()) p.reject(new CredenceError(Codes.UNAVAILABLE, 'PSI pool closed'));
    this.pending.clear();
  }
}
