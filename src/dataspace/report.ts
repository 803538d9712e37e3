// The consumer's side of a credit report: from its own copy of the chain it lists every
// record the access covers (active, unexpired, in the authorized categories) and who holds
// each; it asks every such provider for a delivery sealed to a fresh key, verifies each
// delivery (`openDelivery`: signature, seal, commitment, inclusion, statement hash), and
// assembles the records with their dispute marks and the subject's statements. A provider
// that refuses, cannot be reached, or sends something that does not verify is named in the
// report, and its records are listed as missing; nothing unverified is shown.

import { type AccessEntry, readAccess } from '../contracts/access.js';
import { isOverdue } from '../contracts/disputes.js';
import { type BatchCache, type RecordEntry, subjectRecords } from '../contracts/records.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { StateReader } from '../execution/runtime.js';
import type { CreditReport, DeliveryEnvelope, ProviderEndpoints, ProviderOutcome, ReportRecord } from '../sdk/report.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, isCredenceError } from '../util/errors.js';
import type { ChainPort } from './chainPort.js';
import { DELIVERY_RECORDS_MAX, type VerifiedItem, isCurrent, openDelivery } from './delivery.js';

/** Fetches one provider's delivery (over HTTP in the node; the seam keeps tests honest).
 *  `minHeight` is the consumer's chain height: a provider behind it waits for it (bounded). */
export type DeliveryFetcher = (url: string, accessId: string, sealKeyHex: string, minHeight: number) => Promise<DeliveryEnvelope>;

export interface ReportContext {
  readonly suite: CryptoSuite;
  readonly read: StateReader;
  readonly chainId: string;
  readonly consumer: string;
  readonly now: number;
  height(): number;
  /** Wait (bounded) until the local chain reaches `height`, so records a provider saw are known here. */
  waitForHeight(height: number): Promise<void>;
  readonly fetch: DeliveryFetcher;
  /** Batches parsed once per node (`read` is committed state). */
  readonly batches?: BatchCache;
}

function grantedAccess(read: StateReader, accessId: string, consumer: string, now: number): AccessEntry {
  const a = readAccess(read, accessId);
  if (a === undefined) throw new CredenceError('NOT_AUTHORIZED', 'no such access on chain');
  if (a.consumer !== consumer) throw new CredenceError('NOT_AUTHORIZED', 'the access belongs to another consumer');
  if (a.status !== 'authorized') throw new CredenceError('NOT_AUTHORIZED', `the access is ${a.status}${a.reason === undefined ? '' : ` (${a.reason})`}`);
  if (a.validUntil === undefined || now > a.validUntil) throw new CredenceError('NOT_AUTHORIZED', 'the access authorization has lapsed; request access again');
  return a;
}

/** The records the chain says this access covers, by provider. */
export function expectedRecords(read: StateReader, access: AccessEntry, now: number, batches?: BatchCache): Map<string, RecordEntry[]> {
  const byProvider = new Map<string, RecordEntry[]>();
  for (const r of subjectRecords(read, access.subject, DELIVERY_RECORDS_MAX, batches === undefined ? {} : { cache: batches })) {
    if (!isCurrent(r, now) || !access.categories.includes(r.category)) continue;
    byProvider.set(r.provider, [...(byProvider.get(r.provider) ?? []), r]);
  }
  return byProvider;
}

function reportRecord(v: VerifiedItem, now: number): ReportRecord {
  const { record, anchor, dispute } = v;
  return {
    id: record.id,
    provider: record.provider,
    schema: record.schema,
    category: anchor.category,
    version: record.version,
    negative: anchor.negative,
    data: record.data,
    ...(record.conductEnd === undefined ? {} : { conductEnd: record.conductEnd }),
    ...(record.supersedes === undefined ? {} : { supersedes: record.supersedes }),
    anchoredAt: anchor.anchoredAt,
    ...(anchor.expiresAt === undefined ? {} : { expiresAt: anchor.expiresAt }),
    commitment: v.commitment,
    root: anchor.root,
    ...(dispute === undefined
      ? {}
      : {
          dispute: {
            id: dispute.id,
            status: dispute.status,
            ...(dispute.outcome === undefined ? {} : { outcome: dispute.outcome }),
            openedAt: dispute.openedAt,
            dueAt: dispute.dueAt,
            overdue: isOverdue(dispute, now),
            ...(v.statement === undefined ? {} : { statement: v.statement }),
          },
        }),
  };
}

