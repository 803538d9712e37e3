// Typed client for a provider node's data routes (import, recovery, expiry sweep, vault
// statistics, the schema catalog). It wraps a CredenceClient, which signs the requests; the
// key must belong to the node's own organization.

import type { JsonValue } from '../codec/canonicalJson.js';
import { recordIdAt } from '../contracts/recordBatch.js';
import type { CredenceClient } from './client.js';

export interface RowErrorJson {
  /** 1-based row number in the source. */
  readonly row: number;
  readonly code: string;
  readonly message: string;
}

export interface ImportBatchJson {
  /** Batch id: record `i` of the batch has the id `recordIdAt(id, i)`. */
  readonly id: string;
  readonly txId: string;
  readonly root: string;
  readonly records: number;
  readonly outcome: 'ok' | 'refused' | 'pending';
  /** Source row numbers of the batch's records in batch order, as runs [first row, count]. */
  readonly rows: [number, number][];
}

export interface ImportResultJson {
  /** Records anchored (the batches with outcome ok; `anchoredRecords` lists their rows and ids). */
  readonly anchored: number;
  readonly errors: RowErrorJson[];
  /** Rows whose batch outcome is not known yet (the node settles it on recovery). */
  readonly pending: number[];
  readonly batches: ImportBatchJson[];
}

/** The anchored records of an import answer, each with its source row, by row. */
export function anchoredRecords(r: ImportResultJson): { row: number; id: string }[] {
  return r.batches
    .filter((b) => b.outcome === 'ok')
    .flatMap((b) => {
      let index = 0;
      return b.rows.flatMap(([first, count]) => Array.from({ length: count }, (_, i) => ({ row: first + i, id: recordIdAt(b.id, index++) })));
    })
    .sort((a, b) => a.row - b.row);
}

export interface SweepResultJson {
  readonly expired: string[];
  readonly notDue: number;
  readonly error?: { code: string; message: string };
}

export interface VaultStatsJson {
  readonly live: number;
  readonly pending: number;
  readonly destroyed: number;
  readonly pendingBatches: number;
}

export class ProviderClient {
  constructor(readonly client: CredenceClient) {}

  /** Import rows (at most 5,000 per call); `rowNumbers` keeps the source's numbering in errors. */
  importRows(schema: string, rows: readonly { [k: string]: JsonValue }[], rowNumbers?: readonly number[]): Promise<ImportResultJson> {
    const body: { [k: string]: JsonValue } = { schema, rows: rows as JsonValue[] };
    if (rowNumbers !== undefined) body.rowNumbers = [...rowNumbers];
    return this.client.request('POST', '/v1/data/import', body, 120_000);
  }

  /** Import JSONL bytes as they are (at most 5,000 non-blank lines): row numbers count non-blank lines from `firstRow`. */
  importJsonl(schema: string, jsonl: Uint8Array, firstRow = 1): Promise<ImportResultJson> {
    const q = new URLSearchParams({ schema, firstRow: String(firstRow) });
    return this.client.request('POST', `/v1/data/import/jsonl?${q}`, jsonl, 120_000);
  }

  /** Import a whole JSONL or CSV text (bounded by the node's body limit). */
  importText(schema: string, format: 'jsonl' | 'csv', content: string): Promise<ImportResultJson> {
    return this.client.request('POST', '/v1/data/import/text', { schema, format, content }, 120_000);
  }

  recover(): Promise<{ finished: number; dropped: number; waiting: number }> {
    return this.client.request('POST', '/v1/data/recover', {}, 60_000);
  }

  /** Sweep expired negative records; `now` sweeps "as of" that time (the chain still decides). */
  sweepExpired(now?: number): Promise<SweepResultJson> {
    return this.client.request('POST', '/v1/data/expiry/sweep', now === undefined ? {} : { now }, 60_000);
  }

  vaultStats(): Promise<VaultStatsJson> {
    return this.client.request('GET', '/v1/data/vault');
  }

  schemas(): Promise<{ builtin: { id: string; title: string; category: string; sensitivity: string }[]; registered: string[] }> {
    return this.client.request('GET', '/v1/data/schemas');
  }
}
