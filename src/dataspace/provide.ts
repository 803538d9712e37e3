// The provider's side of a delivery: check the chain (`authorizedRecords`), read each
// authorized record and its salt from the vault, prove its inclusion in its anchored batch,
// attach the subject's dispute statement, seal to the consumer and sign. An access is
// served once per provider: a second request under the same access id is a replay.

import type { CryptoSuite, Signer } from '../crypto/suite.js';
import type { StateReader } from '../execution/runtime.js';
import { bytesEqual, fromHex, toHex } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
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

/** Access ids already served, until their authorization lapses (bounded). */
export class ServedAccesses {
  private readonly until = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  /** Claim an access for one delivery; throws ACCESS_REPLAYED if it was served before. */
  claim(accessId: string, validUntil: number, now: number): void {
    if (this.until.has(accessId)) throw new CredenceError('ACCESS_REPLAYED', 'this access was already served by this provider; request access again');
    if (this.until.size >= this.max) for (const [id, t] of this.until) if (t < now) this.until.delete(id);
    if (this.until.size >= this.max) throw new CredenceError('UNAVAILABLE', 'too many deliveries in flight; retry later');
    this.until.set(accessId, validUntil);
  }

  release(accessId: string): void {
    this.until.delete(accessId);
  }
}

function item(suite: CryptoSuite, source: DeliverySource, id: string, root: string, disputeId: string | undefined): DeliveryItem | undefined {
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
  o: { suite: CryptoSuite; signer: Signer; read: StateReader; provider: string; now: number; height: number; served: ServedAccesses },
  source: DeliverySource,
  req: DeliveryRequest,
): Promise<Delivery> {
  // A delivery now comes after the head block: a revocation in the head block already counts.
  const at = { accessId: req.accessId, provider: o.provider, consumer: req.consumer, now: o.now, height: o.height + 1 };
  const { access, records } = authorizedRecords(o.read, at);
  o.served.claim(access.id, access.validUntil ?? o.now, o.now);
  try {
    const items = records.flatMap((r) => item(o.suite, source, r.id, r.root, r.dispute?.id) ?? []);
    return await sealDelivery(o.suite, o.signer, {
      accessId: access.id,
      provider: o.provider,
      consumerSealKey: req.consumerSealKey,
      items,
      height: o.height,
    });
  } catch (e) {
    o.served.release(access.id);
    throw e;
  }
}
