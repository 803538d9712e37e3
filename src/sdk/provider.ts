// Typed client for a provider node's data routes (import, recovery, expiry sweep, vault
// statistics, the schema catalog). It wraps a CredenceClient, which signs the requests; the
// key must belong to the node's own organization.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CredenceClient } from './client.js';

export interface RowErrorJson {
  /** 1-based row number in the source. */
  readonly row: number;
  readonly code: string;
  readonly message: string;
}

export interface ImportResultJson {
  readonly anchored: { row: number; id: string }[];
  readonly errors: RowErrorJson[];
  /** Rows whose batch outcome is not known yet (the node settles it on recovery). */
  readonly pending: number[];
  readonly batches: { txId: string; root: string; records: number; outcome: 'ok' | 'refused' | 'pending' }[];
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
