// Publishing records: rows from a provider's source file become validated records in the
// vault and salted commitments anchored on chain in batches (recordBatch.ts: the chain gets
// the batch's Merkle root and per-subject runs, never a per-record entry). Rows are grouped
// by subject, and each record's id is its batch id and index, fixed before its commitment.
//
// The rows themselves are checked, sealed and written where the vault seals (its worker
// threads: importWork.ts); this class, on the node's main thread, resolves which record a
// new version replaces (it needs the chain), signs each batch's anchor transaction, submits
// it and waits for the commit.
//
// Nothing is half-written. For each batch the importer signs the `records.anchor`
// transaction, stages the records in the vault together with that transaction (one SQLite
// transaction), submits, and then either finishes the batch (chain said OK) or drops it
// (chain refused). If the process dies in between, `recover()` looks the transaction up on
// chain and finishes, drops, or resubmits the very same bytes (replay-safe) — so the vault
// and the chain always end up agreeing.

import type { JsonValue } from '../codec/canonicalJson.js';
import { anchorArgsJson } from '../contracts/recordBatch.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { ImportResultJson } from '../sdk/provider.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import type { ChainPort, SignedTx } from './chainPort.js';
import { IMPORT_ROWS_MAX, type Link, type LinkAnswer, type LinkQuery, type Row, type RowError } from './importRows.js';
import type { ImportRunner, PlannedBatch } from './importWork.js';
import type { SchemaDefinition } from './schemas/catalog.js';
import type { BatchVault } from './vault.js';

export { IMPORT_ROWS_MAX, anchorBatches, type Row, type RowError } from './importRows.js';
export type ImportResult = ImportResultJson;

export interface ImporterOptions {
  readonly suite: CryptoSuite;
  readonly vault: BatchVault;
  readonly chain: ChainPort;
  /** The network's pseudonym secret; without it, rows about persons are refused. */
  readonly pseudonymSecret?: Uint8Array;
  /** How long to wait for each anchor transaction to commit. */
  readonly commitTimeoutMs?: number;
}

/** Anchor batches in flight per import call. */
const ANCHOR_IN_FLIGHT = 4;

/** Row numbers of runs [first, count]. */
function rowsOf(runs: readonly (readonly [number, number])[]): number[] {
  return runs.flatMap(([first, count]) => Array.from({ length: count }, (_, i) => first + i));
}

/** Rows as JSONL bytes (one JSON object per line). */
function jsonl(rows: readonly JsonValue[]): Uint8Array {
  return Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n'), 'utf8');
}

export class Importer {
  constructor(private readonly o: ImporterOptions) {}

  /** Resolve a schema as registered on chain (UNKNOWN_SCHEMA otherwise). */
  schema(id: string): SchemaDefinition {
    const def = this.o.chain.schema(id);
    if (def === undefined) throw new CredenceError(Codes.UNKNOWN_SCHEMA, `schema "${id.slice(0, 64)}" is not registered on chain (see: credence data schemas)`);
    return def;
  }

  /** Import rows numbered from `firstRow`; bad rows are reported, good rows anchored. */
  async importRows(schemaId: string, rows: readonly Row[], firstRow = 1): Promise<ImportResult> {
    if (rows.length > IMPORT_ROWS_MAX) throw new CredenceError(Codes.TOO_LARGE, `at most ${IMPORT_ROWS_MAX} rows per import call`, { rows: rows.length });
    return this.importJsonl(schemaId, jsonl(rows), firstRow);
  }

  /** Import rows that carry their own source row numbers (parse failures already left out). */
  async importNumbered(schemaId: string, rows: readonly { row: number; value: Row }[]): Promise<ImportResult> {
    if (rows.length > IMPORT_ROWS_MAX) throw new CredenceError(Codes.TOO_LARGE, `at most ${IMPORT_ROWS_MAX} rows per import call`, { rows: rows.length });
    return this.importJsonl(
      schemaId,
      jsonl(rows.map((r) => r.value)),
      1,
      Float64Array.from(rows, (r) => r.row),
    );
  }

  /** Import JSONL bytes: non-blank lines are rows numbered from `firstRow` (or by `rowNumbers`). */
  async importJsonl(schemaId: string, text: Uint8Array, firstRow = 1, rowNumbers: Float64Array | null = null): Promise<ImportResult> {
    const def = this.schema(schemaId);
    const imports = this.o.vault.imports;
    const prepared = await imports.prepare({
      def,
      provider: this.o.chain.orgId,
      text,
      firstRow,
      rowNumbers,
      pseudonymSecret: this.o.pseudonymSecret ?? null,
    });
    const { job } = prepared;
    try {
      const sealed =
        prepared.sealed ??
        (await imports.seal(
          job,
          prepared.links.map((q) => this.resolveLink(def, q)),
        ));
      const result = { anchored: 0, errors: [...prepared.errors, ...sealed.errors], pending: [] as number[], batches: [] as ImportResult['batches'] };
      let next = 0;
      // A few batches in flight: each waits for its commit, so one at a time would leave the node idle.
      const lane = async () => {
        for (let i = next++; i < sealed.batches.length; i = next++) await this.anchorBatch(imports, job, i, sealed.batches[i] as PlannedBatch, result);
      };
      await Promise.all(Array.from({ length: Math.min(ANCHOR_IN_FLIGHT, sealed.batches.length) }, lane));
      result.errors.sort((a, b) => a.row - b.row);
      result.pending.sort((a, b) => a - b);
      return result;
    } finally {
      imports.release(job);
    }
  }

