// The ordering seam. An orderer turns admitted transactions into a totally ordered log and
// the log into proposed blocks; the node executes and commits them. `solo` keeps the log in
// process; `etcd` (later) keeps it in an etcd cluster. Both cut blocks with BlockCutter.

import type { DecodedTx } from '../codec/tx.js';

/** A place in an external log: the entry at revision `rev`, after its first `skip` txs. */
export interface LogPosition {
  readonly rev: number;
  readonly skip: number;
}

export interface ProposedBlock {
  readonly height: number;
  /** Block time: deterministic from the log, never decreasing. */
  readonly time: number;
  readonly txs: readonly DecodedTx[];
  /** Orderers with an external log: where the log continues after this block. */
  readonly next?: LogPosition;
}

/** Called once per block, in height order; the next block waits for the promise. */
export type BlockConsumer = (block: ProposedBlock) => Promise<void> | void;

export interface Orderer {
  readonly kind: string;
  /** Append admitted transactions to the log. */
  submit(txs: readonly DecodedTx[]): Promise<void>;
  /** Begin delivering blocks to the consumer. */
  start(consumer: BlockConsumer): Promise<void>;
  stop(): Promise<void>;
}
