// Contract `identity`: an organization with the registrar role (the registration authority)
// binds a subject's public key to its subject id, after checking the subject's identity off
// chain. Only the pseudonymous subject id is recorded. Re-binding (a lost key) replaces the
// old keys, which stop working at once.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { Contract, ContractContext } from '../execution/runtime.js';
import { fromHexStrict } from '../util/bytes.js';
import { DsKeys, SUBJECT_RE, argsObject, matchString, refuse } from './dataspaceState.js';
import { Keys, requireMember } from './members.js';

export interface SubjectEntry {
  readonly subject: string;
  readonly keys: string[];
  readonly registeredBy: string;
  readonly registeredAt: number;
}

function register(suite: CryptoSuite, ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx, 'registrar');
  const a = argsObject(args, 'BAD_REGISTRATION', 'arguments');
  const subject = matchString(a.subject, SUBJECT_RE, 'BAD_SUBJECT', 'subject');
  const key = typeof a.publicKey === 'string' ? a.publicKey : '';
  const raw = fromHexStrict(key);
  if (raw === undefined || raw.byteLength !== suite.publicKeyBytes) refuse('BAD_KEY', `publicKey must be ${suite.publicKeyBytes} bytes of lowercase hex`);
  if (ctx.get(DsKeys.subjectKey(key)) !== undefined || ctx.get(Keys.key(key)) !== undefined) refuse('KEY_IN_USE', 'this key is already registered');
  const old = ctx.get(DsKeys.subject(subject)) as unknown as SubjectEntry | undefined;
  if (old !== undefined && a.rebind !== true) refuse('SUBJECT_REGISTERED', 'the subject already has a key; pass rebind to replace it');
  for (const k of old?.keys ?? []) ctx.del(DsKeys.subjectKey(k));
  const entry: SubjectEntry = { subject, keys: [key], registeredBy: org.id, registeredAt: ctx.block.time };
  ctx.put(DsKeys.subject(subject), entry as unknown as JsonValue);
  ctx.put(DsKeys.subjectKey(key), subject);
  ctx.emit(old === undefined ? 'registered' : 'rebound', { subject, registrar: org.id });
  return { subject };
}

export function identityContract(suite: CryptoSuite): Contract {
  return { name: 'identity', methods: { register: (ctx, args) => register(suite, ctx, args) } };
}
