// A seal-pool worker thread (see sealPool.ts): salts, commits and seals one batch of records
// per message, with the vault key it was started with.

import { parentPort, workerData } from 'node:worker_threads';
import type { SuiteName } from '../crypto/suite.js';
import { getSuite } from '../crypto/suites.js';
import { packBytes, sealRecords, unpackBytes } from './recordSeal.js';

export interface SealWorkerData {
  readonly suite: SuiteName;
  readonly key: Uint8Array;
}

export interface SealRequest {
  readonly job: number;
  /** The records' ids, 64 hex characters each, concatenated. */
  readonly ids: string;
  readonly json: Uint8Array;
  readonly ends: Uint32Array;
}

export type SealResponse =
  | {
      readonly job: number;
      readonly salts: Uint8Array;
      readonly commitments: Uint8Array;
      readonly root: Uint8Array;
      readonly wrapped: { bytes: Uint8Array; ends: Uint32Array };
      readonly sealed: { bytes: Uint8Array; ends: Uint32Array };
    }
  | { readonly job: number; readonly error: string };

const data = workerData as SealWorkerData;
const suite = getSuite(data.suite);
const key = new Uint8Array(data.key);

parentPort?.on('message', (m: SealRequest) => {
  try {
    const jsons = unpackBytes(m.json, m.ends);
    const { records: rows, root } = sealRecords(
      suite,
      key,
      jsons.map((json, i) => ({ id: m.ids.slice(64 * i, 64 * i + 64), json })),
    );
    const salts = packBytes(rows.map((r) => r.salt)).bytes;
    const commitments = packBytes(rows.map((r) => r.commitment)).bytes;
    const wrapped = packBytes(rows.map((r) => r.wrapped));
    const sealed = packBytes(rows.map((r) => r.sealed));
    const out: SealResponse = { job: m.job, salts, commitments, root, wrapped, sealed };
    const transfer = [salts, commitments, wrapped.bytes, wrapped.ends, sealed.bytes, sealed.ends].map((b) => b.buffer as ArrayBuffer);
    parentPort?.postMessage(out, transfer);
  } catch (e) {
    parentPort?.postMessage({ job: m.job, error: String((e as Error).message ?? e) });
  }
});
