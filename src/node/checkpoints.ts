// Checkpoints between nodes. After every block a node signs (height, block hash, state
// root), keeps it (served at /v1/checkpoints/:height) and publishes its latest one in etcd
// under /credence/<chain>/ckpt/<org>. It reads the others' latest checkpoints and compares
// each with its own block at that height:
// - a match confirms that organization up to that height; a block confirmed by a majority
//   of the member organizations (this node included) is final;
// - a mismatch is divergence, reported at once: if our own block at that height is not
//   final, this node stops writing (halts; /health says why), otherwise the other
//   organization is reported as diverged (degraded) while the majority carries on.

import { type Checkpoint, checkpointDigest, decodeCheckpoint, encodeCheckpoint } from '../codec/checkpoint.js';
import { Keys, orgOfKey, readJson } from '../contracts/members.js';
import type { EtcdClient } from '../ordering/etcdClient.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import type { CommittedBlock } from './chain.js';
import type { NodeHooks } from './nodeHooks.js';
import type { OrderingStore } from './orderingStore.js';

export interface OrgCheckpoint {
  readonly orgId: string;
  readonly height: number;
  readonly blockHash: string;
  /** Highest height at which its checkpoints matched our chain. */
  readonly confirmed: number;
}

// Every put is a Raft write on every etcd member: publish at most twice a second (the latest
// checkpoint covers the earlier ones) and read the others' as often.
const PUBLISH_EVERY_MS = 500;
const POLL_EVERY_MS = 500;

export function checkpointPrefix(chainId: string): string {
  return `/credence/${chainId}/ckpt/`;
}

export class CheckpointBook {
  private readonly confirmed = new Map<string, number>();
  private readonly latest = new Map<string, Checkpoint>();
  private readonly diverged = new Map<string, string>();
  private finalHeightValue = 0;
  private toPublish: Uint8Array | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private signing: Promise<void> = Promise.resolve();

  constructor(
    private readonly hooks: NodeHooks,
    private readonly store: OrderingStore,
    private readonly client: EtcdClient,
    private readonly onFinal: (height: number) => void,
  ) {}

  get finalHeight(): number {
    return this.finalHeightValue;
  }

  start(): void {
    this.unsubscribe = this.hooks.onCommit((c) => this.committed(c));
    const every = (ms: number, fn: () => Promise<void>) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy) return;
        busy = true;
        void fn().finally(() => {
          busy = false;
        });
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(PUBLISH_EVERY_MS, () => this.publish());
    every(POLL_EVERY_MS, () => this.poll());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
  }

  private committed(c: CommittedBlock): void {
    const body = { chainId: this.hooks.genesis.chainId, height: c.head.header.height, blockHash: c.head.hash, stateRoot: c.head.header.stateRoot };
    this.signing = this.signing.then(async () => {
      const signature = await this.hooks.signer.sign(checkpointDigest((d) => this.hooks.suite.hash(d), body));
      const bytes = encodeCheckpoint({ ...body, signer: this.hooks.signer.publicKey, signature });
      this.store.setCheckpoint(body.height, bytes);
      this.toPublish = bytes;
    });
    for (const [org, ck] of this.latest) if (ck.height <= body.height && (this.confirmed.get(org) ?? -1) < ck.height) this.compare(org, ck);
    this.recomputeFinal();
  }

  private async publish(): Promise<void> {
    const bytes = this.toPublish;
    if (bytes === undefined) return;
    try {
      await this.client.put(`${checkpointPrefix(this.hooks.genesis.chainId)}${this.hooks.orgId}`, bytes);
      if (this.toPublish === bytes) this.toPublish = undefined;
    } catch {
      // etcd is unavailable: the next tick publishes the then-latest checkpoint
    }
  }

  private async poll(): Promise<void> {
    let kvs: { key: string; value: Uint8Array }[];
    try {
      kvs = await this.client.getPrefix(checkpointPrefix(this.hooks.genesis.chainId));
    } catch {
      return;
    }
    for (const kv of kvs) this.receive(kv.value);
    this.recomputeFinal();
  }

  /** Check and record one published checkpoint. */
  receive(bytes: Uint8Array): void {
    let ck: Checkpoint;
    try {
      ck = decodeCheckpoint(bytes);
    } catch {
      return;
    }
    const suite = this.hooks.suite;
    if (ck.chainId !== this.hooks.genesis.chainId) return;
    const org = orgOfKey(this.hooks.chain.read, toHex(ck.signer));
    if (org === undefined || org.id === this.hooks.orgId) return;
    const prev = this.latest.get(org.id);
    if (prev !== undefined && prev.height >= ck.height) return; // seen: no need to verify it again
    if (
      !suite.verify(
        ck.signer,
        checkpointDigest((d) => suite.hash(d), ck),
        ck.signature,
      )
    )
      return;
    this.latest.set(org.id, ck);
    if (ck.height <= this.hooks.chain.height()) this.compare(org.id, ck);
  }

  private compare(orgId: string, ck: Checkpoint): void {
    const ours = this.hooks.chain.store.header(ck.height);
    const hash = this.hooks.chain.store.blockHash(ck.height);
    if (ours === undefined || hash === undefined) return;
    if (bytesEqual(hash, ck.blockHash) && bytesEqual(ours.stateRoot, ck.stateRoot)) {
      this.confirmed.set(orgId, Math.max(this.confirmed.get(orgId) ?? 0, ck.height));
      return;
    }
    if (this.diverged.has(orgId)) return;
    const what = `organization ${orgId} signed block ${ck.height} as ${toHex(ck.blockHash).slice(0, 16)}… (state ${toHex(ck.stateRoot).slice(0, 16)}…), ours is ${toHex(hash).slice(0, 16)}… (state ${toHex(ours.stateRoot).slice(0, 16)}…)`;
    this.diverged.set(orgId, what);
    this.recomputeFinal();
    this.hooks.log.error('ALERT: divergence detected', { org: orgId, height: ck.height, ours: toHex(hash), theirs: toHex(ck.blockHash) });
    if (this.finalHeightValue >= ck.height) this.hooks.setProblem(`diverged:${orgId}`, `diverged: ${what}; a majority confirms our block`);
    else this.hooks.halt(`diverged at height ${ck.height}: ${what}; stopped writing`);
  }

  private memberCount(): number {
    const list = readJson(this.hooks.chain.read, Keys.orgList);
    return Array.isArray(list) ? list.length : this.hooks.genesis.orgs.length;
  }

  private recomputeFinal(): void {
    const heights = [this.hooks.chain.height()];
    for (const [org, h] of this.confirmed) if (!this.diverged.has(org)) heights.push(h);
    heights.sort((a, b) => b - a);
    const majority = Math.floor(this.memberCount() / 2) + 1;
    const final = heights[majority - 1] ?? 0;
    if (final > this.finalHeightValue) {
      this.finalHeightValue = final;
      this.onFinal(final);
    }
  }

  /** What each organization has published, for `network status`. */
  view(): OrgCheckpoint[] {
    return [...this.latest].map(([orgId, ck]) => ({
      orgId,
      height: ck.height,
      blockHash: toHex(ck.blockHash),
      confirmed: this.confirmed.get(orgId) ?? 0,
    }));
  }

  divergences(): string[] {
    return [...this.diverged.values()];
  }
}
