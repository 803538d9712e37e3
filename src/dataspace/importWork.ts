// The part of an import call that runs where its batches are sealed and written (a seal
// worker thread, or the vault's own thread without workers): the call's rows arrive once, as
// JSONL bytes; they are parsed and checked (importRows.ts), the new versions' links come
// from the importer, the good rows are cut into batches, each record built, committed and
// sealed (batchSeal.ts), and each batch staged with its signed transaction and finished over
// this thread's SQLite connection. Back go only row errors and, per batch, the anchor
// arguments and the row numbers: no per-record object crosses a thread.

import type Database from 'better-sqlite3';
import { canonicalJson } from '../codec/canonicalJson.js';
import { type AnchorArgs, batchIdOf, recordIdAt } from '../contracts/recordBatch.js';
import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import {
  type LinkAnswer,
  type LinkQuery,
  type PreparedRow,
  type RowError,
  RowChecker,
  anchorBatches,
  applyLinks,
  linkQueries,
  recordJson,
  rowRuns,
  subjectRuns,
} from './importRows.js';
import { type SealedRecords, sealBatchRecords } from './batchSeal.js';
import type { SchemaDefinition } from './schemas/catalog.js';
import type { RecordValidator } from './validate.js';
import { finishBatchRow, publishedRefsIn, stageSealedRecords } from './vaultStage.js';

/** One import call's rows and what checking them needs. */
export interface ImportRequest {
  readonly def: SchemaDefinition;
  /** The importing organization (the records' provider). */
  readonly provider: string;
  /** JSONL: one row per non-blank line. */
  readonly text: Uint8Array;
  /** Number of the first row; or `rowNumbers`, one per non-blank line (doubles: any safe integer the route accepts). */
  readonly firstRow: number;
  readonly rowNumbers: Float64Array | null;
  readonly pseudonymSecret: Uint8Array | null;
}

/** A sealed batch as the importer sees it: its id, what its anchor transaction carries, its rows in batch order. */
export interface PlannedBatch {
  readonly id: string;
  readonly args: AnchorArgs;
  /** Source row numbers of the batch's records, as runs [first, count] in batch order. */
  readonly rows: [number, number][];
}

/** The signed anchor transaction a batch is staged with. */
export interface StagedTx {
  readonly txId: string;
  readonly tx: Uint8Array;
  readonly txExpiresAt: number;
}

export interface ImportEnv {
  readonly suite: CryptoSuite;
  readonly key: Uint8Array;
  readonly db: Database.Database;
  readonly validator: RecordValidator;
}

/** What an import call needs from the thread that seals its batches; the vault gives one (worker threads, or inline). */
export interface ImportRunner {
  /**
   * Parse and check the rows; the answer names the new versions whose links the importer
   * resolves. A call with no new versions needs nothing from the importer: it is sealed at once
   * and the answer has the sealed batches (`sealed`; no `seal` call then).
   */
  prepare(req: ImportRequest): Promise<Prepared>;
  /** Apply the links, cut, build and seal the batches (kept until staged). */
  seal(job: number, links: readonly LinkAnswer[]): Promise<{ errors: RowError[]; batches: PlannedBatch[] }>;
  /** Write a batch's records with its signed transaction (durable when this resolves). */
  stage(job: number, batch: number, tx: StagedTx): Promise<void>;
  /** Mark a staged batch anchored (its records readable). */
  finish(job: number, batch: number): Promise<void>;
  /** Forget the call (whatever was not staged is dropped). */
  release(job: number): void;
}

/** What preparing a call answers (see ImportRunner.prepare). */
export interface Prepared {
  readonly job: number;
  readonly errors: RowError[];
  readonly links: LinkQuery[];
  readonly sealed?: { errors: RowError[]; batches: PlannedBatch[] };
}

/** Most import calls open at once on one sealing thread. */
export const IMPORT_CALLS_MAX = 64;

interface SealedBatchRows {
  readonly id: string;
  readonly rows: readonly PreparedRow[];
  /** Until staged. */
  records: SealedRecords | undefined;
}

class ImportCall {
  private good: PreparedRow[] = [];
  private readonly sealed: SealedBatchRows[] = [];

  constructor(
    private readonly env: ImportEnv,
    private readonly req: ImportRequest,
  ) {}

  prepare(): { errors: RowError[]; links: LinkQuery[] } {
    const { def, pseudonymSecret } = this.req;
    const checker = new RowChecker({
      def,
      validator: this.env.validator,
      ...(pseudonymSecret === null ? {} : { pseudonymSecret }),
      published: (refs) => publishedRefsIn(this.env.db, def.id, refs),
    });
    const { good, errors } = checker.checkJsonl(this.req.text, this.req.firstRow, this.req.rowNumbers);
    this.good = good;
    return { errors, links: linkQueries(good) };
  }