  private resolveLink(def: SchemaDefinition, q: LinkQuery): LinkAnswer {
    try {
      return { row: q.row, link: this.linkOf(def, q) };
    } catch (e) {
      if (!isCredenceError(e)) throw e;
      return { row: q.row, error: { code: e.code, message: e.message } };
    }
  }

  /** The latest record with the row's ref, which must be active on chain and about the same subject. */
  private linkOf(def: SchemaDefinition, q: LinkQuery): Link {
    const fail = (code: string, message: string) => new CredenceError(code, message);
    const latest = this.o.vault.latestByRef(def.id, q.ref);
    if (latest === undefined) throw fail(Codes.NOT_FOUND, `no earlier record with this ref to ${q.action}`);
    const onChain = this.o.chain.record(latest.id);
    if (onChain === undefined || onChain.status !== 'active')
      throw fail('RECORD_NOT_ACTIVE', `the latest record with this ref is ${onChain?.status ?? 'not anchored'}`);
    const old = this.o.vault.get(latest.id);
    if (old !== undefined && old.record.subject !== q.subject) throw fail(Codes.MALFORMED, 'a new version must be about the same subject');
    return { kind: q.action === 'correct' ? 'supersedes' : 'revokes', id: latest.id, version: latest.version };
  }

  private async anchorBatch(imports: ImportRunner, job: number, index: number, b: PlannedBatch, result: ImportResult & { anchored: number }): Promise<void> {
    const rowErrors = (code: string, message: string): RowError[] => rowsOf(b.rows).map((row) => ({ row, code, message }));
    let tx: SignedTx;
    try {
      tx = await this.o.chain.sign('records', 'anchor', anchorArgsJson(b.args));
      await imports.stage(job, index, { txId: tx.id, tx: tx.bytes, txExpiresAt: tx.expiresAt });
    } catch (e) {
      // A concurrent import staged a row with the same ref first: this batch writes nothing.
      if (!isCredenceError(e) || e.code !== Codes.RECORD_EXISTS) throw e;
      result.errors.push(...rowErrors(e.code, 'a row of this batch is being published by a concurrent import'));
      return;
    }
    const outcome = await this.o.chain.submit(tx, this.o.commitTimeoutMs ?? 60_000);
    const summary = { id: b.id, txId: tx.id, root: b.args.root, records: b.args.count, rows: b.rows };
    if (outcome.kind === 'ok') {
      await imports.finish(job, index);
      result.anchored += b.args.count;
      result.batches.push({ ...summary, outcome: 'ok' });
    } else if (outcome.kind === 'refused') {
      this.o.vault.dropBatch(b.id);
      result.errors.push(...rowErrors(outcome.code, `the chain refused the batch: ${outcome.message}`));
      result.batches.push({ ...summary, outcome: 'refused' });
    } else {
      result.pending.push(...rowsOf(b.rows));
      result.batches.push({ ...summary, outcome: 'pending' });
    }
  }

  /**
   * Settle batches left pending by a crash or a timeout: finish those the chain committed,
   * drop those it refused or that can no longer commit, resubmit the rest (same bytes).
   */
  async recover(now = Date.now()): Promise<{ finished: number; dropped: number; waiting: number }> {
    const counts = { finished: 0, dropped: 0, waiting: 0 };
    for (const b of this.o.vault.pendingBatches()) {
      // Only the chain's clock can say a transaction is past committing.
      const pastCommitting = () => this.o.chain.blockTime() > b.txExpiresAt;
      let outcome = this.o.chain.outcome(b.txId);
      if (outcome.kind === 'unknown' && now <= b.txExpiresAt) {
        outcome = await this.o.chain.submit({ id: b.txId, bytes: b.tx, expiresAt: b.txExpiresAt }, this.o.commitTimeoutMs ?? 60_000);
      }
      if (outcome.kind === 'ok') {
        this.o.vault.finishBatch(b.id);
        counts.finished++;
      } else if (outcome.kind === 'refused' || pastCommitting()) {
        this.o.vault.dropBatch(b.id);
        counts.dropped++;
      } else counts.waiting++;
    }
    return counts;
  }
}