function failure(provider: string, url: string, expected: number, e: unknown): ProviderOutcome {
  const code = isCredenceError(e) ? e.code : 'UNAVAILABLE';
  const status = code === 'FORGED_DELIVERY' ? 'forged' : code === 'UNAVAILABLE' || code === 'TIMEOUT' ? 'unreachable' : 'refused';
  const message = isCredenceError(e) ? e.message : 'the provider could not be reached';
  return { provider, url, status, expected, delivered: 0, error: { code, message } };
}

async function fromProvider(
  ctx: ReportContext,
  access: AccessEntry,
  provider: string,
  url: string | undefined,
  expected: number,
): Promise<{ outcome: ProviderOutcome; items: VerifiedItem[] }> {
  if (url === undefined) {
    const error = { code: 'NO_ENDPOINT', message: `no URL known for provider ${provider}; pass it in providers` };
    return { outcome: { provider, status: 'no-endpoint', expected, delivered: 0, error }, items: [] };
  }
  try {
    const key = ctx.suite.generateSealingKey();
    const d = await ctx.fetch(url, access.id, toHex(key.publicKey), ctx.height());
    if (d.provider !== provider) throw new CredenceError('FORGED_DELIVERY', `the node at this URL delivered as ${String(d.provider).slice(0, 32)}`);
    if (typeof d.height === 'number' && d.height > ctx.height()) await ctx.waitForHeight(d.height);
    const items = openDelivery(ctx.suite, ctx.read, key.privateKeyPem, d, ctx.batches);
    return { outcome: { provider, url, status: 'ok', expected, delivered: items.length }, items };
  } catch (e) {
    return { outcome: failure(provider, url, expected, e), items: [] };
  }
}

export async function assembleReport(ctx: ReportContext, accessId: string, endpoints: ProviderEndpoints, subject?: string): Promise<CreditReport> {
  const access = grantedAccess(ctx.read, accessId, ctx.consumer, ctx.now);
  if (subject !== undefined && subject !== access.subject) throw new CredenceError('NOT_AUTHORIZED', 'the access is about another subject');
  const expected = expectedRecords(ctx.read, access, ctx.now, ctx.batches);
  const results = await Promise.all([...expected].map(([provider, recs]) => fromProvider(ctx, access, provider, endpoints[provider], recs.length)));
  const verified = results.flatMap((r) => r.items).filter((v) => isCurrent(v.anchor, ctx.now));
  const delivered = new Set(verified.map((v) => v.record.id));
  const missing = [...expected.values()].flat().flatMap((r) => (delivered.has(r.id) ? [] : [r.id]));
  const providers = results.map((r) => r.outcome);
  return {
    kind: 'credence-credit-report',
    version: 1,
    subject: access.subject,
    consumer: access.consumer,
    accessId: access.id,
    consentId: access.consentId,
    purpose: access.purpose,
    categories: access.categories,
    generatedAt: ctx.now,
    chain: { chainId: ctx.chainId, height: ctx.height() },
    complete: missing.length === 0 && providers.every((p) => p.status === 'ok'),
    providers,
    records: verified.map((v) => reportRecord(v, ctx.now)).sort((a, b) => a.provider.localeCompare(b.provider) || a.anchoredAt - b.anchoredAt),
    missing,
  };
}

/** How long a report waits for the commit of the forged deliveries' record, at most. */
const FORGED_WAIT_MS = 10_000;

/**
 * Record on chain, as the access's consumer, that the deliveries of these providers under
 * the access did not verify (`deliveries.forged`): the subject sees them as refusals with
 * the code FORGED_DELIVERY. Waits (bounded) for the commit.
 */
export async function recordForged(chain: ChainPort, accessId: string, providers: readonly string[]): Promise<void> {
  if (providers.length === 0) return;
  const tx = await chain.sign('deliveries', 'forged', { accessId, providers: [...providers] });
  const r = await chain.submit(tx, FORGED_WAIT_MS);
  if (r.kind === 'refused') throw new CredenceError(r.code, r.message);
}