  seal(answers: readonly LinkAnswer[]): { errors: RowError[]; batches: PlannedBatch[] } {
    if (this.sealed.length > 0) throw new CredenceError(Codes.MALFORMED, 'this import call is already sealed');
    const errors: RowError[] = [];
    const rows = applyLinks(this.good, answers, errors);
    this.good = [];
    return { errors, batches: anchorBatches(rows).map((b) => this.sealBatch(b)) };
  }

  /** Fix the batch's record ids, then commit to each record (salted hash, sealed row) and to the batch (Merkle root). */
  private sealBatch(batch: PreparedRow[]): PlannedBatch {
    const { suite, key } = this.env;
    const { provider, def } = this.req;
    const nonce = toHex(freshRandom(16));
    const id = batchIdOf((d) => suite.hash(d), provider, nonce);
    const [quotedProvider, quotedSchema] = [canonicalJson(provider), canonicalJson(def.id)];
    const records = sealBatchRecords(suite, key, id, batch.length, (i) => {
      const recordId = recordIdAt(id, i);
      return { id: recordId, json: recordJson(recordId, batch[i] as PreparedRow, quotedProvider, quotedSchema) };
    });
    this.sealed.push({ id, rows: batch, records });
    const args: AnchorArgs = {
      schema: def.id,
      nonce,
      root: toHex(records.root),
      count: batch.length,
      subjects: subjectRuns(batch),
      negatives: batch.flatMap((p, i) => (p.negative === undefined ? [] : [[i, p.negative.conductEnd] as const])),
      links: batch.flatMap((p, i) => (p.link === undefined ? [] : [[i, p.link.kind, p.link.id] as const])),
    };
    return { id, args, rows: rowRuns(batch) };
  }

  private batch(index: number): SealedBatchRows {
    const b = this.sealed[index];
    if (b === undefined) throw new CredenceError(Codes.MALFORMED, `no sealed batch ${index} in this import call`);
    return b;
  }

  stage(index: number, tx: StagedTx): void {
    const b = this.batch(index);
    const records = b.records;
    if (records === undefined) throw new CredenceError(Codes.MALFORMED, `batch ${index} of this import call is already staged`);
    const schema = this.req.def.id;
    const rows = b.rows;
    stageSealedRecords(this.env.db, { id: b.id, schema, ...tx, root: records.root, commitments: records.commitments }, records, {
      subject: (i) => (rows[i] as PreparedRow).subject,
      ref: (i) => (rows[i] as PreparedRow).ref,
      version: (i) => {
        const link = (rows[i] as PreparedRow).link;
        return link === undefined ? 1 : link.version + 1;
      },
      expiresAt: (i) => (rows[i] as PreparedRow).negative?.expiresAt ?? null,
    });
    b.records = undefined;
  }

  finish(index: number): void {
    finishBatchRow(this.env.db, this.batch(index).id);
  }
}

/** The import calls open on one sealing thread, by job number (given by the caller). */
export class ImportCalls {
  private readonly calls = new Map<number, ImportCall>();

  constructor(private readonly env: ImportEnv) {}

  private call(job: number): ImportCall {
    const c = this.calls.get(job);
    if (c === undefined) throw new CredenceError(Codes.UNAVAILABLE, 'this import call is gone (released, or its worker restarted)');
    return c;
  }

  /** Prepare a call; one without new versions is sealed at once (its rows die young instead of waiting for a `seal`). */
  prepare(job: number, req: ImportRequest): Omit<Prepared, 'job'> {
    if (this.calls.size >= IMPORT_CALLS_MAX) throw new CredenceError(Codes.POOL_FULL, 'too many import calls in progress; retry later');
    const c = new ImportCall(this.env, req);
    const answer = c.prepare();
    this.calls.set(job, c);
    return answer.links.length === 0 ? { ...answer, sealed: c.seal([]) } : answer;
  }

  seal(job: number, links: readonly LinkAnswer[]): { errors: RowError[]; batches: PlannedBatch[] } {
    return this.call(job).seal(links);
  }

  stage(job: number, batch: number, tx: StagedTx): void {
    this.call(job).stage(batch, tx);
  }

  finish(job: number, batch: number): void {
    this.call(job).finish(batch);
  }

  release(job: number): void {
    this.calls.delete(job);
  }
}

/** An ImportRunner on the calling thread (a vault without seal workers). */
export class InlineImports implements ImportRunner {
  private readonly calls: ImportCalls;
  private nextJob = 0;

  constructor(env: ImportEnv) {
    this.calls = new ImportCalls(env);
  }

  async prepare(req: ImportRequest): Promise<Prepared> {
    const job = this.nextJob++;
    return { job, ...this.calls.prepare(job, req) };
  }

  async seal(job: number, links: readonly LinkAnswer[]): Promise<{ errors: RowError[]; batches: PlannedBatch[] }> {
    return this.calls.seal(job, links);
  }

  async stage(job: number, batch: number, tx: StagedTx): Promise<void> {
    this.calls.stage(job, batch, tx);
  }

  async finish(job: number, batch: number): Promise<void> {
    this.calls.finish(job, batch);
  }

  release(job: number): void {
    this.calls.release(job);
  }
}
