// Block formation: a pure function of the ordered log, shared by every orderer, so that all
// nodes reading the same log cut identical blocks. A block closes when it reaches the
// transaction or byte limit, or when a "cut" marker for its height arrives (any node appends
// one when a non-empty block has been open longer than the cut timeout; later markers for
// the same height are ignored). The cutter keeps no other state, so a node that restarts
// cuts the same blocks; replays and expired transactions are refused deterministically by
// the executor, which records them in the block with their error code.

import type { DecodedTx } from '../codec/tx.js';
import type { OrderingParams } from '../ledger/genesis.js';
import type { ProposedBlock } from './orderer.js';

export type LogEntry =
  | { readonly kind: 'txs'; readonly time: number; readonly txs: readonly DecodedTx[] }
  | { readonly kind: 'cut'; readonly time: number; readonly height: number };

export interface CutterState {
  readonly nextHeight: number;
  readonly lastTime: number;
}

export class BlockCutter {
  private height: number;
  private lastTime: number;
  private open: DecodedTx[] = [];
  private openBytes = 0;
  private openSinceMs: number | undefined;

  constructor(
    private readonly params: OrderingParams,
    state: CutterState,
  ) {
    this.height = state.nextHeight;
    this.lastTime = state.lastTime;
  }

  /** Height the open block will get. */
  get nextHeight(): number {
    return this.height;
  }

  /** Log time at which the open block received its first transaction, if any. */
  get openSince(): number | undefined {
    return this.openSinceMs;
  }

  get openCount(): number {
    return this.open.length;
  }

  push(entry: LogEntry): ProposedBlock[] {
    const out: ProposedBlock[] = [];
    if (entry.kind === 'cut') {
      if (entry.height === this.height && this.open.length > 0) out.push(this.cut(entry.time));
      return out;
    }
    for (const t of entry.txs) {
      if (this.open.length > 0 && this.openBytes + t.bytes.byteLength > this.params.blockBytesMax) {
        out.push(this.cut(entry.time));
      }
      this.add(t, entry.time);
      if (this.open.length >= this.params.blockTxMax) out.push(this.cut(entry.time));
    }
    return out;
  }

  private add(t: DecodedTx, time: number): void {
    if (this.open.length === 0) this.openSinceMs = time;
    this.open.push(t);
    this.openBytes += t.bytes.byteLength;
  }

  private cut(time: number): ProposedBlock {
    this.lastTime = Math.max(this.lastTime, time);
    const block: ProposedBlock = { height: this.height, time: this.lastTime, txs: this.open };
    this.height += 1;
    this.open = [];
    this.openBytes = 0;
    this.openSinceMs = undefined;
    return block;
  }
}
