// Parallel signature verification on worker_threads: the node's hot path. A batch is packed into
// one transferable ArrayBuffer per worker (no per-item messages, no copies back), large batches
// are split across the least-loaded workers, and each worker keeps its own public-key cache.

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CredenceError, Codes } from '../util/errors.js';
import { getSuite } from './suites.js';
import type { SuiteName } from './suite.js';
import type { MeasureResponse, VerifyRequest, VerifyResponse, VerifyWorkerData } from './verifyWorker.js';

export interface VerifyItem {
  readonly publicKey: Uint8Array;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

export interface VerifyPoolOptions {
  /** Worker threads; default os.availableParallelism(). */
  readonly threads?: number;
  /** Most items in flight (queued or being verified) before verifyBatch rejects with POOL_FULL. */
  readonly queueMax?: number;
}

const WORKER_URL = new URL('./verifyWorker.js', import.meta.url);
const QUEUE_MAX_DEFAULT = 100_000;
/** Below this many items per worker, splitting costs more in messaging than it saves. */
const CHUNK_ITEMS_MIN = 32;
/** Any field longer than this is garbage: it is shipped as empty and verifies false. */
const FIELD_BYTES_MAX = 1024;

/** Workers inherit node flags, minus ones that only make sense for the main entry (they crash a worker). */
function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--input-type'));
}

interface Job {
  readonly count: number;
  readonly resolve: (res: Uint8Array) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  readonly jobs: Map<number, Job>;
  load: number;
}

function fieldLen(b: Uint8Array): number {
  return b.byteLength > FIELD_BYTES_MAX ? 0 : b.byteLength;
}

/** Packs items[lo, hi) in the layout verifyWorker.unpackAndVerify reads. */
export function packBatch(items: readonly VerifyItem[], lo: number, hi: number): ArrayBuffer {
  const count = hi - lo;
  let bytes = 4 + count * 12;
  for (let i = lo; i < hi; i++) {
    const it = items[i] as VerifyItem;
    bytes += fieldLen(it.publicKey) + fieldLen(it.digest) + fieldLen(it.signature);
  }
  const buf = new ArrayBuffer(bytes);
  const head = new Uint32Array(buf, 0, 1 + count * 3);
  const body = new Uint8Array(buf);
  head[0] = count;
  let off = 4 + count * 12;
  for (let i = lo, j = 1; i < hi; i++, j += 3) {
    const it = items[i] as VerifyItem;
    const fields = [it.publicKey, it.digest, it.signature];
    for (let f = 0; f < 3; f++) {
      const field = fields[f] as Uint8Array;
      const len = fieldLen(field);
      head[j + f] = len;
      if (len > 0) body.set(field, off);
      off += len;
    }
  }
  return buf;
}

/**
 * A pool of verification workers for one suite.
 * @example
 * const pool = new VerifyPool('default');
 * const ok = await pool.verifyBatch(txs.map((t) => ({ publicKey: t.pk, digest: t.digest, signature: t.sig })));
 * await pool.close();
 */
export class VerifyPool {
  readonly threads: number;
  readonly queueMax: number;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private inFlight = 0;
  private closed = false;

