// Contract `compute`: the on-chain record of every privacy-computing job (PSI, secure
// aggregation, private model evaluation, zero-knowledge threshold proofs). A participant
// registers the job (protocol, purpose, participants, declared sizes; consents when personal
// data is involved), the result recipient completes it with a salted result hash and a
// transcript hash, the other participants attest the same transcript hash, and any participant
// can mark it failed with a code. No result value ever goes on chain. `verifyThreshold` checks a
// zero-knowledge threshold proof deterministically and records the outcome.

import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from '../codec/canonicalJson.js';
import type { Contract, ContractContext } from '../execution/runtime.js';
import { type ThresholdProof, type ThresholdStatement, verifyThreshold } from '../crypto/zkThreshold.js';
import { isCredenceError } from '../util/errors.js';
import { checkConsent } from './consentRules.js';
import { consentOf, useConsent } from './consents.js';
import { argsObject, categoryList, HASH_HEX_RE, matchString, PURPOSE_RE, refuse } from './dataspaceState.js';
import { Keys, requireMember } from './members.js';

export const COMPUTE_PROTOCOLS = ['psi', 'aggregate', 'model', 'zk'] as const;
export type ComputeProtocol = (typeof COMPUTE_PROTOCOLS)[number];
export const PARTICIPANTS_MAX = 66;
export const JOB_CONSENTS_MAX = 1000;
const JOB_ID_RE = /^[0-9a-f]{64}$/;
const CODE_RE = /^[A-Z][A-Z0-9_]{1,63}$/;
const SIZE_KEY_RE = /^[a-z][a-zA-Z]{0,31}$/;

export const computeKey = (jobId: string) => `compute/job/${jobId}`;

export interface ComputeJob {
  readonly id: string;
  readonly protocol: ComputeProtocol;
  readonly purpose: string;
  /** Organization ids; the first registered the job and receives the result. */
  readonly participants: string[];
  readonly sizes: Record<string, number>;
  readonly personal: boolean;
  readonly categories: string[];
  readonly consents: string[];
  readonly status: 'registered' | 'done' | 'failed';
  readonly registeredAt: number;
  readonly registeredTx: string;
  readonly resultHash?: string;
  readonly transcriptHash?: string;
  readonly completedTx?: string;
  readonly attestations: { org: string; tx: string }[];
  readonly failure?: { code: string; by: string; tx: string };
}

export function jobOf(ctx: ContractContext, id: string): ComputeJob | undefined {
  return ctx.get(computeKey(id)) as unknown as ComputeJob | undefined;
}

function sizesOf(v: JsonValue | undefined): Record<string, number> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v === undefined) refuse('BAD_JOB', 'sizes must be an object of non-negative integers');
  const out: Record<string, number> = {};
  const entries = Object.entries(v);
  if (entries.length > 8) refuse('BAD_JOB', 'at most 8 sizes');
  for (const [k, n] of entries) {
    if (!SIZE_KEY_RE.test(k) || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      refuse('BAD_JOB', 'sizes must be an object of non-negative integers');
    out[k] = n;
  }
  return out;
}

function participantsOf(ctx: ContractContext, v: JsonValue | undefined, self: string): string[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > PARTICIPANTS_MAX) refuse('BAD_JOB', `participants must list 1 to ${PARTICIPANTS_MAX} organizations`);
  const ids = v.map((p) => (typeof p === 'string' ? p : ''));
  if (new Set(ids).size !== ids.length) refuse('BAD_JOB', 'participants must be distinct');
  for (const id of ids) if (ctx.get(Keys.org(id)) === undefined) refuse('UNKNOWN_ORG', 'a participant is not a member organization');
  if (ids[0] !== self) refuse('BAD_JOB', 'the first participant must be the organization that registers the job');
  return ids;
}

/**
 * The consent check of a job that involves personal data: one valid consent per subject,
 * granted to the registering organization for this purpose and these categories. Each use is
 * counted (single-use consents are spent).
 */
