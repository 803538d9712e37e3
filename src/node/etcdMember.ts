// A node's part in an etcd-ordered network: runs the etcd orderer from the log position
// after its head block, signs and exchanges checkpoints, syncs blocks from peers when the
// log no longer holds its position (restart after compaction, a long pause, a late join),
// registers its API URL in etcd for peer discovery, and compacts the log below the final
// height once it is checkpointed by a majority.

import { join } from 'node:path';
import { encodeHeader } from '../codec/block.js';
import type { DecodedTx } from '../codec/tx.js';
import { Keys, readJson } from '../contracts/members.js';
import { decodeTx } from '../codec/tx.js';
import { EtcdOrderer } from '../ordering/etcd.js';
import { EtcdClient } from '../ordering/etcdClient.js';
import { logKey } from '../ordering/etcdLog.js';
import type { LogPosition, ProposedBlock } from '../ordering/orderer.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { CommittedBlock } from './chain.js';
import { CheckpointBook } from './checkpoints.js';
import type { EtcdOrderingConfig } from './config.js';
import type { NodeHooks } from './nodeHooks.js';
import { OrderingStore } from './orderingStore.js';
import { PeerSync } from './sync.js';

const COMPACT_EVERY_MS = 2000;
const GENESIS_POSITION: LogPosition = { rev: 1, skip: 0 };
const hexOrEmpty = (b: Uint8Array | undefined) => (b === undefined ? '' : toHex(b));

export interface NetworkView {
  readonly orgId: string;
  readonly height: number;
  readonly finalHeight: number;
  readonly syncing: boolean;
  readonly position: LogPosition | null;
  readonly checkpoints: ReturnType<CheckpointBook['view']>;
  readonly divergences: string[];
  readonly peers: string[];
}

