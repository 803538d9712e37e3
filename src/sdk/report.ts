// The consumer's calls for credit reports: a provider's sealed delivery under an access
// authorization (POST /v1/deliveries on the provider's node) and a whole verified report
// assembled by the consumer's own node from every provider (POST /v1/reports), with the
// JSON shapes both return.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CredenceClient } from './client.js';

/** A provider's answer to a delivery request: records sealed to the consumer and signed. */
export interface DeliveryEnvelope {
  readonly accessId: string;
  readonly provider: string;
  /** Provider member key that signed, hex. */
  readonly signer: string;
  /** Sealed canonical JSON of the items, hex. */
  readonly sealed: string;
  readonly signature: string;
  /** The provider's chain height when it checked the access (a hint; not signed). */
  readonly height?: number;
}

export interface ReportDispute {
  readonly id: string;
  readonly status: 'open' | 'resolved';
  readonly outcome?: 'corrected' | 'upheld';
  readonly openedAt: number;
  readonly dueAt: number;
  readonly overdue: boolean;
  /** The subject's statement, checked against its hash on chain. */
  readonly statement?: string;
}

export interface ReportRecord {
  readonly id: string;
  readonly provider: string;
  readonly schema: string;
  readonly category: string;
  readonly version: number;
  readonly negative: boolean;
  readonly data: { readonly [k: string]: JsonValue };
  readonly conductEnd?: string;
  readonly supersedes?: string;
  readonly anchoredAt: number;
  readonly expiresAt?: number;
  /** The commitment and batch root the record was verified against. */
  readonly commitment: string;
  readonly root: string;
  readonly dispute?: ReportDispute;
}

export type ProviderStatus = 'ok' | 'refused' | 'forged' | 'unreachable' | 'no-endpoint';

export interface ProviderOutcome {
  readonly provider: string;
  readonly url?: string;
  readonly status: ProviderStatus;
  /** Records the chain says this provider holds for the access. */
  readonly expected: number;
  readonly delivered: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface CreditReport {
  readonly kind: 'credence-credit-report';
  readonly version: 1;
  readonly subject: string;
  readonly consumer: string;
  readonly accessId: string;
  readonly consentId: string;
  readonly purpose: string;
  readonly categories: readonly string[];
  readonly generatedAt: number;
  readonly chain: { readonly chainId: string; readonly height: number };
  /** Every provider delivered every record the chain lists, and all verified. */
  readonly complete: boolean;
  readonly providers: readonly ProviderOutcome[];
  readonly records: readonly ReportRecord[];
  /** Records on chain for this access that no verified delivery contained. */
  readonly missing: readonly string[];
}

/** Providers' API URLs by organization id. */
export type ProviderEndpoints = { readonly [org: string]: string };

/** Ask a provider's node for the records an access authorizes, sealed to `sealKey` (hex).
 *  `minHeight` (the height of the block that decided the access, or later): a provider whose
 *  chain is behind waits briefly for it instead of refusing an access it has not seen yet. */
export function requestDelivery(provider: CredenceClient, accessId: string, sealKey: string, minHeight?: number): Promise<DeliveryEnvelope> {
  return provider.request<DeliveryEnvelope>('POST', '/v1/deliveries', { accessId, sealKey, ...(minHeight === undefined ? {} : { minHeight }) }, 30_000);
}

/**
 * Have the consumer's own node (`client` signs with a key of the consumer organization)
 * gather, verify and assemble the report for an access it was granted. `providers` names
 * the providers' URLs; the node fills in the ones it can discover from its peers. With
 * `subject`, the node refuses an access about anyone else before contacting providers.
 */
export function buildReport(client: CredenceClient, accessId: string, o: { providers?: ProviderEndpoints; subject?: string } = {}): Promise<CreditReport> {
  const subject = o.subject === undefined ? {} : { subject: o.subject };
  return client.request<CreditReport>('POST', '/v1/reports', { accessId, providers: { ...(o.providers ?? {}) }, ...subject }, 60_000);
}