export function checkJobConsents(ctx: ContractContext, consumer: string, purpose: string, categories: string[], consents: string[]): void {
  const subjects = new Set<string>();
  for (const id of consents) {
    const c = consentOf(ctx, id);
    const check = checkConsent(c, { consumer, subject: c?.subject ?? '', categories, purpose, time: ctx.block.time, height: ctx.block.height });
    if (!check.ok || c === undefined) refuse(check.ok ? 'CONSENT_NOT_FOUND' : check.code, 'a consent does not authorize this job');
    if (subjects.has(c.subject)) refuse('BAD_JOB', 'two consents for one subject');
    subjects.add(c.subject);
    useConsent(ctx, c);
  }
}

function register(ctx: ContractContext, args: JsonValue): JsonValue {
  const org = requireMember(ctx);
  const a = argsObject(args, 'BAD_JOB', 'register');
  const id = matchString(a.jobId, JOB_ID_RE, 'BAD_JOB', 'job id');
  if (jobOf(ctx, id) !== undefined) refuse('JOB_EXISTS', 'a job with this id exists');
  const protocol = a.protocol as ComputeProtocol;
  if (!COMPUTE_PROTOCOLS.includes(protocol)) refuse('BAD_JOB', `protocol must be one of ${COMPUTE_PROTOCOLS.join(', ')}`);
  const purpose = matchString(a.purpose, PURPOSE_RE, 'BAD_JOB', 'purpose code');
  const participants = participantsOf(ctx, a.participants, org.id);
  const sizes = sizesOf(a.sizes);
  const personal = a.personal === true;
  const categories = personal ? categoryList(a.categories, 'BAD_JOB') : [];
  const consents = Array.isArray(a.consents) ? a.consents.map((c) => (typeof c === 'string' ? c : '')) : [];
  if (consents.length > JOB_CONSENTS_MAX) refuse('BAD_JOB', `at most ${JOB_CONSENTS_MAX} consents per job`);
  if (personal) {
    if (consents.length === 0) refuse('CONSENT_REQUIRED', 'a job on personal data needs the subjects’ consents');
    checkJobConsents(ctx, org.id, purpose, categories, consents);
  }
  const job: ComputeJob = {
    id,
    protocol,
    purpose,
    participants,
    sizes,
    personal,
    categories,
    consents,
    status: 'registered',
    registeredAt: ctx.block.time,
    registeredTx: ctx.txId,
    attestations: [],
  };
  ctx.put(computeKey(id), job as unknown as JsonValue);
  ctx.emit('registered', { jobId: id, protocol, purpose, participants, sizes });
  return { jobId: id };
}

function participantJob(ctx: ContractContext, args: JsonValue): { job: ComputeJob; org: string; a: Record<string, JsonValue> } {
  const org = requireMember(ctx);
  const a = argsObject(args, 'BAD_JOB', 'job');
  const id = matchString(a.jobId, JOB_ID_RE, 'BAD_JOB', 'job id');
  const job = jobOf(ctx, id);
  if (job === undefined) refuse('JOB_NOT_FOUND', 'no such job');
  if (!job.participants.includes(org.id)) refuse('NOT_PARTICIPANT', 'the signer’s organization is not a participant of this job');
  return { job, org: org.id, a };
}

function complete(ctx: ContractContext, args: JsonValue): JsonValue {
  const { job, org, a } = participantJob(ctx, args);
  if (job.participants[0] !== org) refuse('NOT_PARTICIPANT', 'only the result recipient completes a job');
  if (job.status !== 'registered') refuse('JOB_STATE', `the job is ${job.status}`);
  const resultHash = matchString(a.resultHash, HASH_HEX_RE, 'BAD_JOB', 'result hash');
  const transcriptHash = matchString(a.transcriptHash, HASH_HEX_RE, 'BAD_JOB', 'transcript hash');
  const sizes = a.sizes === undefined ? job.sizes : { ...job.sizes, ...sizesOf(a.sizes) };
  ctx.put(computeKey(job.id), { ...job, sizes, status: 'done', resultHash, transcriptHash, completedTx: ctx.txId } as unknown as JsonValue);
  ctx.emit('completed', { jobId: job.id, resultHash });
  return { jobId: job.id, status: 'done' };
}

