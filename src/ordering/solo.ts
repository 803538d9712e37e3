// The solo orderer: the log lives in this process and a single node orders for the network,
// like Fabric's solo and FISCO's single-node "Air" setup. Log times come from the injected
// clock, made monotonic, so block time never goes backwards even if the wall clock does.
//
// When to cut (group commit): an open block is cut `idleCutMs` after its first transaction
// if the consumer is idle, and as soon as the consumer finishes its current block otherwise
// — so a block holds what arrived while the previous one was being committed, and its size
// follows the load. `cutTimeoutMs` stays the upper bound. Cut markers go through the log
// like any entry, so the blocks stay a pure function of the log.

import type { DecodedTx } from '../codec/tx.js';
import type { OrderingParams } from '../ledger/genesis.js';
import { CredenceError, Codes } from '../util/errors.js';
import { BlockCutter, type CutterState, type LogEntry } from './cutter.js';
import type { BlockConsumer, Orderer, ProposedBlock } from './orderer.js';

export interface SoloOptions {
  readonly params: OrderingParams;
  readonly state: CutterState;
  readonly now?: () => number;
  /** Most proposed blocks waiting for the consumer before submit refuses with POOL_FULL. */
  readonly queueBlocksMax?: number;
  /** Cut an open block this soon when the consumer is idle (default min(5, cutTimeoutMs)). */
  readonly idleCutMs?: number;
}

export class SoloOrderer implements Orderer {
  readonly kind = 'solo';
  private readonly cutter: BlockCutter;
  private readonly now: () => number;
  private lastLogTime: number;
  private readonly queue: ProposedBlock[] = [];
  private consumer: BlockConsumer | undefined;
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly idleCutMs: number;
  private readonly queueBlocksMax: number;
  private failure: unknown;

  constructor(private readonly opts: SoloOptions) {
    this.cutter = new BlockCutter(opts.params, opts.state);
    this.now = opts.now ?? Date.now;
    this.lastLogTime = opts.state.lastTime;
    this.queueBlocksMax = opts.queueBlocksMax ?? 64;
    this.idleCutMs = Math.min(opts.idleCutMs ?? 5, opts.params.cutTimeoutMs);
  }

  private logTime(): number {
    this.lastLogTime = Math.max(this.lastLogTime, this.now());
    return this.lastLogTime;
  }

  async submit(txs: readonly DecodedTx[]): Promise<void> {
    if (this.failure !== undefined) throw new CredenceError(Codes.UNAVAILABLE, 'ordering has stopped after a failure');
    if (this.queue.length >= this.queueBlocksMax) {
      throw new CredenceError(Codes.POOL_FULL, 'the node is behind on execution; retry shortly');
    }
    this.append({ kind: 'txs', time: this.logTime(), txs });
  }

  private append(entry: LogEntry): void {
    for (const b of this.cutter.push(entry)) this.queue.push(b);
    void this.drain();
    this.scheduleIdleCut();
  }

  private busy(): boolean {
    return this.draining || this.queue.length > 0;
  }

  /** Arm the idle cut for the open block, unless one is armed or the consumer is busy. */
  private scheduleIdleCut(): void {
    const since = this.cutter.openSince;
    if (this.idleTimer !== undefined || since === undefined || this.busy() || this.consumer === undefined) return;
    const wait = Math.max(0, since + this.idleCutMs - this.now());
    this.idleTimer = setTimeout(
      () => {
        this.idleTimer = undefined;
        const open = this.cutter.openSince;
        if (this.busy() || open === undefined) return;
        if (this.now() - open < this.idleCutMs) this.scheduleIdleCut();
        else this.append({ kind: 'cut', time: this.logTime(), height: this.cutter.nextHeight });
      },
      Math.max(1, wait),
    );
    this.idleTimer.unref();
  }

  async start(consumer: BlockConsumer): Promise<void> {
    this.consumer = consumer;
    const tick = Math.max(5, Math.floor(this.opts.params.cutTimeoutMs / 4));
    this.timer = setInterval(() => this.maybeCut(), tick);
    this.timer.unref();
  }

  private maybeCut(): void {
    const since = this.cutter.openSince;
    if (since === undefined) return;
    const time = this.logTime();
    if (time - since >= this.opts.params.cutTimeoutMs) this.append({ kind: 'cut', time, height: this.cutter.nextHeight });
  }

  private async drain(): Promise<void> {
    if (this.draining || this.consumer === undefined) return;
    this.draining = true;
    try {
      for (let b = this.queue.shift(); b !== undefined; b = this.queue.shift()) await this.consumer(b);
    } catch (e) {
      // A block that cannot be committed is a broken invariant: stop ordering rather than
      // fork. The consumer has already reported it (the node halts and /health says why).
      this.failure = e;
      this.queue.length = 0;
    } finally {
      this.draining = false;
      // Let the I/O that arrived during the commit (new transactions) in first.
      if (this.failure === undefined) setImmediate(() => this.scheduleIdleCut());
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.timer = undefined;
    this.idleTimer = undefined;
    this.consumer = undefined;
  }
}
