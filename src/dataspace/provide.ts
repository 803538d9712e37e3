// The provider's side of a delivery: check the chain (`authorizedRecords`), read each
// authorized record and its salt from the vault, prove its inclusion in its anchored batch,
// attach the subject's dispute statement, seal to the consumer and sign. An access is
// served once per provider: a second request under the same access id is a replay.

import type { CryptoSuite, Signer } from '../crypto/suite.js';
import type { StateReader } from '../execution/runtime.js';
import { bytesEqual, fromHex, toHex } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { readAccess } from '../contracts/access.js';
import type { BatchCache } from '../contracts/records.js';
import { OUTCOMES_MAX, OUTCOMES_PER_TX_MAX, ownOutcomes, readOutcomes } from '../contracts/deliveries.js';
import type { ChainPort } from './chainPort.js';
import { type Delivery, type DeliveryItem, authorizedRecords, sealDelivery } from './delivery.js';
import type { Inclusion, StoredRecord } from './vault.js';

/** What delivery reads from the provider's vault. */
export interface DeliverySource {
  get(id: string): StoredRecord | undefined;
  inclusion(id: string): Inclusion | undefined;
  /** The subject's statement of a dispute, kept by this provider. */
  getStatement(disputeId: string): string | undefined;
}

export interface DeliveryRequest {
  readonly accessId: string;
  readonly consumer: string;
  readonly consumerSealKey: Uint8Array;
}

/** Where a provider keeps the access ids it served (served.ts: SQLite, survives restarts). */
export interface ServedLog {
  /** Throws ACCESS_REPLAYED if `accessId` was served before. */
  claim(accessId: string, validUntil: number, now: number): void;
  release(accessId: string): void;
}

function item(source: DeliverySource, id: string, root: string, disputeId: string | undefined): DeliveryItem | undefined {
  const stored = source.get(id);
  const inc = source.inclusion(id);
  // A record whose key was destroyed (expired) or that is not in this vault is not delivered;
  // the consumer sees it as missing.
  if (stored === undefined || inc === undefined || !bytesEqual(inc.root, fromHex(root))) return undefined;
  const p = inc.proof;
  const statement = disputeId === undefined ? undefined : source.getStatement(disputeId);
  return {
    record: stored.record,
    salt: toHex(stored.salt),
    proof: { index: p.index, size: p.size, path: p.path.map((x) => toHex(x)) },
    ...(statement === undefined ? {} : { statement }),
  };
}

export async function deliver(
  o: { suite: CryptoSuite; signer: Signer; read: StateReader; provider: string; now: number; height: number; served: ServedLog; batches?: BatchCache },
  source: DeliverySource,
  req: DeliveryRequest,
): Promise<{ envelope: Delivery; items: number }> {
  // A delivery now comes after the head block: a revocation in the head block already counts.
  const at = {
    accessId: req.accessId,
    provider: o.provider,
    consumer: req.consumer,
    now: o.now,
    height: o.height + 1,
    ...(o.batches === undefined ? {} : { batches: o.batches }),
  };
  const { access, records } = authorizedRecords(o.read, at);
  // The chain's record of an earlier delivery guards replays even if the local log was lost.
  if (readOutcomes(o.read, access.id, o.provider).some((x) => x.outcome === 'delivered'))
    throw new CredenceError('ACCESS_REPLAYED', 'this access was already served by this provider; request access again');
  o.served.claim(access.id, access.validUntil ?? o.now, o.now);
  try {
    const items = records.flatMap((r) => item(source, r.id, r.root, r.dispute?.id) ?? []);
    const envelope = await sealDelivery(o.suite, o.signer, {
      accessId: access.id,
      provider: o.provider,
      consumerSealKey: req.consumerSealKey,
      items,
      height: o.height,
    });
    return { envelope, items: items.length };
  } catch (e) {
    o.served.release(access.id);
    throw e;
  }
}

/** How long a provider gathers delivery outcomes before recording them in one transaction, at most. */
export const OUTCOME_FLUSH_MS = 1000;

/**
 * Time until the next flush: flushes fall on whole multiples of OUTCOME_FLUSH_MS of the wall
 * clock, so providers (clocks kept in step) send their outcome transactions at the same
 * moments and they share a block, instead of each provider's landing in a block of its own.
 */
export function untilFlush(now: number): number {
  return OUTCOME_FLUSH_MS - (now % OUTCOME_FLUSH_MS);
}

const OUTCOMES_BUFFERED_MAX = 4096;

type Outcome =
  | { accessId: string; requester: string; outcome: 'delivered'; records: number }
  | { accessId: string; requester: string; outcome: 'refused'; code: string };

/**
 * Records on chain what became of delivery requests (`deliveries.recordMany`), in the
 * background: gathered until the next flush (at most OUTCOME_FLUSH_MS, on the wall clock's
 * multiples of it), then one transaction per OUTCOMES_PER_TX_MAX, so
 * the subject sees which providers served an access and which refused without a transaction
 * per delivery. Only for accesses on chain, and at most OUTCOMES_MAX per access (committed,
 * buffered and in flight together), so a consumer repeating refused requests cannot make the
 * provider write without end; at most OUTCOMES_BUFFERED_MAX wait.
 */
export class OutcomeRecorder {
  private readonly pending = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private buffer: Outcome[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly chain: ChainPort,
    private readonly read: StateReader,
    private readonly onError: (e: unknown) => void,
  ) {}

  note(accessId: string, requester: string, outcome: { delivered: number } | { refused: string }): void {
    if (readAccess(this.read, accessId) === undefined || this.buffer.length >= OUTCOMES_BUFFERED_MAX) return;
    const pending = this.pending.get(accessId) ?? 0;
    if (pending + ownOutcomes(readOutcomes(this.read, accessId, this.chain.orgId)).length >= OUTCOMES_MAX) return;
    this.pending.set(accessId, pending + 1);
    this.buffer.push(
      'delivered' in outcome
        ? { accessId, requester, outcome: 'delivered', records: outcome.delivered }
        : { accessId, requester, outcome: 'refused', code: outcome.refused },
    );
    this.timer ??= setTimeout(() => this.flush(), untilFlush(Date.now()));
    this.timer.unref();
  }

  /** Record what is buffered now, and wait (at most `maxMs`) for every submission in flight: at shutdown. */
  async close(maxMs = 5000): Promise<void> {
    clearTimeout(this.timer);
    this.flush();
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, maxMs).unref())]);
  }

  private flush(): void {
    this.timer = undefined;
    const all = this.buffer;
    this.buffer = [];
    for (let i = 0; i < all.length; i += OUTCOMES_PER_TX_MAX) {
      const part = all.slice(i, i + OUTCOMES_PER_TX_MAX);
      const p: Promise<void> = this.submit(part)
        .catch(this.onError)
        .finally(() => {
          this.inFlight.delete(p);
          for (const o of part) {
            const n = (this.pending.get(o.accessId) ?? 1) - 1;
            if (n > 0) this.pending.set(o.accessId, n);
            else this.pending.delete(o.accessId);
          }
        });
      this.inFlight.add(p);
    }
  }

  private async submit(outcomes: Outcome[]): Promise<void> {
    const tx = await this.chain.sign('deliveries', 'recordMany', { outcomes });
    const r = await this.chain.submit(tx, 30_000);
    if (r.kind === 'refused') throw new CredenceError(r.code, r.message);
  }
}
