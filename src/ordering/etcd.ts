// The etcd orderer: every node appends batches of admitted transactions to the network's log
// in etcd (Raft-replicated; the revision is the total order) and every node reads the whole
// log back and cuts blocks with the same BlockCutter as solo, so all nodes derive the same
// blocks with no leader of our own. Each proposed block carries the log position after it;
// the node stores it, so a restart resumes reading exactly where its head block ended.
//
// Transactions other nodes appended are screened by the caller (decode, chain, signature) —
// a deterministic filter, so every node drops the same ones. Submissions are coalesced: while
// one put is in flight, new ones queue and go out together as the next entry.

import type { DecodedTx } from '../codec/tx.js';
import type { OrderingParams } from '../ledger/genesis.js';
import { CredenceError, Codes } from '../util/errors.js';
import { BlockCutter, type CutterState } from './cutter.js';
import { EtcdCompactedError, type EtcdClient, type KeyValue } from './etcdClient.js';
import { ENTRY_TXS_MAX, decodeLogEntry, decodeLogEntryHead, encodeLogEntry } from './etcdLog.js';
import type { BlockConsumer, LogPosition, Orderer } from './orderer.js';

export interface EtcdOrdererOptions {
  readonly client: EtcdClient;
  readonly key: string;
  readonly params: OrderingParams;
  readonly state: CutterState & { readonly position: LogPosition };
  /** Decode and check the transactions of one entry; returns the ones to order, in order. */
  readonly screen: (txs: readonly Uint8Array[]) => Promise<DecodedTx[]>;
  /** The log no longer holds our position: the node must sync blocks from peers. */
  readonly onCompacted: (compactRevision: number) => void;
  /** Ordering became unavailable (message) or available again (undefined). */
  readonly onProblem?: (message: string | undefined) => void;
  readonly now?: () => number;
  /** Wait this long past cutTimeoutMs before appending a cut marker (stagger nodes). */
  readonly markerDelayMs?: number;
  /** Largest entry in bytes (etcd's request limit is 1.5 MiB by default). */
  readonly entryBytesMax?: number;
  /** Most bytes queued for appending before submit refuses with POOL_FULL. */
  readonly queueBytesMax?: number;
}

