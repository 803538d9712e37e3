// Worker threads that check, seal and write import calls (importWork.ts), so the main thread
// of a provider node only routes bytes, signs and commits. An import call goes whole to one
// worker (round-robin by job): its JSONL bytes cross once; row errors and each batch's anchor
// arguments come back; the worker keeps the sealed rows until the importer has signed the
// batch's anchor transaction and asks it to stage them, then to finish the batch. Each worker
// holds at most IMPORT_CALLS_MAX calls; more is refused with POOL_FULL.

import { Worker } from 'node:worker_threads';
import type { CryptoSuite } from '../crypto/suite.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { LinkAnswer, RowError } from './importRows.js';
import type { ImportRequest, ImportRunner, PlannedBatch, Prepared, StagedTx } from './importWork.js';
import type { SealRequest, SealResponse, SealWorkerData } from './sealWorker.js';

const WORKER_URL = new URL('./sealWorker.js', import.meta.url);

interface Waiter {
  readonly resolve: (r: SealResponse) => void;
  readonly reject: (e: unknown) => void;
}

type Answer<K extends SealResponse['kind']> = Extract<SealResponse, { kind: K }>;

export class SealPool implements ImportRunner {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, Waiter>();
  private nextJob = 0;
  private nextAsk = 0;
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
    const w = this.waiting.get(m.ask);
    if (w === undefined) return;
    this.waiting.delete(m.ask);
    if (m.kind === 'error') w.reject(new CredenceError(m.code ?? Codes.UNAVAILABLE, m.code === undefined ? `import worker failed: ${m.error}` : m.error));
    else w.resolve(m);
  }

  private failAll(e: unknown): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  private worker(job: number): Worker {
    return this.workers[job % this.workers.length] as Worker;
  }

  private ask<K extends SealResponse['kind']>(job: number, req: SealRequest, kind: K): Promise<Answer<K>> {
    if (this.closed) return Promise.reject(new CredenceError(Codes.UNAVAILABLE, 'the vault is closed'));
    const worker = this.worker(job);
    const ask = this.nextAsk++;
    return new Promise<SealResponse>((resolve, reject) => {
      this.waiting.set(ask, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...req, ask });
    })
      .then((m) => {
        if (m.kind !== kind) throw new CredenceError(Codes.UNAVAILABLE, 'the import worker answered out of turn');
        return m as Answer<K>;
      })
      .finally(() => {
        if (this.waiting.size === 0) for (const w of this.workers) w.unref();
      });
  }

  async prepare(req: ImportRequest): Promise<Prepared> {
    const job = this.nextJob++;
    const m = await this.ask(job, { kind: 'prepare', job, req }, 'prepared');
    return { job, errors: m.errors, links: m.links, ...(m.sealed === undefined ? {} : { sealed: m.sealed }) };
  }

  async seal(job: number, links: readonly LinkAnswer[]): Promise<{ errors: RowError[]; batches: PlannedBatch[] }> {
    const m = await this.ask(job, { kind: 'seal', job, links }, 'sealed');
    return { errors: m.errors, batches: m.batches };
  }

  async stage(job: number, batch: number, tx: StagedTx): Promise<void> {
    await this.ask(job, { kind: 'stage', job, batch, tx }, 'done');
  }

  async finish(job: number, batch: number): Promise<void> {
    await this.ask(job, { kind: 'finish', job, batch }, 'done');
  }

  release(job: number): void {
    if (!this.closed) this.worker(job).postMessage({ kind: 'release', job, ask: -1 } satisfies SealRequest & { ask: number });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new CredenceError(Codes.UNAVAILABLE, 'the vault is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