function attest(ctx: ContractContext, args: JsonValue): JsonValue {
  const { job, org, a } = participantJob(ctx, args);
  if (job.status !== 'done') refuse('JOB_STATE', `the job is ${job.status}`);
  const transcriptHash = matchString(a.transcriptHash, HASH_HEX_RE, 'BAD_JOB', 'transcript hash');
  if (transcriptHash !== job.transcriptHash) refuse('TRANSCRIPT_MISMATCH', 'the attested transcript differs from the one the recipient committed');
  if (job.attestations.some((x) => x.org === org)) refuse('ALREADY_ATTESTED', 'this organization has attested the job');
  ctx.put(computeKey(job.id), { ...job, attestations: [...job.attestations, { org, tx: ctx.txId }] } as unknown as JsonValue);
  return { jobId: job.id, attestations: job.attestations.length + 1 };
}

function fail(ctx: ContractContext, args: JsonValue): JsonValue {
  const { job, org, a } = participantJob(ctx, args);
  const code = matchString(a.code, CODE_RE, 'BAD_JOB', 'failure code');
  if (job.status === 'failed') return { jobId: job.id, status: 'failed' };
  if (job.status !== 'registered') refuse('JOB_STATE', `the job is ${job.status}`);
  ctx.put(computeKey(job.id), { ...job, status: 'failed', failure: { code, by: org, tx: ctx.txId } } as unknown as JsonValue);
  ctx.emit('failed', { jobId: job.id, code });
  return { jobId: job.id, status: 'failed' };
}

/** Verifies a threshold proof on chain; the job (protocol zk) records the outcome. */
function verifyThresholdProof(ctx: ContractContext, args: JsonValue): JsonValue {
  const { job, org, a } = participantJob(ctx, args);
  if (job.protocol !== 'zk') refuse('BAD_JOB', 'not a zk job');
  if (job.participants[0] !== org) refuse('NOT_PARTICIPANT', 'only the verifier that registered the job submits the proof');
  if (job.status !== 'registered') refuse('JOB_STATE', `the job is ${job.status}`);
  const st = a.statement as unknown as ThresholdStatement;
  if (st === null || typeof st !== 'object' || st.context !== job.id) refuse('BAD_PROOF', 'the proof must be made for this job (context = job id)');
  if (st.credential === null || typeof st.credential !== 'object' || Array.isArray(st.credential)) refuse('BAD_PROOF', 'the statement has no credential');
  if (typeof st.threshold !== 'number' || st.threshold !== job.sizes.threshold) refuse('BAD_PROOF', 'the statement threshold differs from the job’s');
  let code: string | undefined;
  try {
    verifyThreshold(st, a.proof as unknown as ThresholdProof, ctx.block.time);
  } catch (e) {
    code = isCredenceError(e) ? e.code : 'BAD_PROOF';
  }
  const credentialHash = createHash('sha256').update(canonicalJson(st.credential)).digest('hex');
  const next =
    code === undefined
      ? { status: 'done', resultHash: credentialHash, transcriptHash: credentialHash, completedTx: ctx.txId }
      : { status: 'failed', failure: { code, by: org, tx: ctx.txId } };
  ctx.put(computeKey(job.id), { ...job, ...next } as unknown as JsonValue);
  ctx.emit(code === undefined ? 'completed' : 'failed', { jobId: job.id, verified: code === undefined });
  return { jobId: job.id, verified: code === undefined };
}

export const compute: Contract = { name: 'compute', methods: { register, complete, attest, fail, verifyThreshold: verifyThresholdProof } };
