// Who is who, as the governance contract records it in the state. Other contracts use these
// helpers to authorize a signer by organization and role.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { ContractContext, StateReader } from '../execution/runtime.js';
import { ContractError } from '../execution/runtime.js';
import { parseStoredJson } from '../codec/canonicalJson.js';
import type { OrgSpec, Policies, Role } from '../ledger/genesis.js';

export const Keys = {
  orgList: 'gov/orgs',
  org: (id: string) => `gov/org/${id}`,
  key: (hex: string) => `gov/key/${hex}`,
  policy: 'gov/policy',
  proposal: (id: number) => `gov/proposal/${id}`,
  proposalSeq: 'gov/proposal-seq',
} as const;

export interface OrgRecord extends OrgSpec {
  readonly joinedAt: number;
}

export function asOrg(v: JsonValue | undefined): OrgRecord | undefined {
  return v === undefined ? undefined : (v as unknown as OrgRecord);
}

/** The organization whose member signed this transaction, or a NOT_MEMBER refusal. */
export function requireMember(ctx: ContractContext, role?: Role): OrgRecord {
  const orgId = ctx.get(Keys.key(ctx.signer));
  const org = typeof orgId === 'string' ? asOrg(ctx.get(Keys.org(orgId))) : undefined;
  if (org === undefined) throw new ContractError('NOT_MEMBER', 'the signer is not a key of any member organization');
  if (role !== undefined && !org.roles.includes(role)) {
    throw new ContractError('ROLE_REQUIRED', `this action needs an organization with the ${role} role`);
  }
  return org;
}

export function orgIds(ctx: ContractContext): string[] {
  return (ctx.get(Keys.orgList) as string[] | undefined) ?? [];
}

/** Read a JSON value straight from a state reader (outside a transaction). */
export function readJson(read: StateReader, key: string): JsonValue | undefined {
  const b = read(key);
  return b === undefined ? undefined : parseStoredJson(b);
}

export function readPolicies(read: StateReader): Policies {
  const p = readJson(read, Keys.policy);
  if (p === undefined) throw new ContractError('NO_POLICY', 'governance policy missing from state');
  return p as unknown as Policies;
}

/** Organization that owns a raw public key (hex), read outside a transaction. */
export function orgOfKey(read: StateReader, keyHex: string): OrgRecord | undefined {
  const id = readJson(read, Keys.key(keyHex));
  return typeof id === 'string' ? asOrg(readJson(read, Keys.org(id))) : undefined;
}
