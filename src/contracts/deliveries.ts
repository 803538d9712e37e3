// Contract `deliveries`: a provider records on chain what became of a delivery request under
// an access: `delivered` (with the number of records) or `refused` (with the code). Each
// access's outcomes are kept under the access (which is indexed under its subject), so the
// subject sees which providers served an access and which refused, not only the access
// decision; one state entry per access, so the outcomes of one report cost one write. No record content or id goes
// here. Bounded: at most OUTCOMES_MAX outcomes per access and provider, and one `delivered`
// (a second would be a replay, which the provider refuses and may record as such).
// The consumer of an access records a delivery that did not verify (`forged`): a refusal
// with the code FORGED_DELIVERY under the provider, once per access and provider, which the
// subject sees next to the provider's own outcomes.

import type { JsonValue } from '../codec/canonicalJson.js';
import { type Contract, type ContractContext, ContractError, type StateReader } from '../execution/runtime.js';
import type { AccessEntry } from './access.js';
import { DsKeys, HASH_HEX_RE, argsObject, matchString, refuse } from './dataspaceState.js';
import { orgIds, readJson, requireMember } from './members.js';

export const OUTCOMES_MAX = 4;
const CODE_RE = /^[A-Z][A-Z0-9_]{0,39}$/;
/** Most records one delivery can hold (dataspace/delivery.ts DELIVERY_RECORDS_MAX). */
const RECORDS_MAX = 1000;

export interface DeliveryOutcome {
  readonly accessId: string;
  readonly provider: string;
  /** The organization whose member asked for the delivery. */
  readonly requester: string;
  readonly outcome: 'delivered' | 'refused';
  readonly code?: string;
  readonly records?: number;
  /** Set when the consumer recorded it (a delivery from `provider` that did not verify), not the provider. */
  readonly reporter?: string;
  readonly at: number;
  readonly height: number;
}

/** Every outcome recorded under an access, oldest first. */
export function accessOutcomes(read: StateReader, accessId: string): DeliveryOutcome[] {
  return (readJson(read, DsKeys.delivery(accessId)) as unknown as DeliveryOutcome[] | undefined) ?? [];
}

/** The outcomes recorded under an access about `provider`'s deliveries. */
export function readOutcomes(read: StateReader, accessId: string, provider: string): DeliveryOutcome[] {
  return accessOutcomes(read, accessId).filter((x) => x.provider === provider);
}

/** The outcomes the provider recorded itself (OUTCOMES_MAX bounds these), not the consumer's reports. */
export function ownOutcomes(list: readonly DeliveryOutcome[]): DeliveryOutcome[] {
  return list.filter((x) => x.reporter === undefined);
}

const ORG_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

function outcomeOf(a: Record<string, JsonValue>): Pick<DeliveryOutcome, 'outcome' | 'code' | 'records'> {
  if (a.outcome === 'delivered') {
    const n = a.records;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > RECORDS_MAX) refuse('BAD_OUTCOME', `records must be 0 to ${RECORDS_MAX}`);
    return { outcome: 'delivered', records: n };
  }
  if (a.outcome === 'refused') return { outcome: 'refused', code: matchString(a.code, CODE_RE, 'BAD_OUTCOME', 'refusal code') };
  return refuse('BAD_OUTCOME', 'outcome must be delivered or refused');
}

