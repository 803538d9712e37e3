// Worker threads for the per-record cryptography of staging (recordSeal.ts), so the main
// thread of a provider node keeps parsing, validating and committing while batches are sealed.
// A batch goes to one worker as one packed message and comes back as one (transferred, not
// copied); workers take batches round-robin. At most JOBS_MAX batches are in flight; more is
// refused with UNAVAILABLE (the importer's own lanes keep far fewer in flight).

import { Worker } from 'node:worker_threads';
import type { CryptoSuite } from '../crypto/suite.js';
import { CredenceError, Codes } from '../util/errors.js';
import { type SealedBatch, packBytes, unpackBytes } from './recordSeal.js';
import type { SealRequest, SealResponse, SealWorkerData } from './sealWorker.js';

const WORKER_URL = new URL('./sealWorker.js', import.meta.url);
const JOBS_MAX = 64;

interface Job {
  readonly resolve: (r: SealedBatch) => void;
  readonly reject: (e: unknown) => void;
}

export class SealPool {
  private readonly workers: Worker[];
  private readonly jobs = new Map<number, Job>();
  private nextJob = 0;
  private closed = false;

  constructor(suite: CryptoSuite, key: Uint8Array, threads: number) {
    const workerData: SealWorkerData = { suite: suite.name, key };
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const w = new Worker(WORKER_URL, { workerData, execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
      w.on('message', (m: SealResponse) => this.settle(m));
      w.on('error', (e) => this.failAll(e));
      w.unref();
      return w;
    });
  }

  private settle(m: SealResponse): void {
    const job = this.jobs.get(m.job);
    if (job === undefined) return;
    this.jobs.delete(m.job);
    if ('error' in m) {
      job.reject(new CredenceError(Codes.UNAVAILABLE, `sealing failed: ${m.error}`));
      return;
    }
    const wrapped = unpackBytes(m.wrapped.bytes, m.wrapped.ends);
    const sealed = unpackBytes(m.sealed.bytes, m.sealed.ends);
    const records = wrapped.map((w, i) => ({
      salt: m.salts.subarray(32 * i, 32 * i + 32),
      commitment: m.commitments.subarray(32 * i, 32 * i + 32),
      wrapped: w,
      sealed: sealed[i] as Uint8Array,
    }));
    job.resolve({ records, root: m.root });
  }

  private failAll(e: unknown): void {
    for (const job of this.jobs.values()) job.reject(e);
    this.jobs.clear();
  }

  /** Salt, commit and seal records given their ids and canonical JSON, in order. */
  seal(items: readonly { id: string; json: Uint8Array }[]): Promise<SealedBatch> {
    if (this.closed) return Promise.reject(new CredenceError(Codes.UNAVAILABLE, 'the vault is closed'));
    if (this.jobs.size >= JOBS_MAX) return Promise.reject(new CredenceError(Codes.POOL_FULL, 'too many batches being sealed; retry later'));
    const job = this.nextJob++;
    const { bytes, ends } = packBytes(items.map((i) => i.json));
    const req: SealRequest = { job, ids: items.map((i) => i.id).join(''), json: bytes, ends };
    const worker = this.workers[job % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject });
      worker.ref();
      worker.postMessage(req, [bytes.buffer as ArrayBuffer, ends.buffer as ArrayBuffer]);
    }).finally(() => {
      if (this.jobs.size === 0) for (const w of this.workers) w.unref();
    }) as Promise<SealedBatch>;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new CredenceError(Codes.UNAVAILABLE, 'the vault is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
