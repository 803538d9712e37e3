// The data-space calls of the typed client: a subject's (signed with its wallet key, through
// the /v1/subject routes of any node) and a member organization's (transactions on the
// identity, access and disputes contracts).

import { randomBytes } from 'node:crypto';
import type { SubmitResult } from '../codec/api.js';
import type { JsonValue } from '../codec/canonicalJson.js';
import { type Domain, Domains, SUBJECT_RE, signStatement } from '../contracts/dataspaceState.js';
import type { SubjectView } from '../contracts/views.js';
import type { Signer } from '../crypto/suite.js';
import { toHex, utf8 } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import type { CredenceClient } from './client.js';

export interface SubjectIdentity {
  readonly subject: string;
  readonly publicKey: string;
  readonly chainId: string;
}

export interface ConsentInput {
  readonly consumer: string;
  readonly categories: readonly string[];
  readonly purpose: string;
  readonly expiresAt: number;
  readonly singleUse?: boolean;
}

export interface AccessDecision {
  readonly accessId: string;
  readonly status: 'authorized' | 'pending' | 'refused';
  readonly reason?: string;
  /** The block that recorded the decision. */
  readonly height?: number;
}

/** Statement texts are short: the subject's side of the story, not a document. */
export const STATEMENT_CHARS_MAX = 4000;

const newId = () => toHex(randomBytes(16));

/** A subject's client: `client` must sign with the subject's wallet key. */
export class SubjectClient {
  private identity: SubjectIdentity | undefined;

  constructor(
    private readonly client: CredenceClient,
    private readonly signer: Signer,
  ) {}

  async me(): Promise<SubjectIdentity> {
    this.identity ??= await this.client.request<SubjectIdentity>('GET', '/v1/subject/me');
    return this.identity;
  }

  async view(): Promise<SubjectView> {
    return this.client.request<SubjectView>('GET', '/v1/subject/view');
  }

  private async relay(contract: string, method: string, domain: Domain, statement: Record<string, JsonValue>, statementText?: string): Promise<SubmitResult> {
    const me = await this.me();
    const signed = await signStatement(this.client.suite, this.signer, me.chainId, domain, { ...statement, subject: me.subject });
    const body = { contract, method, ...signed, ...(statementText === undefined ? {} : { statementText }) };
    return this.client.request<SubmitResult>('POST', '/v1/subject/relay', body as unknown as JsonValue, 30_000);
  }

  async grantConsent(c: ConsentInput): Promise<{ consentId: string; result: SubmitResult }> {
    const consentId = newId();
    const statement = {
      id: consentId,
      consumer: c.consumer,
      categories: [...c.categories],
      purpose: c.purpose,
      expiresAt: c.expiresAt,
      singleUse: c.singleUse === true,
    };
    return { consentId, result: await this.relay('consents', 'grant', Domains.consentGrant, statement) };
  }

  async revokeConsent(consentId: string): Promise<SubmitResult> {
    return this.relay('consents', 'revoke', Domains.consentRevoke, { consentId });
  }

  /** Open a dispute through the provider's node, which keeps the statement text off chain. */
  async openDispute(recordId: string, statementText: string): Promise<{ disputeId: string; result: SubmitResult }> {
    if (statementText.length === 0 || statementText.length > STATEMENT_CHARS_MAX) {
      throw new CredenceError('BAD_DISPUTE', `the statement must be 1 to ${STATEMENT_CHARS_MAX} characters`);
    }
    const disputeId = newId();
    const statementHash = toHex(this.client.suite.hash(utf8(statementText)));
    const result = await this.relay('disputes', 'open', Domains.disputeOpen, { id: disputeId, recordId, statementHash }, statementText);
    return { disputeId, result };
  }
}

// ---- member organizations ---------------------------------------------------------------

/**
 * Check a subject id before it goes into a transaction: a refused transaction still stays in
 * its block, so a raw ID number typed by mistake must never be submitted. Never echoes it.
 */
export function requireSubjectId(subject: string): string {
  if (!SUBJECT_RE.test(subject)) throw new CredenceError('BAD_SUBJECT', 'not a subject id (E:<USCC> or P:<64 hex>); pseudonymize a raw ID number first');
  return subject;
}

export async function registerSubject(client: CredenceClient, subject: string, publicKey: string, rebind = false): Promise<SubmitResult> {
  return client.call({ contract: 'identity', method: 'register', args: { subject: requireSubjectId(subject), publicKey, ...(rebind ? { rebind } : {}) } });
}

export interface AccessInput {
  readonly subject: string;
  readonly consentId: string;
  readonly categories: readonly string[];
  readonly purpose: string;
}

function decision(r: SubmitResult): AccessDecision {
  if (r.code !== 'OK') throw new CredenceError(r.code ?? 'REFUSED', r.message ?? 'the access contract refused the call');
  return { ...(r.value as unknown as AccessDecision), ...(r.height === undefined ? {} : { height: r.height }) };
}

/** Ask for access; a refusal is a decision (recorded on chain), not an exception. */
export async function requestAccess(client: CredenceClient, a: AccessInput): Promise<AccessDecision> {
  requireSubjectId(a.subject);
  return decision(await client.call({ contract: 'access', method: 'request', args: { ...a, categories: [...a.categories] } }));
}

export async function approveAccess(client: CredenceClient, accessId: string, approve = true): Promise<AccessDecision> {
  return decision(await client.call({ contract: 'access', method: approve ? 'approve' : 'deny', args: { accessId } }));
}

export async function setTwoPersonRule(client: CredenceClient, on: boolean): Promise<JsonValue | undefined> {
  const r = await client.call({ contract: 'access', method: 'setPolicy', args: { twoPerson: on } });
  if (r.code !== 'OK') throw new CredenceError(r.code ?? 'REFUSED', r.message ?? 'refused');
  return r.value;
}

export async function resolveDispute(client: CredenceClient, disputeId: string, outcome: 'corrected' | 'upheld', correctionId?: string): Promise<SubmitResult> {
  return client.call({ contract: 'disputes', method: 'resolve', args: { disputeId, outcome, ...(correctionId === undefined ? {} : { correctionId }) } });
}