interface Pending {
  readonly txs: readonly DecodedTx[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

interface Prepared {
  readonly rev: number;
  readonly kind: 'txs' | 'cut' | 'bad';
  readonly time: number;
  readonly height: number;
  readonly txs: Promise<DecodedTx[]>;
}

/** Entries read ahead of execution (their signatures are checked meanwhile). */
const LOOKAHEAD = 64;
const PUTS_IN_FLIGHT = 1;
/** Own appended entries remembered until the watch delivers them. */
const OWN_ENTRIES_MAX = 64;

export class EtcdOrderer implements Orderer {
  readonly kind = 'etcd';
  private readonly now: () => number;
  private readonly entryBytesMax: number;
  private readonly queueBytesMax: number;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private putsInFlight = 0;
  private cutter: BlockCutter;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Local wall-clock time at which the open block got its first transaction. */
  private openSeenAt: number | undefined;
  private markerSentFor = -1;
  /** Highest height a cut marker read from the log names (read ahead of execution). */
  private markerSeenFor = -1;
  /** Entries this node appended, by revision: the transactions, already decoded and checked. */
  private readonly own = new Map<number, DecodedTx[]>();
  private lastTime: number;

  constructor(private readonly opts: EtcdOrdererOptions) {
    this.now = opts.now ?? Date.now;
    this.entryBytesMax = opts.entryBytesMax ?? 1024 * 1024;
    this.queueBytesMax = opts.queueBytesMax ?? 64 * 1024 * 1024;
    this.cutter = new BlockCutter(opts.params, opts.state);
    this.lastTime = opts.state.lastTime;
  }

  // ---- appending ---------------------------------------------------------------------------

  async submit(txs: readonly DecodedTx[]): Promise<void> {
    if (this.abort === undefined) throw new CredenceError(Codes.UNAVAILABLE, 'ordering is not running');
    const bytes = txs.reduce((n, t) => n + t.bytes.byteLength + 4, 0);
    if (this.queuedBytes + bytes > this.queueBytesMax) throw new CredenceError(Codes.POOL_FULL, 'too many transactions waiting to be ordered; retry shortly');
    const parts: Promise<void>[] = [];
    for (const chunk of this.chunks(txs)) {
      parts.push(
        new Promise<void>((resolve, reject) => {
          const size = chunk.reduce((n, t) => n + t.bytes.byteLength + 4, 0);
          this.queue.push({ txs: chunk, bytes: size, resolve, reject });
          this.queuedBytes += size;
        }),
      );
    }
    this.pump();
    await Promise.all(parts);
  }

  private chunks(txs: readonly DecodedTx[]): DecodedTx[][] {
    const out: DecodedTx[][] = [[]];
    let size = 0;
    for (const t of txs) {
      const last = out[out.length - 1] as DecodedTx[];
      if (last.length > 0 && (size + t.bytes.byteLength > this.entryBytesMax - 64 || last.length >= ENTRY_TXS_MAX)) {
        out.push([t]);
        size = t.bytes.byteLength;
      } else {
        last.push(t);
        size += t.bytes.byteLength;
      }
    }
    return out;
  }

  private pump(): void {
    while (this.putsInFlight < PUTS_IN_FLIGHT && this.queue.length > 0) {
      const batch: Pending[] = [];
      let size = 0;
      let count = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0] as Pending;
        if (batch.length > 0 && (size + next.bytes > this.entryBytesMax - 64 || count + next.txs.length > ENTRY_TXS_MAX)) break;
        batch.push(next);
        this.queue.shift();
        size += next.bytes;
        count += next.txs.length;
      }
      this.queuedBytes -= size;
      this.putsInFlight += 1;
      void this.append(batch).finally(() => {
        this.putsInFlight -= 1;
        this.pump();
      });
    }
  }

  private async append(batch: Pending[]): Promise<void> {
    const txs = batch.flatMap((p) => p.txs);
    const entry = encodeLogEntry({ kind: 'txs', time: this.logTime(), txs: txs.map((t) => t.bytes) });
    try {
      const rev = await this.opts.client.put(this.opts.key, entry);
      // Our own entry comes back through the watch: reuse these decoded, checked transactions.
      if (this.own.size < OWN_ENTRIES_MAX) this.own.set(rev, txs);
      this.opts.onProblem?.(undefined);
      for (const p of batch) p.resolve();
    } catch (e) {
      const err = new CredenceError(Codes.UNAVAILABLE, 'the ordering service (etcd) did not accept the batch; retry shortly', {}, e);
      this.opts.onProblem?.(`ordering unavailable: ${e instanceof Error ? e.message : String(e)}`);
      for (const p of batch) p.reject(err);
    }
  }

  private logTime(): number {
    this.lastTime = Math.max(this.lastTime, this.now());
    return this.lastTime;
  }

  // ---- reading ----------------------------------------------------------------------------

  async start(consumer: BlockConsumer): Promise<void> {
    this.abort = new AbortController();
    const tick = Math.max(5, Math.floor(this.opts.params.cutTimeoutMs / 4));
    this.timer = setInterval(() => void this.maybeCut(), tick);
    this.timer.unref();
    this.running = this.run(consumer, this.abort.signal);
  }

  private async maybeCut(): Promise<void> {
    const since = this.openSeenAt;
    const height = this.cutter.nextHeight;
    if (since === undefined || this.markerSentFor === height || this.markerSeenFor >= height) return;
    if (this.now() - since < this.opts.params.cutTimeoutMs + (this.opts.markerDelayMs ?? 0)) return;
    this.markerSentFor = height;
    try {
      await this.opts.client.put(this.opts.key, encodeLogEntry({ kind: 'cut', time: this.logTime(), height }));
    } catch {
      this.markerSentFor = -1; // try again on the next tick
    }
  }