function record(ctx: ContractContext, args: JsonValue): JsonValue {
  const provider = requireMember(ctx).id;
  const a = argsObject(args, 'BAD_OUTCOME', 'arguments');
  const accessId = matchString(a.accessId, HASH_HEX_RE, 'BAD_OUTCOME', 'access id');
  const requester = matchString(a.requester, ORG_RE, 'BAD_OUTCOME', 'requester');
  const access = ctx.get(DsKeys.access(accessId)) as unknown as AccessEntry | undefined;
  if (access === undefined) refuse('ACCESS_NOT_FOUND', `no access ${accessId}`);
  const o = outcomeOf(a);
  if (o.outcome === 'delivered' && (access.status !== 'authorized' || requester !== access.consumer))
    refuse('NOT_AUTHORIZED', 'only an authorized access can be delivered, and only to its consumer');
  const key = DsKeys.delivery(accessId);
  const all = (ctx.get(key) as unknown as DeliveryOutcome[] | undefined) ?? [];
  const list = all.filter((x) => x.provider === provider);
  if (ownOutcomes(list).length >= OUTCOMES_MAX) refuse('OUTCOMES_FULL', `at most ${OUTCOMES_MAX} outcomes per access and provider`);
  if (o.outcome === 'delivered' && list.some((x) => x.outcome === 'delivered' && x.reporter === undefined))
    refuse('ALREADY_DELIVERED', 'this provider already delivered under this access');
  const entry: DeliveryOutcome = { accessId, provider, requester, ...o, at: ctx.block.time, height: ctx.block.height };
  ctx.put(key, [...all, entry] as unknown as JsonValue);
  ctx.emit(o.outcome, { accessId, provider, requester, subject: access.subject, ...(o.code === undefined ? {} : { code: o.code }) });
  return entry as unknown as JsonValue;
}

/** Outcomes in one `recordMany` transaction. */
export const OUTCOMES_PER_TX_MAX = 64;

/**
 * Several outcomes in one transaction (providers batch them): each is checked and written as
 * by `record`; one that `record` would refuse is skipped, and its code is in the result.
 */
function recordMany(ctx: ContractContext, args: JsonValue): JsonValue {
  const list = argsObject(args, 'BAD_OUTCOME', 'arguments').outcomes;
  if (!Array.isArray(list) || list.length === 0 || list.length > OUTCOMES_PER_TX_MAX)
    refuse('BAD_OUTCOME', `outcomes must be 1 to ${OUTCOMES_PER_TX_MAX} items`);
  return list.map((item) => {
    try {
      record(ctx, item);
      return { ok: true };
    } catch (e) {
      if (!(e instanceof ContractError)) throw e;
      return { ok: false, code: e.code };
    }
  });
}

/** Providers named in one `forged` transaction, at most. */
export const FORGED_PROVIDERS_MAX = 64;

/**
 * The access's consumer records that deliveries from `providers` under the access did not
 * verify: for each, a refusal with the code FORGED_DELIVERY under that provider, at most one
 * per access and provider.
 */
function forged(ctx: ContractContext, args: JsonValue): JsonValue {
  const consumer = requireMember(ctx).id;
  const a = argsObject(args, 'BAD_OUTCOME', 'arguments');
  const accessId = matchString(a.accessId, HASH_HEX_RE, 'BAD_OUTCOME', 'access id');
  const providers = a.providers;
  if (!Array.isArray(providers) || providers.length === 0 || providers.length > FORGED_PROVIDERS_MAX)
    refuse('BAD_OUTCOME', `providers must name 1 to ${FORGED_PROVIDERS_MAX} organizations`);
  const access = ctx.get(DsKeys.access(accessId)) as unknown as AccessEntry | undefined;
  if (access === undefined) refuse('ACCESS_NOT_FOUND', `no access ${accessId}`);
  if (access.consumer !== consumer) refuse('NOT_AUTHORIZED', 'only the consumer of an access records a forged delivery under it');
  const members = orgIds(ctx);
  for (const v of providers) {
    const provider = matchString(v, ORG_RE, 'BAD_OUTCOME', 'provider');
    if (!members.includes(provider)) refuse('UNKNOWN_ORG', `no member organization ${provider}`);
    const key = DsKeys.delivery(accessId);
    const all = (ctx.get(key) as unknown as DeliveryOutcome[] | undefined) ?? [];
    if (all.some((x) => x.provider === provider && x.reporter !== undefined))
      refuse('ALREADY_REPORTED', `a forged delivery from ${provider} is already recorded under this access`);
    const entry: DeliveryOutcome = {
      accessId,
      provider,
      requester: consumer,
      outcome: 'refused',
      code: 'FORGED_DELIVERY',
      reporter: consumer,
      at: ctx.block.time,
      height: ctx.block.height,
    };
    ctx.put(key, [...all, entry] as unknown as JsonValue);
    ctx.emit('forged', { accessId, provider, consumer, subject: access.subject });
  }
  return { count: providers.length };
}

export const deliveries: Contract = { name: 'deliveries', methods: { record, recordMany, forged } };
