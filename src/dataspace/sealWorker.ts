// A seal-pool worker thread (see sealPool.ts): it hosts the import calls routed to it
// (importWork.ts) with the vault key and its own SQLite connection to the vault, and answers
// each request with its `ask` number.

import { parentPort, workerData } from 'node:worker_threads';
import type { SuiteName } from '../crypto/suite.js';
import { getSuite } from '../crypto/suites.js';
import { isCredenceError } from '../util/errors.js';
import type { LinkAnswer, LinkQuery, RowError } from './importRows.js';
import { ImportCalls, type ImportRequest, type PlannedBatch, type StagedTx } from './importWork.js';
import { RecordValidator } from './validate.js';
import { openVaultDb } from './vaultStage.js';

export interface SealWorkerData {
  readonly suite: SuiteName;
  readonly key: Uint8Array;
  readonly path: string;
}

export type SealRequest =
  | { readonly kind: 'prepare'; readonly job: number; readonly req: ImportRequest }
  | { readonly kind: 'seal'; readonly job: number; readonly links: readonly LinkAnswer[] }
  | { readonly kind: 'stage'; readonly job: number; readonly batch: number; readonly tx: StagedTx }
  | { readonly kind: 'finish'; readonly job: number; readonly batch: number }
  | { readonly kind: 'release'; readonly job: number };

export type SealResponse =
  | {
      readonly kind: 'prepared';
      readonly ask: number;
      readonly errors: RowError[];
      readonly links: LinkQuery[];
      readonly sealed?: { errors: RowError[]; batches: PlannedBatch[] };
    }
  | { readonly kind: 'sealed'; readonly ask: number; readonly errors: RowError[]; readonly batches: PlannedBatch[] }
  | { readonly kind: 'done'; readonly ask: number }
  | { readonly kind: 'error'; readonly ask: number; readonly error: string; readonly code?: string };

const data = workerData as SealWorkerData;
const calls = new ImportCalls({ suite: getSuite(data.suite), key: new Uint8Array(data.key), db: openVaultDb(data.path), validator: new RecordValidator() });

function handle(m: SealRequest, ask: number): SealResponse | undefined {
  switch (m.kind) {
    case 'prepare':
      return { kind: 'prepared', ask, ...calls.prepare(m.job, m.req) };
    case 'seal':
      return { kind: 'sealed', ask, ...calls.seal(m.job, m.links) };
    case 'stage':
      calls.stage(m.job, m.batch, m.tx);
      return { kind: 'done', ask };
    case 'finish':
      calls.finish(m.job, m.batch);
      return { kind: 'done', ask };
    case 'release':
      calls.release(m.job);
      return undefined;
  }
}

parentPort?.on('message', (m: SealRequest & { ask: number }) => {
  try {
    const out = handle(m, m.ask);
    if (out !== undefined) parentPort?.postMessage(out);
  } catch (e) {
    parentPort?.postMessage({ kind: 'error', ask: m.ask, error: String((e as Error).message ?? e), ...(isCredenceError(e) ? { code: e.code } : {}) });
  }
});
