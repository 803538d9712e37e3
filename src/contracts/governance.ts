// Governance: the member organizations, their roles and keys, and the network's policies.
// Changes are proposals that pass by the signed votes of a majority of the organizations
// at the time of the vote (ChainMaker m-of-n, Fabric lifecycle MAJORITY); one vote per
// organization, no vote after the proposal's deadline (block time).

import type { JsonValue } from '../codec/canonicalJson.js';
import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { Contract, ContractContext } from '../execution/runtime.js';
import { ContractError } from '../execution/runtime.js';
import type { Genesis, OrgSpec, Policies } from '../ledger/genesis.js';
import { ROLES } from '../ledger/genesis.js';
import { fromHexStrict } from '../util/bytes.js';
import { Keys, type OrgRecord, asOrg, orgIds, requireMember } from './members.js';
import { type SchemaDef, checkSchemaDef, putSchema } from './schemas.js';

type Change =
  | { kind: 'addOrg'; org: OrgSpec }
  | { kind: 'removeOrg'; orgId: string }
  | { kind: 'setPolicy'; name: keyof Policies; value: number }
  | { kind: 'registerSchema'; schema: SchemaDef };

export interface Proposal {
  readonly id: number;
  readonly change: Change;
  readonly proposer: string;
  readonly createdAt: number;
  readonly deadline: number;
  readonly votes: Record<string, boolean>;
  readonly status: 'open' | 'passed' | 'rejected' | 'failed';
  /** Why a proposal that won its vote could not be applied (e.g. KEY_IN_USE). */
  readonly failure?: string;
}

const POLICY_NAMES: readonly string[] = ['txTtlMaxMs', 'proposalTtlMs'];
const ORG_ID_RE = /^[a-z][a-z0-9-]{0,31}$/;
const KEY_HEX_LENGTHS: readonly number[] = [64, 130];

function bad(message: string): never {
  throw new ContractError('BAD_PROPOSAL', message);
}

function checkNewOrg(ctx: ContractContext, o: unknown): OrgSpec {
  const org = o as OrgSpec;
  if (typeof org !== 'object' || org === null) bad('addOrg needs an org object');
  if (typeof org.id !== 'string' || !ORG_ID_RE.test(org.id)) bad('organization id must match [a-z][a-z0-9-]*');
  if (ctx.get(Keys.org(org.id)) !== undefined) throw new ContractError('ORG_EXISTS', `organization ${org.id} exists`);
  if (typeof org.name !== 'string' || org.name.length === 0 || org.name.length > 128) bad('organization needs a name');
  if (!Array.isArray(org.roles) || !org.roles.every((r) => (ROLES as readonly string[]).includes(r))) bad('unknown role');
  if (!Array.isArray(org.keys) || org.keys.length === 0 || org.keys.length > 64) bad('organization needs 1 to 64 keys');
  for (const k of org.keys) {
    if (typeof k !== 'string' || fromHexStrict(k) === undefined || !KEY_HEX_LENGTHS.includes(k.length)) {
      bad('keys must be raw public keys in lowercase hex (32 bytes Ed25519 or 65 bytes SM2)');
    }
    if (ctx.get(Keys.key(k)) !== undefined) throw new ContractError('KEY_IN_USE', 'a key is already registered');
  }
  return { id: org.id, name: org.name, roles: [...org.roles], keys: [...org.keys] };
}

function checkChange(ctx: ContractContext, args: JsonValue): Change {
  const a = args as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null) bad('arguments must be an object');
  switch (a.kind) {
    case 'addOrg':
      return { kind: 'addOrg', org: checkNewOrg(ctx, a.org) };
    case 'removeOrg': {
      if (typeof a.orgId !== 'string' || ctx.get(Keys.org(a.orgId)) === undefined) {
        throw new ContractError('UNKNOWN_ORG', 'no such organization');
      }
      if (orgIds(ctx).length <= 1) bad('the last organization cannot be removed');
      return { kind: 'removeOrg', orgId: a.orgId };
    }
    case 'setPolicy': {
      if (typeof a.name !== 'string' || !POLICY_NAMES.includes(a.name)) bad(`policy name must be one of ${POLICY_NAMES.join(', ')}`);
      if (typeof a.value !== 'number' || !Number.isSafeInteger(a.value) || a.value <= 0) bad('policy value must be a positive integer');
      return { kind: 'setPolicy', name: a.name as keyof Policies, value: a.value };
    }
    case 'registerSchema':
      return { kind: 'registerSchema', schema: checkSchemaDef(ctx, a.schema as JsonValue | undefined) };
    default:
      return bad('kind must be addOrg, removeOrg, setPolicy or registerSchema');
  }
}

function putOrg(ctx: ContractContext, org: OrgSpec, joinedAt: number): void {
  const record: OrgRecord = { ...org, joinedAt };
  ctx.put(Keys.org(org.id), record as unknown as JsonValue);
  for (const k of org.keys) ctx.put(Keys.key(k), org.id);
  ctx.put(Keys.orgList, [...orgIds(ctx).filter((id) => id !== org.id), org.id].sort());
}

