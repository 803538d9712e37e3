// A small notary contract: a member organization stores a JSON value under a key in its own
// namespace. It exercises the full path (admission, ordering, execution, state proofs) and
// is the workload of the demo and the ledger benchmark.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { Contract, ContractContext } from '../execution/runtime.js';
import { ContractError } from '../execution/runtime.js';
import { requireMember } from './members.js';

const KEY_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

export const kvKey = (orgId: string, key: string) => `kv/${orgId}/${key}`;

function put(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = args as { key?: unknown; value?: JsonValue } | null;
  if (a === null || typeof a !== 'object' || typeof a.key !== 'string' || !KEY_RE.test(a.key)) {
    throw new ContractError('BAD_KEY_NAME', 'key must be 1-128 characters of [A-Za-z0-9_.:-]');
  }
  if (a.value === undefined) throw new ContractError('BAD_VALUE', 'value is required');
  const key = kvKey(org.id, a.key);
  ctx.put(key, a.value);
  // Properties in canonical (sorted) order: the encoder then has nothing to sort.
  ctx.emit('put', { key: a.key, org: org.id });
  return { key };
}

function del(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = args as { key?: unknown } | null;
  if (a === null || typeof a !== 'object' || typeof a.key !== 'string' || !KEY_RE.test(a.key)) {
    throw new ContractError('BAD_KEY_NAME', 'key must be 1-128 characters of [A-Za-z0-9_.:-]');
  }
  if (ctx.get(kvKey(org.id, a.key)) === undefined) throw new ContractError('NOT_FOUND', 'no such key');
  ctx.del(kvKey(org.id, a.key));
  ctx.emit('deleted', { key: a.key, org: org.id });
  return null;
}

export const kv: Contract = { name: 'kv', methods: { put, del } };
