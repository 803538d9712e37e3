// What the network-level parts of a node (etcd ordering, checkpoints, block sync) may do to
// the node: a narrow interface, so they do not depend on CredenceNode itself.

import type { DecodedTx } from '../codec/tx.js';
import type { CryptoSuite, Signer } from '../crypto/suite.js';
import type { Genesis } from '../ledger/genesis.js';
import type { ProposedBlock } from '../ordering/orderer.js';
import type { Chain, CommittedBlock } from './chain.js';
import type { Logger } from './log.js';

export interface NodeHooks {
  readonly chain: Chain;
  readonly genesis: Genesis;
  readonly suite: CryptoSuite;
  readonly signer: Signer;
  readonly log: Logger;
  readonly orgId: string;
  readonly dataDir: string;
  /** Execute and commit a block from our orderer; throws (and the node halts) on failure. */
  commit(b: ProposedBlock): void;
  /** Verify (signatures, linkage, re-execution) and apply an encoded block from a peer. */
  applyBlock(bytes: Uint8Array): Promise<void>;
  /** Check signatures in the worker pool; one boolean per item. */
  verify(txs: readonly DecodedTx[]): Promise<boolean[]>;
  /** Was this transaction admitted (and its signature checked) by this node? */
  isPending(idHex: string): boolean;
  /** Stop writing for good; /health reports the reason. */
  halt(reason: string): void;
  isHalted(): boolean;
  /** Set (or clear, with undefined) a named problem that /health reports. */
  setProblem(key: string, message: string | undefined): void;
  onCommit(fn: (c: CommittedBlock) => void): () => void;
}
