// The chain: a store, the contract executor and the genesis, with the two ways a block
// arrives — proposed by our own orderer (we execute and seal it) or received from a peer
// (we check it links, check its tx root, re-execute and require the same header hash).
// Signatures are checked by the caller (in the worker pool) before a block gets here.

import type { Block, BlockHeader, TxResult } from '../codec/block.js';
import { headerHash } from '../codec/block.js';
import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { DecodedTx, HashFn } from '../codec/tx.js';
import { genesisWrites } from '../contracts/governance.js';
import { readPolicies } from '../contracts/members.js';
import { systemContracts } from '../contracts/registry.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { Executor } from '../execution/runtime.js';
import { type Genesis, genesisHash } from '../ledger/genesis.js';
import { type HashIntoFn, merkleRoot, merkleRootInto } from '../ledger/merkle.js';
import { ChainStore, type StoredHead } from '../ledger/store.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

export interface CommittedBlock {
  readonly head: StoredHead;
  readonly txs: readonly DecodedTx[];
  readonly results: readonly TxResult[];
}

const GENESIS_META = 'genesis';
const GOV_PREFIX = 'gov/';
const GOV_CACHE_MAX = 10_000;

export class Chain {
  readonly hash: HashFn;
  private readonly hashInto: HashIntoFn;
  private readonly executor: Executor;

  constructor(
    readonly store: ChainStore,
    readonly genesis: Genesis,
    readonly suite: CryptoSuite,
    onFault: (e: unknown, where: string) => void = () => {},
  ) {
    this.hash = (d) => suite.hash(d);
    this.hashInto = (d, out, at) => suite.hashInto(d, out, at);
    this.executor = new Executor(systemContracts(suite), (read) => ({ txTtlMaxMs: readPolicies(read).txTtlMaxMs }), onFault);
    this.initGenesis();
  }

  /** Open the chain database in `path`, creating block 0 from the genesis if it is new. */
  static open(path: string, genesis: Genesis, suite: CryptoSuite, onFault?: (e: unknown, where: string) => void, backgroundCheckpoint = false): Chain {
    const store = ChainStore.open(path, (d) => suite.hash(d), { backgroundCheckpoint, hashInto: (d, out, at) => suite.hashInto(d, out, at) });
    try {
      return new Chain(store, genesis, suite, onFault);
    } catch (e) {
      void store.close();
      throw e;
    }
  }

  private initGenesis(): void {
    const doc = canonicalJsonBytes(this.genesis);
    const stored = this.store.getMeta(GENESIS_META);
    if (stored !== undefined) {
      if (!bytesEqual(stored, doc)) {
        throw new CredenceError(Codes.CONFIG, "this data directory belongs to a different genesis; use the network's genesis.json or a fresh directory");
      }
      return;
    }
    const empty = merkleRoot(this.hash, []);
    this.store.db.transaction(() => {
      this.store.setMeta(GENESIS_META, doc);
      this.store.commitBlock({
        txs: [],
        txIds: [],
        results: [],
        codes: [],
        writes: genesisWrites(this.genesis),
        makeHeader: (stateRoot) => ({
          chainId: this.genesis.chainId,
          height: 0,
          prevHash: genesisHash(this.hash, this.genesis),
          time: this.genesis.time,
          txCount: 0,
          txRoot: empty,
          stateRoot,
          resultsRoot: empty,
        }),
      });
    })();
  }

  head(): StoredHead {
    const h = this.store.head();
    if (h === undefined) throw new CredenceError(Codes.CORRUPT, 'chain has no genesis block');
    return h;
  }

  height(): number {
    return this.store.height();
  }

  /**
   * State reads. Governance keys (members, keys, policy) are read for nearly every
   * transaction, so they are cached here and invalidated whenever a block writes them.
   */
  read = (key: string): Uint8Array | undefined => {
    if (!key.startsWith(GOV_PREFIX)) return this.store.state.get(key);
    if (this.govCache.has(key)) return this.govCache.get(key);
    const v = this.store.state.get(key);
    if (this.govCache.size >= GOV_CACHE_MAX) this.govCache.clear();
    this.govCache.set(key, v);
    return v;
  };

  private readonly govCache = new Map<string, Uint8Array | undefined>();

  /** Execute and seal a block our own orderer proposed. */
  commitProposed(height: number, time: number, txs: readonly DecodedTx[]): CommittedBlock {
    return this.executeAndCommit(height, time, txs);
  }

  /**
   * Apply a block received from a peer. Its transactions' signatures must already be
   * verified. Throws CORRUPT if it does not link, or does not re-execute to the same header.
   */
  applyReceived(block: Block, txs: readonly DecodedTx[]): CommittedBlock {
    const h = block.header;
    const head = this.head();
    if (h.chainId !== this.genesis.chainId) throw new CredenceError(Codes.WRONG_CHAIN, 'block is for another chain');
    if (h.height !== head.header.height + 1 || !bytesEqual(h.prevHash, head.hash)) {
      throw new CredenceError(Codes.CORRUPT, `block ${h.height} does not link to our head ${head.header.height}`, { height: h.height });
    }
    if (h.time < head.header.time) throw new CredenceError(Codes.CORRUPT, `block ${h.height} goes back in time`, { height: h.height });
    if (!bytesEqual(merkleRootInto(this.hashInto, block.txs), h.txRoot)) {
      throw new CredenceError(Codes.CORRUPT, `block ${h.height} has a wrong transaction root`, { height: h.height });
    }
    return this.executeAndCommit(h.height, h.time, txs, headerHash(this.hash, h));
  }

  private executeAndCommit(height: number, time: number, txs: readonly DecodedTx[], expectedHash?: Uint8Array): CommittedBlock {
    const prev = this.head();
    const info = { chainId: this.genesis.chainId, height, time };
    const exec = this.executor.executeBlock(info, txs, this.read, (id) => this.store.hasTx(id));
    const txBytes = txs.map((t) => t.bytes);
    const makeHeader = (stateRoot: Uint8Array): BlockHeader => ({
      chainId: this.genesis.chainId,
      height,
      prevHash: prev.hash,
      time,
      txCount: txs.length,
      txRoot: merkleRootInto(this.hashInto, txBytes),
      stateRoot,
      resultsRoot: merkleRootInto(this.hashInto, exec.resultBytes),
    });
    for (const k of exec.writes.keys()) if (k.startsWith(GOV_PREFIX)) this.govCache.delete(k);
    const head = this.store.commitBlock({
      txs: txBytes,
      txIds: txs.map((t) => t.id),
      results: exec.resultBytes,
      codes: exec.codes,
      writes: exec.writes,
      makeHeader,
      ...(expectedHash === undefined ? {} : { expectedHash }),
    });
    return { head, txs, results: exec.results };
  }

  blockHashHex(height: number): string | undefined {
    const h = this.store.blockHash(height);
    return h === undefined ? undefined : toHex(h);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
