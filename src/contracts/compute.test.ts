// The compute contract through the real Executor on in-memory state: registration (members,
// participants, sizes), the consent check for personal data (valid, single-use spent, wrong
// purpose, another consumer), completion only by the recipient, attestation of the same
// transcript, failure, and on-chain verification of a zero-knowledge threshold proof.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { ContractSim, newSigner } from '../../test/contractSim.js';
import { hex } from '../../test/fixtures.js';
import type { JsonValue } from '../codec/canonicalJson.js';
import type { Signer } from '../crypto/suite.js';
import { getSuite } from '../crypto/suites.js';
import { issueCredential, newIssuerKey, proveThreshold } from '../crypto/zkThreshold.js';
import { type ComputeJob, computeKey } from './compute.js';
import { Domains, signStatement } from './dataspaceState.js';

const suite = getSuite('default');
const SUBJECT = `P:${'ab'.repeat(32)}`;
let ra: Signer;
let bank: Signer;
let court: Signer;
let person: Signer;

before(() => {
  [ra, bank, court, person] = Array.from({ length: 4 }, () => newSigner(suite)) as [Signer, Signer, Signer, Signer];
});

async function network(): Promise<ContractSim> {
  const sim = new ContractSim(suite, [
    { id: 'ra', roles: ['member', 'registrar'], keys: [ra] },
    { id: 'bank', roles: ['member'], keys: [bank] },
    { id: 'court', roles: ['member'], keys: [court] },
  ]);
  assert.equal((await sim.call(ra, 'identity', 'register', { subject: SUBJECT, publicKey: hex(person.publicKey) })).code, 'OK');
  return sim;
}

async function grant(sim: ContractSim, o: { purpose?: string; consumer?: string; singleUse?: boolean } = {}): Promise<string> {
  const id = hex(randomBytes(32));
  const statement = {
    id,
    subject: SUBJECT,
    consumer: o.consumer ?? 'bank',
    categories: ['court'],
    purpose: o.purpose ?? 'CREDIT_CHECK',
    expiresAt: sim.time + 86_400_000,
    singleUse: o.singleUse ?? false,
  };
  const signed = (await signStatement(suite, person, 'credence-test', Domains.consentGrant, statement)) as unknown as JsonValue;
  assert.equal((await sim.call(bank, 'consents', 'grant', signed)).code, 'OK');
  return id;
}

const job = (over: Record<string, JsonValue> = {}) => ({
  jobId: hex(randomBytes(32)),
  protocol: 'psi',
  purpose: 'CREDIT_CHECK',
  participants: ['bank', 'court'],
  sizes: { receiver: 10 },
  ...over,
});
const H = () => hex(randomBytes(32));

