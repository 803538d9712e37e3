// Block sync from peers: for a node that restarts behind the log etcd still holds, falls
// behind it while paused, or joins late. Ask the peers their heights, stream blocks from the
// highest one, verify each (signatures, linkage, re-execution to the same header hash) and
// apply it; then ask that peer for the log position after our new head, so ordering resumes
// from the log. Any bad block from a peer is refused (and that peer is not used again).

import type { LogPosition } from '../ordering/orderer.js';
import { CredenceClient } from '../sdk/client.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import type { NodeHooks } from './nodeHooks.js';

export interface SyncResult {
  readonly height: number;
  readonly position: LogPosition;
  readonly peer: string;
}

const INFO_TIMEOUT_MS = 2000;

export class PeerSync {
  private readonly distrusted = new Set<string>();

  constructor(
    private readonly hooks: NodeHooks,
    private readonly peers: () => Promise<string[]>,
  ) {}

  client(url: string, timeoutMs = 30_000): CredenceClient {
    return new CredenceClient({ url, suite: this.hooks.suite, signer: this.hooks.signer, chainId: this.hooks.genesis.chainId, timeoutMs });
  }

  /** Peers with their heights, highest first (unreachable ones left out). */
  async heights(): Promise<{ url: string; height: number }[]> {
    const urls = (await this.peers()).filter((u) => !this.distrusted.has(u));
    const infos = await Promise.all(
      urls.map(async (url) => {
        try {
          const info = await this.client(url, INFO_TIMEOUT_MS).info();
          return info.chainId === this.hooks.genesis.chainId ? { url, height: info.height } : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    return infos.filter((i): i is { url: string; height: number } => i !== undefined).sort((a, b) => b.height - a.height);
  }

  /** Catch up from the best peer; undefined when no peer is ahead of us or none answers. */
  async syncOnce(signal: AbortSignal): Promise<SyncResult | undefined> {
    for (const peer of await this.heights()) {
      if (signal.aborted) return undefined;
      try {
        if (peer.height > this.hooks.chain.height()) await this.fetchBlocks(peer.url, peer.height, signal);
        const height = this.hooks.chain.height();
        const position = await this.client(peer.url).request<LogPosition>('GET', `/v1/ordering/position/${height}`);
        if (!Number.isSafeInteger(position.rev) || !Number.isSafeInteger(position.skip))
          throw new CredenceError(Codes.MALFORMED, 'peer sent a bad log position');
        return { height, position, peer: peer.url };
      } catch (e) {
        if (isCredenceError(e) && (e.code === Codes.CORRUPT || e.code === Codes.BAD_SIGNATURE || e.code === Codes.MALFORMED)) {
          this.distrusted.add(peer.url);
          this.hooks.log.error('peer sent a block that does not verify; not syncing from it again', { peer: peer.url, code: e.code });
        } else this.hooks.log.warn('sync from peer failed; trying another', { peer: peer.url, error: isCredenceError(e) ? e.code : String(e) });
      }
    }
    return undefined;
  }

  private async fetchBlocks(url: string, target: number, outer: AbortSignal): Promise<void> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    outer.addEventListener('abort', onAbort);
    try {
      this.hooks.log.info('syncing blocks from peer', { peer: url, from: this.hooks.chain.height() + 1, to: target });
      for await (const bytes of this.client(url).streamBlocks(this.hooks.chain.height() + 1, ctl.signal)) {
        await this.hooks.applyBlock(bytes);
        if (this.hooks.chain.height() >= target) break;
      }
    } finally {
      ctl.abort();
      outer.removeEventListener('abort', onAbort);
    }
  }
}