export class EtcdMember {
  readonly client: EtcdClient;
  readonly store: OrderingStore;
  readonly checkpoints: CheckpointBook;
  private readonly sync: PeerSync;
  private orderer: EtcdOrderer | undefined;
  private syncing = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private lastCompactAt = 0;
  private knownPeers: string[] = [];
  private orgListSeen = '';
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly hooks: NodeHooks,
    private readonly config: EtcdOrderingConfig,
    private readonly selfUrl: string,
    private readonly rank: number,
  ) {
    this.client = new EtcdClient(config.endpoints);
    this.store = new OrderingStore(join(hooks.dataDir, 'ordering.db'));
    this.checkpoints = new CheckpointBook(hooks, this.store, this.client, (h) => void this.maybeCompact(h));
    this.sync = new PeerSync(hooks, () => this.peers());
  }

  private get prefix(): string {
    return `/credence/${this.hooks.genesis.chainId}`;
  }

  async start(): Promise<void> {
    this.orgListSeen = hexOrEmpty(this.hooks.chain.read(Keys.orgList));
    this.unsubscribe = this.hooks.onCommit((c) => this.recordEpoch(c));
    void this.register();
    this.checkpoints.start();
    this.startOrdering();
  }

  private async register(): Promise<void> {
    for (let attempt = 0; !this.stopped && attempt < 600; attempt++) {
      try {
        await this.client.put(`${this.prefix}/nodes/${this.hooks.orgId}`, new TextEncoder().encode(this.selfUrl));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * When a block changes the member list, keep proofs of the list and of every member's record
   * against its state root (it is the head right now), for light clients (finality.ts).
   */
  private recordEpoch(c: CommittedBlock): void {
    const raw = this.hooks.chain.read(Keys.orgList);
    const seen = hexOrEmpty(raw);
    if (seen === this.orgListSeen) return;
    this.orgListSeen = seen;
    const state = this.hooks.chain.store.state;
    const entry = (key: string) => {
      const v = this.hooks.chain.read(key);
      return { value: v === undefined ? '' : toHex(v), proof: state.prove(key) };
    };
    const ids = (readJson(this.hooks.chain.read, Keys.orgList) as string[] | undefined) ?? [];
    const height = c.head.header.height;
    this.store.setEpoch(height, {
      height,
      header: toHex(encodeHeader(c.head.header)),
      orgList: entry(Keys.orgList),
      orgs: ids.map((id) => ({ id, ...entry(Keys.org(id)) })),
    });
    this.hooks.log.info('membership changed; recorded the proofs for light clients', { height, members: ids.length });
  }

  /** Peers from the config and from the registry in etcd (the last list seen if etcd is down). */
  async peers(): Promise<string[]> {
    try {
      const kvs = await this.client.getPrefix(`${this.prefix}/nodes/`);
      this.knownPeers = kvs.map((kv) => new TextDecoder().decode(kv.value));
    } catch {
      // keep the last list
    }
    return [...new Set([...(this.config.peers ?? []), ...this.knownPeers])].filter((u) => u !== this.selfUrl);
  }

  private startOrdering(): void {
    if (this.stopped || this.hooks.isHalted()) return;
    const height = this.hooks.chain.height();
    const position = this.store.position(height) ?? (height === 0 ? GENESIS_POSITION : undefined);
    if (position === undefined) {
      void this.resync();
      return;
    }
    const head = this.hooks.chain.head();
    this.orderer = new EtcdOrderer({
      client: this.client,
      key: logKey(this.hooks.genesis.chainId),
      params: this.hooks.genesis.ordering,
      state: { nextHeight: height + 1, lastTime: head.header.time, position },
      screen: (txs) => this.screen(txs),
      onCompacted: (rev) => {
        this.hooks.log.warn('the etcd log no longer holds our position; syncing blocks from peers', {
          height: this.hooks.chain.height(),
          compactRevision: rev,
        });
        void this.resync();
      },
      onProblem: (m) => this.hooks.setProblem('ordering', m),
      markerDelayMs: this.rank * this.hooks.genesis.ordering.cutTimeoutMs,
    });
    void this.orderer.start((b) => this.commit(b));
  }

  private commit(b: ProposedBlock): void {
    if (b.next !== undefined) this.store.setPosition(b.height, b.next);
    this.hooks.commit(b);
  }

  /** Decode, check the chain and verify the signatures of one log entry's transactions. */
  private async screen(raw: readonly Uint8Array[]): Promise<DecodedTx[]> {
    const txs: DecodedTx[] = [];
    for (const bytes of raw) {
      try {
        const d = decodeTx(this.hooks.chain.hash, bytes);
        if (d.tx.chainId === this.hooks.genesis.chainId) txs.push(d);
      } catch {
        // undecodable: every node drops it
      }
    }
    const unchecked = txs.filter((t) => !this.hooks.isPending(t.idHex));
    if (unchecked.length === 0) return txs;
    const ok = await this.hooks.verify(unchecked);
    const bad = new Set(unchecked.filter((_, i) => !ok[i]).map((t) => t.idHex));
    return bad.size === 0 ? txs : txs.filter((t) => !bad.has(t.idHex));
  }

  private async resync(): Promise<void> {
    if (this.syncing || this.stopped) return;
    this.syncing = true;
    this.hooks.setProblem('syncing', 'syncing blocks from peers: the etcd log no longer holds our position');
    await this.orderer?.stop();
    this.orderer = undefined;
    let waitMs = 200;
    while (!this.stopped && !this.hooks.isHalted()) {
      try {
        const r = await this.sync.syncOnce(this.abort.signal);
        if (r !== undefined) {
          this.store.setPosition(r.height, r.position);
          this.hooks.log.info('synced from peer', { peer: r.peer, height: r.height, rev: r.position.rev });
          break;
        }
      } catch (e) {
        this.hooks.log.warn('sync failed', { error: String(e) });
      }
      await new Promise((r) => setTimeout(r, waitMs));
      waitMs = Math.min(waitMs * 2, 2000);
    }
    this.syncing = false;
    this.hooks.setProblem('syncing', undefined);
    this.startOrdering();
  }

  async submit(txs: readonly DecodedTx[]): Promise<void> {
    if (this.orderer === undefined) throw new CredenceError(Codes.UNAVAILABLE, 'node is syncing blocks from peers; retry shortly or use another node');
    await this.orderer.submit(txs);
  }

  /** Compact the etcd log below the position of (final height − retainBlocks). */
  private async maybeCompact(finalHeight: number): Promise<void> {
    const now = Date.now();
    if (now - this.lastCompactAt < COMPACT_EVERY_MS) return;
    const upTo = finalHeight - (this.config.retainBlocks ?? 1000);
    const pos = upTo > 0 ? this.store.position(upTo) : undefined;
    if (pos === undefined) return;
    this.lastCompactAt = now;
    try {
      await this.client.compact(pos.rev);
      this.hooks.log.debug('compacted the etcd log', { height: upTo, revision: pos.rev });
    } catch (e) {
      this.hooks.log.warn('compaction failed', { error: String(e) });
    }
  }

  async view(): Promise<NetworkView> {
    const height = this.hooks.chain.height();
    return {
      orgId: this.hooks.orgId,
      height,
      finalHeight: this.checkpoints.finalHeight,
      syncing: this.syncing,
      position: this.store.position(height) ?? null,
      checkpoints: this.checkpoints.view(),
      divergences: this.checkpoints.divergences(),
      peers: await this.peers(),
    };
  }

  /** Stop ordering after a halt (the node no longer writes). */
  async haltOrdering(): Promise<void> {
    await this.orderer?.stop();
    this.orderer = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.unsubscribe?.();
    this.checkpoints.stop();
    await this.orderer?.stop();
    this.orderer = undefined;
    this.store.close();
  }
}