  private prepare(kv: KeyValue): Prepared {
    for (const r of this.own.keys()) {
      if (r >= kv.modRevision) break;
      this.own.delete(r); // read before its put returned (it was screened like any other)
    }
    const own = this.own.get(kv.modRevision);
    if (own !== undefined) {
      this.own.delete(kv.modRevision);
      const e = decodeLogEntryHead(kv.value);
      if (e.kind === 'txs' && e.count === own.length) return { rev: kv.modRevision, kind: 'txs', time: e.time, height: 0, txs: Promise.resolve(own) };
    }
    try {
      const e = decodeLogEntry(kv.value);
      // Another node's marker is in the log already (we may not have executed up to it yet).
      if (e.kind === 'cut') this.markerSeenFor = Math.max(this.markerSeenFor, e.height);
      if (e.kind === 'cut') return { rev: kv.modRevision, kind: 'cut', time: e.time, height: e.height, txs: Promise.resolve([]) };
      return { rev: kv.modRevision, kind: 'txs', time: e.time, height: 0, txs: this.opts.screen(e.txs) };
    } catch {
      return { rev: kv.modRevision, kind: 'bad', time: 0, height: 0, txs: Promise.resolve([]) };
    }
  }

  private async run(consumer: BlockConsumer, signal: AbortSignal): Promise<void> {
    const ready: Prepared[] = [];
    let wake: (() => void) | undefined;
    let readerDone = false;
    let failure: unknown;
    const reader = (async () => {
      try {
        for await (const kvs of this.opts.client.watch(this.opts.key, this.opts.state.position.rev, signal)) {
          for (const kv of kvs) ready.push(this.prepare(kv));
          wake?.();
          while (ready.length > LOOKAHEAD && !signal.aborted) await new Promise((r) => setTimeout(r, 2));
        }
      } catch (e) {
        failure = e;
      } finally {
        readerDone = true;
        wake?.();
      }
    })();
    try {
      while (!signal.aborted) {
        const p = ready.shift();
        if (p === undefined) {
          if (readerDone) break;
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
          continue;
        }
        await this.process(p, consumer);
      }
    } catch {
      // The consumer failed (the node has halted and says why): stop reading.
      this.abort?.abort();
    }
    await reader;
    if (failure instanceof EtcdCompactedError && !signal.aborted) this.opts.onCompacted(failure.compactRevision);
  }

  private async process(p: Prepared, consumer: BlockConsumer): Promise<void> {
    const start = this.opts.state.position;
    if (p.rev < start.rev || p.kind === 'bad') return;
    if (p.kind === 'cut') {
      for (const b of this.cutter.push({ kind: 'cut', time: p.time, height: p.height })) {
        this.openSeenAt = undefined;
        await consumer({ ...b, next: { rev: p.rev + 1, skip: 0 } });
      }
      return;
    }
    const all = await p.txs;
    const skip = p.rev === start.rev ? start.skip : 0;
    const txs = skip > 0 ? all.slice(skip) : all;
    const openBefore = this.cutter.openCount;
    const blocks = this.cutter.push({ kind: 'txs', time: p.time, txs });
    let consumed = 0;
    for (const [j, b] of blocks.entries()) {
      consumed += b.txs.length - (j === 0 ? openBefore : 0);
      const next = consumed >= txs.length ? { rev: p.rev + 1, skip: 0 } : { rev: p.rev, skip: skip + consumed };
      await consumer({ ...b, next });
    }
    if (this.cutter.openCount === 0) this.openSeenAt = undefined;
    else if (blocks.length > 0 || this.openSeenAt === undefined) this.openSeenAt = this.now();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    this.abort = undefined;
    const err = new CredenceError(Codes.UNAVAILABLE, 'ordering stopped');
    for (const p of this.queue) p.reject(err);
    this.queue = [];
    this.queuedBytes = 0;
    await this.running;
  }
}