describe('compute contract', () => {
  it('registers, completes (recipient only), attests the same transcript, refuses later failure', async () => {
    const sim = await network();
    const j = job();
    assert.equal((await sim.call(court, 'compute', 'register', j)).code, 'BAD_JOB'); // first participant must be the signer's org
    assert.equal((await sim.call(bank, 'compute', 'register', { ...j, participants: ['bank', 'nobody'] })).code, 'UNKNOWN_ORG');
    assert.equal((await sim.call(bank, 'compute', 'register', { ...j, protocol: 'x' })).code, 'BAD_JOB');
    assert.equal((await sim.call(bank, 'compute', 'register', { ...j, sizes: { receiver: -1 } })).code, 'BAD_JOB');
    assert.equal((await sim.call(bank, 'compute', 'register', j)).code, 'OK');
    assert.equal((await sim.call(bank, 'compute', 'register', j)).code, 'JOB_EXISTS');
    const t = H();
    assert.equal((await sim.call(court, 'compute', 'complete', { jobId: j.jobId, resultHash: H(), transcriptHash: t })).code, 'NOT_PARTICIPANT');
    assert.equal((await sim.call(court, 'compute', 'attest', { jobId: j.jobId, transcriptHash: t })).code, 'JOB_STATE');
    assert.equal((await sim.call(bank, 'compute', 'complete', { jobId: j.jobId, resultHash: H(), transcriptHash: t, sizes: { sender: 7 } })).code, 'OK');
    assert.equal((await sim.call(court, 'compute', 'attest', { jobId: j.jobId, transcriptHash: H() })).code, 'TRANSCRIPT_MISMATCH');
    assert.equal((await sim.call(court, 'compute', 'attest', { jobId: j.jobId, transcriptHash: t })).code, 'OK');
    assert.equal((await sim.call(court, 'compute', 'attest', { jobId: j.jobId, transcriptHash: t })).code, 'ALREADY_ATTESTED');
    assert.equal((await sim.call(court, 'compute', 'fail', { jobId: j.jobId, code: 'X' })).code, 'BAD_JOB');
    assert.equal((await sim.call(court, 'compute', 'fail', { jobId: j.jobId, code: 'PRIVACY_BAD_POINT' })).code, 'JOB_STATE');
    const rec = sim.get<ComputeJob>(computeKey(j.jobId));
    assert.equal(rec?.status, 'done');
    assert.deepEqual(rec?.sizes, { receiver: 10, sender: 7 });
    assert.deepEqual(
      rec?.attestations.map((a) => a.org),
      ['court'],
    );
  });

  it('a failed job cannot be completed', async () => {
    const sim = await network();
    const j = job();
    await sim.call(bank, 'compute', 'register', j);
    assert.equal((await sim.call(court, 'compute', 'fail', { jobId: j.jobId, code: 'PRIVACY_PARTY_DROPPED' })).code, 'OK');
    assert.equal((await sim.call(bank, 'compute', 'complete', { jobId: j.jobId, resultHash: H(), transcriptHash: H() })).code, 'JOB_STATE');
    assert.equal(sim.get<ComputeJob>(computeKey(j.jobId))?.failure?.code, 'PRIVACY_PARTY_DROPPED');
  });

  it('personal data: valid consents admit the job and single-use consents are spent; others refuse', async () => {
    const sim = await network();
    const personal = { personal: true, categories: ['court'] };
    const ok = await grant(sim, { singleUse: true });
    assert.equal((await sim.call(bank, 'compute', 'register', job({ ...personal, consents: [ok] }))).code, 'OK');
    assert.equal((await sim.call(bank, 'compute', 'register', job({ ...personal, consents: [ok] }))).code, 'CONSENT_USED');
    const other = await grant(sim, { purpose: 'MARKETING' });
    assert.equal((await sim.call(bank, 'compute', 'register', job({ ...personal, consents: [other] }))).code, 'CONSENT_WRONG_PURPOSE');
    const courts = await grant(sim, { consumer: 'court' });
    assert.equal((await sim.call(bank, 'compute', 'register', job({ ...personal, consents: [courts] }))).code, 'CONSENT_WRONG_CONSUMER');
    const scoped = await grant(sim);
    assert.equal((await sim.call(bank, 'compute', 'register', job({ personal: true, categories: ['tax'], consents: [scoped] }))).code, 'CONSENT_OUT_OF_SCOPE');
    assert.equal((await sim.call(bank, 'compute', 'register', job({ ...personal, consents: [scoped, scoped] }))).code, 'BAD_JOB');
  });

  it('verifies a threshold proof on chain for its job; a proof for another job or threshold fails', async () => {
    const sim = await network();
    const issuer = newIssuerKey();
    const { credential, secrets } = issueCredential(issuer.privateKey, issuer.publicKeyHex, 'E:91350100M000100Y43', 700, 0, sim.time, sim.time + 86_400_000);
    const j = job({ protocol: 'zk', participants: ['bank'], sizes: { threshold: 650 } });
    assert.equal((await sim.call(bank, 'compute', 'register', j)).code, 'OK');
    const statement = { credential, threshold: 650, context: j.jobId };
    const proof = proveThreshold(statement, secrets);
    const wrongContext = { ...statement, context: 'other' };
    const r0 = await sim.call(bank, 'compute', 'verifyThreshold', {
      jobId: j.jobId,
      statement: wrongContext,
      proof: proveThreshold(wrongContext, secrets),
    } as unknown as JsonValue);
    assert.equal(r0.code, 'BAD_PROOF');
    const noCredential = await sim.call(bank, 'compute', 'verifyThreshold', {
      jobId: j.jobId,
      statement: { threshold: 650, context: j.jobId },
      proof,
    } as unknown as JsonValue);
    assert.equal(noCredential.code, 'BAD_PROOF');
    const r = await sim.call(bank, 'compute', 'verifyThreshold', { jobId: j.jobId, statement, proof } as unknown as JsonValue);
    assert.equal(r.code, 'OK');
    assert.deepEqual(r.value, { jobId: j.jobId, verified: true });
    assert.equal(sim.get<ComputeJob>(computeKey(j.jobId))?.status, 'done');
    const j2 = job({ protocol: 'zk', participants: ['bank'], sizes: { threshold: 650 } });
    await sim.call(bank, 'compute', 'register', j2);
    const lie = { credential, threshold: 650, context: j2.jobId };
    const forged = proveThreshold(lie, { ...secrets, score: 800 });
    const r2 = await sim.call(bank, 'compute', 'verifyThreshold', { jobId: j2.jobId, statement: lie, proof: forged } as unknown as JsonValue);
    assert.deepEqual(r2.value, { jobId: j2.jobId, verified: false });
    assert.equal(sim.get<ComputeJob>(computeKey(j2.jobId))?.failure?.code, 'BAD_PROOF');
  });
});