  constructor(
    readonly suiteName: SuiteName,
    opts: VerifyPoolOptions = {},
  ) {
    getSuite(suiteName); // UNSUPPORTED_SUITE before any thread starts
    const threads = opts.threads ?? os.availableParallelism();
    const queueMax = opts.queueMax ?? QUEUE_MAX_DEFAULT;
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
      throw new CredenceError(Codes.CONFIG, `verify pool threads must be an integer in 1..1024, got ${threads}`);
    }
    if (!Number.isInteger(queueMax) || queueMax < 1) {
      throw new CredenceError(Codes.CONFIG, `verify pool queueMax must be a positive integer, got ${queueMax}`);
    }
    this.threads = threads;
    this.queueMax = queueMax;
    for (let i = 0; i < threads; i++) {
      const slot: Slot = { worker: this.spawn(i), jobs: new Map(), load: 0 };
      this.slots.push(slot);
    }
  }

  /** Items currently queued or being verified. */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Verifies every item; result[i] says whether items[i] is a valid signature. Bad keys or
   * garbage give false, never an error. Rejects with POOL_FULL when more than queueMax items
   * would be in flight, UNAVAILABLE if the pool is closed or a worker dies mid-batch.
   */
  async verifyBatch(items: readonly VerifyItem[]): Promise<boolean[]> {
    if (this.closed) throw new CredenceError(Codes.UNAVAILABLE, 'verify pool is closed');
    const n = items.length;
    if (n === 0) return [];
    if (this.inFlight + n > this.queueMax) {
      throw new CredenceError(Codes.POOL_FULL, 'signature verification queue is full; retry later', {
        pending: this.inFlight,
        batch: n,
        queueMax: this.queueMax,
      });
    }
    this.inFlight += n;
    try {
      const chunks = Math.max(1, Math.min(this.threads, Math.floor(n / CHUNK_ITEMS_MIN)));
      const size = Math.ceil(n / chunks);
      const parts: Promise<Uint8Array>[] = [];
      for (let lo = 0; lo < n; lo += size) parts.push(this.dispatch(items, lo, Math.min(n, lo + size)));
      const results = await Promise.all(parts);
      const out = new Array<boolean>(n);
      let k = 0;
      for (const r of results) for (let i = 0; i < r.length; i++) out[k++] = r[i] === 1;
      return out;
    } finally {
      this.inFlight -= n;
    }
  }

  /** Terminates every worker; pending batches reject with UNAVAILABLE. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const gone = new CredenceError(Codes.UNAVAILABLE, 'verify pool closed while a batch was pending');
    await Promise.all(
      this.slots.map(async (slot) => {
        this.failJobs(slot, gone);
        await slot.worker.terminate();
      }),
    );
  }

  /** Test hook: kill one worker as a crash would (its pending batches reject, it is replaced). */
  async killWorkerForTest(index: number): Promise<void> {
    await this.slots[index]?.worker.terminate();
  }

  private dispatch(items: readonly VerifyItem[], lo: number, hi: number): Promise<Uint8Array> {
    let slot = this.slots[0] as Slot;
    for (const s of this.slots) if (s.load < slot.load) slot = s;
    const id = this.nextId++;
    const buf = packBatch(items, lo, hi);
    const count = hi - lo;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (slot.jobs.size === 0) slot.worker.ref();
      slot.jobs.set(id, { count, resolve, reject });
      slot.load += count;
      const req: VerifyRequest = { id, buf };
      slot.worker.postMessage(req, [buf]);
    });
  }

  private spawn(index: number): Worker {
    const data: VerifyWorkerData = { mode: 'verify', suiteName: this.suiteName };
    const worker = new Worker(WORKER_URL, { workerData: data, execArgv: workerExecArgv() });
    worker.on('message', (msg: VerifyResponse) => {
      const slot = this.slots[index];
      const job = slot?.jobs.get(msg.id);
      if (slot === undefined || job === undefined) return;
      slot.jobs.delete(msg.id);
      slot.load -= job.count;
      if (slot.jobs.size === 0) worker.unref();
      job.resolve(msg.res);
    });
    worker.on('error', (err) => {
      const slot = this.slots[index];
      if (slot !== undefined && slot.worker === worker) {
        this.failJobs(slot, new CredenceError(Codes.UNAVAILABLE, 'signature verification worker crashed', { index }, err));
      }
    });
    worker.on('exit', (code) => {
      const slot = this.slots[index];
      if (slot === undefined || slot.worker !== worker) return;
      this.failJobs(slot, new CredenceError(Codes.UNAVAILABLE, 'signature verification worker exited', { index, code }));
      if (!this.closed) slot.worker = this.spawn(index);
    });
    // An idle pool never keeps the process alive; dispatch() refs a worker while it has jobs.
    // (This must come after on('message'): attaching that listener refs the worker again.)
    worker.unref();
    return worker;
  }

  private failJobs(slot: Slot, err: CredenceError): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    slot.load = 0;
    slot.worker.unref();
    for (const job of jobs) job.reject(err);
  }
}

/** The honest best case of node:crypto on this machine, for benchmarks to divide by. */
export interface VerifyLimit {
  /** Summed single-signature verifications per second over all threads. */
  readonly verifyPerSec: number;
  readonly threads: number;
}

/**
 * Raw verification rate on all cores: each worker loops crypto.verify on one prepared
 * KeyObject/digest/signature for `seconds` (after a short warm-up), and the rates are summed.
 * @example const { verifyPerSec } = await measureVerifyLimit('default', { seconds: 3 });
 */
export async function measureVerifyLimit(suiteName: SuiteName, opts: { seconds: number; threads?: number }): Promise<VerifyLimit> {
  getSuite(suiteName);
  const threads = opts.threads ?? os.availableParallelism();
  if (!(opts.seconds > 0 && opts.seconds <= 600)) {
    throw new CredenceError(Codes.CONFIG, `measure seconds must be in (0, 600], got ${opts.seconds}`);
  }
  const data: VerifyWorkerData = { mode: 'measure', suiteName, seconds: opts.seconds };
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_URL, { workerData: data, execArgv: workerExecArgv() }));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('online', () => resolve()))));
    const rates = await Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve, reject) => {
            w.once('message', (m: MeasureResponse) => resolve((m.verifications / m.elapsedMs) * 1000));
            w.once('error', reject);
            w.postMessage('go');
          }),
      ),
    );
    return { verifyPerSec: rates.reduce((a, b) => a + b, 0), threads };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
