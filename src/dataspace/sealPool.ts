// Worker threads for the per-record cryptography of staging (recordSeal.ts) and the staging
// write itself (vaultStage.ts), so the main thread of a provider node keeps parsing,
// validating and committing while batches are sealed and written. A batch goes to one worker
// (round-robin) as one packed message; the worker answers its commitments and root and keeps
// its vault rows until the importer has signed the anchor transaction and asks it to stage
// them (or discards them). At most JOBS_MAX batches are being sealed or held; more is
// refused with POOL_FULL (the importer's own lanes keep far fewer in flight).

import { Worker } from 'node:worker_threads';
import type { CryptoSuite } from '../crypto/suite.js';
import { CredenceError, Codes } from '../util/errors.js';
import { type SealInput, type SealedBatch, packBytes, unpackBytes } from './recordSeal.js';
import type { SealRequest, SealResponse, SealWorkerData } from './sealWorker.js';
import type { StageHeader } from './vaultStage.js';

const WORKER_URL = new URL('./sealWorker.js', import.meta.url);
const JOBS_MAX = 64;

interface Job {
  readonly resolve: (r: SealResponse) => void;
  readonly reject: (e: unknown) => void;
}

export class SealPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, Job>();
  /** Jobs sealed or being sealed whose rows a worker still holds. */
  private readonly open = new Set<number>();
  private nextJob = 0;
  private closed = false;

  constructor(suite: CryptoSuite, key: Uint8Array, path: string, threads: number) {
    const workerData: SealWorkerData = { suite: suite.name, key, path };
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const w = new Worker(WORKER_URL, { workerData, execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
      w.on('message', (m: SealResponse) => this.settle(m));
      w.on('error', (e) => this.failAll(e));
      w.unref();
      return w;
    });
  }

  private settle(m: SealResponse): void {
    const job = this.waiting.get(m.job);
    if (job === undefined) return;
    this.waiting.delete(m.job);
    if ('error' in m) job.reject(new CredenceError(m.code ?? Codes.UNAVAILABLE, m.code === undefined ? `sealing failed: ${m.error}` : m.error));
    else job.resolve(m);
  }

  private failAll(e: unknown): void {
    for (const job of this.waiting.values()) job.reject(e);
    this.waiting.clear();
  }

  private worker(job: number): Worker {
    return this.workers[job % this.workers.length] as Worker;
  }

  private ask(job: number, req: SealRequest, transfer: ArrayBuffer[] = []): Promise<SealResponse> {
    if (this.closed) return Promise.reject(new CredenceError(Codes.UNAVAILABLE, 'the vault is closed'));
    const worker = this.worker(job);
    return new Promise<SealResponse>((resolve, reject) => {
      this.waiting.set(job, { resolve, reject });
      worker.ref();
      worker.postMessage(req, transfer);
    }).finally(() => {
      if (this.waiting.size === 0) for (const w of this.workers) w.unref();
    });
  }

  /** Salt, commit and seal records, in order; the worker keeps their rows for `stage`. */
  async seal(items: readonly SealInput[]): Promise<SealedBatch> {
    if (this.open.size >= JOBS_MAX) throw new CredenceError(Codes.POOL_FULL, 'too many batches being sealed; retry later');
    const job = this.nextJob++;
    const { bytes, ends } = packBytes(items.map((i) => i.json));
    const columns = {
      ids: items.map((i) => i.id),
      subjects: items.map((i) => i.subject),
      schemas: items.map((i) => i.schema),
      versions: items.map((i) => i.version),
      refs: items.map((i) => i.ref ?? null),
      expiresAt: items.map((i) => i.expiresAt ?? null),
    };
    this.open.add(job);
    try {
      const m = await this.ask(job, { kind: 'seal', job, columns, json: bytes, ends }, [bytes.buffer as ArrayBuffer, ends.buffer as ArrayBuffer]);
      if (!('root' in m)) throw new CredenceError(Codes.UNAVAILABLE, 'the seal worker answered out of turn');
      return { commitments: unpackBytes(m.commitments, new Uint32Array(items.map((_, i) => 32 * (i + 1)))), root: m.root, job };
    } catch (e) {
      this.open.delete(job);
      throw e;
    }
  }

  /** Write a sealed batch's rows with its signed transaction (durable when this resolves). */
  async stage(job: number, header: Omit<StageHeader, 'root' | 'commitments'>): Promise<void> {
    try {
      await this.ask(job, { kind: 'stage', job, header });
    } finally {
      this.open.delete(job);
    }
  }

  discard(job: number): void {
    if (!this.open.delete(job) || this.closed) return;
    this.worker(job).postMessage({ kind: 'discard', job } satisfies SealRequest);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new CredenceError(Codes.UNAVAILABLE, 'the vault is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