function removeOrg(ctx: ContractContext, orgId: string): void {
  const org = asOrg(ctx.get(Keys.org(orgId)));
  if (org === undefined) return;
  for (const k of org.keys) ctx.del(Keys.key(k));
  ctx.del(Keys.org(orgId));
  ctx.put(
    Keys.orgList,
    orgIds(ctx).filter((id) => id !== orgId),
  );
}

function apply(ctx: ContractContext, change: Change): void {
  if (change.kind === 'addOrg') putOrg(ctx, change.org, ctx.block.time);
  else if (change.kind === 'removeOrg') removeOrg(ctx, change.orgId);
  else if (change.kind === 'registerSchema') putSchema(ctx, change.schema);
  else {
    const policy = ctx.get(Keys.policy) as Record<string, JsonValue>;
    ctx.put(Keys.policy, { ...policy, [change.name]: change.value });
  }
  // A schema can be larger than an event may be: the event names it, the state holds it.
  const summary = change.kind === 'registerSchema' ? { kind: change.kind, id: change.schema.id, version: change.schema.version } : change;
  ctx.emit('changed', summary as unknown as JsonValue);
}

/** Count votes among current organizations; decide when the outcome can no longer change. */
function tally(ctx: ContractContext, p: Proposal): Proposal['status'] {
  const orgs = orgIds(ctx);
  const yes = orgs.filter((id) => p.votes[id] === true).length;
  const no = orgs.filter((id) => p.votes[id] === false).length;
  if (yes * 2 > orgs.length) return 'passed';
  if ((orgs.length - no) * 2 <= orgs.length) return 'rejected';
  return 'open';
}

/**
 * A change is checked again when it passes: another proposal may have passed meanwhile
 * (the same key or org id added, the last other org removed). Returns a refusal code.
 */
function stillValid(ctx: ContractContext, change: Change): string | undefined {
  try {
    checkChange(ctx, change as unknown as JsonValue);
    return undefined;
  } catch (e) {
    if (e instanceof ContractError) return e.code;
    throw e;
  }
}

function record(ctx: ContractContext, p: Proposal): Proposal {
  let status = tally(ctx, p);
  const failure = status === 'passed' ? stillValid(ctx, p.change) : undefined;
  if (failure !== undefined) status = 'failed';
  const next: Proposal = { ...p, status, ...(failure === undefined ? {} : { failure }) };
  ctx.put(Keys.proposal(p.id), next as unknown as JsonValue);
  if (status !== 'open') ctx.emit(status, { proposalId: p.id, ...(failure === undefined ? {} : { failure }) });
  if (status === 'passed') apply(ctx, p.change);
  return next;
}

function propose(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const change = checkChange(ctx, args);
  const id = ((ctx.get(Keys.proposalSeq) as number | undefined) ?? 0) + 1;
  ctx.put(Keys.proposalSeq, id);
  const policy = ctx.get(Keys.policy) as unknown as Policies;
  const proposal: Proposal = {
    id,
    change,
    proposer: org.id,
    createdAt: ctx.block.time,
    deadline: ctx.block.time + policy.proposalTtlMs,
    votes: { [org.id]: true },
    status: 'open',
  };
  ctx.emit('proposed', { proposalId: id, kind: change.kind, proposer: org.id });
  return { proposalId: id, status: record(ctx, proposal).status };
}

function vote(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = args as { proposalId?: unknown; approve?: unknown } | null;
  if (a === null || typeof a.proposalId !== 'number' || typeof a.approve !== 'boolean') {
    throw new ContractError('BAD_VOTE', 'vote needs {proposalId: number, approve: boolean}');
  }
  const p = ctx.get(Keys.proposal(a.proposalId)) as unknown as Proposal | undefined;
  if (p === undefined) throw new ContractError('UNKNOWN_PROPOSAL', `no proposal ${a.proposalId}`);
  if (p.status !== 'open') throw new ContractError('PROPOSAL_CLOSED', `proposal ${p.id} is ${p.status}`);
  if (ctx.block.time > p.deadline) throw new ContractError('PROPOSAL_EXPIRED', `proposal ${p.id} is past its deadline`);
  if (Object.hasOwn(p.votes, org.id)) throw new ContractError('ALREADY_VOTED', `${org.id} has already voted`);
  ctx.emit('voted', { proposalId: p.id, org: org.id, approve: a.approve });
  return { proposalId: p.id, status: record(ctx, { ...p, votes: { ...p.votes, [org.id]: a.approve } }).status };
}

export const governance: Contract = { name: 'gov', methods: { propose, vote } };

/** The state a genesis document produces, written before block 0 is sealed. */
export function genesisWrites(g: Genesis): Map<string, Uint8Array> {
  const w = new Map<string, Uint8Array>();
  const put = (k: string, v: unknown) => w.set(k, canonicalJsonBytes(v));
  for (const o of g.orgs) {
    put(Keys.org(o.id), { ...o, joinedAt: g.time });
    for (const k of o.keys) put(Keys.key(k), o.id);
  }
  put(Keys.orgList, g.orgs.map((o) => o.id).sort());
  put(Keys.policy, g.policies);
  put('gov/ordering', g.ordering);
  return w;
}
