// A seal-pool worker thread (see sealPool.ts). `seal`: salt, commit and seal one batch of
// records with the vault key it was started with, answer the commitments and the root, and
// keep the vault rows; `stage`: write those rows with the batch's signed transaction into the
// vault over this thread's own SQLite connection (durable before the answer); `discard`:
// forget them.

import { parentPort, workerData } from 'node:worker_threads';
import type { SuiteName } from '../crypto/suite.js';
import { getSuite } from '../crypto/suites.js';
import { isCredenceError } from '../util/errors.js';
import { type SealInput, packBytes, sealRecords, unpackBytes } from './recordSeal.js';
import { type StageHeader, type StageRow, openVaultDb, stageRows } from './vaultStage.js';

export interface SealWorkerData {
  readonly suite: SuiteName;
  readonly key: Uint8Array;
  readonly path: string;
}

/** Per-record columns of a seal request, one array each (cheap to clone). */
export interface SealColumns {
  readonly ids: string[];
  readonly subjects: string[];
  readonly schemas: string[];
  readonly versions: number[];
  readonly refs: (string | null)[];
  readonly expiresAt: (number | null)[];
}

export type SealRequest =
  | { readonly kind: 'seal'; readonly job: number; readonly columns: SealColumns; readonly json: Uint8Array; readonly ends: Uint32Array }
  | { readonly kind: 'stage'; readonly job: number; readonly header: Omit<StageHeader, 'root' | 'commitments'> }
  | { readonly kind: 'discard'; readonly job: number };

export type SealResponse =
  | { readonly job: number; readonly commitments: Uint8Array; readonly root: Uint8Array }
  | { readonly job: number; readonly staged: true }
  | { readonly job: number; readonly error: string; readonly code?: string };

const data = workerData as SealWorkerData;
const suite = getSuite(data.suite);
const key = new Uint8Array(data.key);
const db = openVaultDb(data.path);
const held = new Map<number, { rows: StageRow[]; root: Uint8Array; commitments: Uint8Array }>();

function inputs(m: Extract<SealRequest, { kind: 'seal' }>): SealInput[] {
  const c = m.columns;
  return unpackBytes(m.json, m.ends).map((json, i) => ({
    id: c.ids[i] as string,
    json,
    subject: c.subjects[i] as string,
    schema: c.schemas[i] as string,
    version: c.versions[i] as number,
    ...(c.refs[i] === null ? {} : { ref: c.refs[i] as string }),
    ...(c.expiresAt[i] === null ? {} : { expiresAt: c.expiresAt[i] as number }),
  }));
}

function handle(m: SealRequest): SealResponse | undefined {
  if (m.kind === 'discard') {
    held.delete(m.job);
    return undefined;
  }
  if (m.kind === 'stage') {
    const h = held.get(m.job);
    if (h === undefined) return { job: m.job, error: 'no sealed batch under this job' };
    held.delete(m.job);
    stageRows(db, { ...m.header, root: h.root, commitments: h.commitments }, h.rows);
    return { job: m.job, staged: true };
  }
  const sealed = sealRecords(suite, key, inputs(m));
  const { rows, root } = sealed;
  const commitments = packBytes(sealed.commitments).bytes;
  held.set(m.job, { rows, root, commitments });
  return { job: m.job, commitments: commitments.slice(), root };
}

parentPort?.on('message', (m: SealRequest) => {
  try {
    const out = handle(m);
    if (out !== undefined) parentPort?.postMessage(out);
  } catch (e) {
    parentPort?.postMessage({ job: m.job, error: String((e as Error).message ?? e), ...(isCredenceError(e) ? { code: e.code } : {}) });
  }
});
