// The data-space contracts through the real Executor on in-memory state: identity (the
// registrar role), schemas through governance (forbidden fields refused), records (anchor,
// supersede, expire), consents (subject-signed grant and revoke), access (decisions on
// chain, single use, two-person rule) and disputes (mark, resolve, overdue); and property
// tests of the consent rule and of access sequences.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { COURT_SCHEMA, ContractSim, type SimRecord, anchorRecords, newSigner } from '../../test/contractSim.js';
import { hex } from '../../test/fixtures.js';
import type { JsonValue } from '../codec/canonicalJson.js';
import type { Signer } from '../crypto/suite.js';
import { getSuite } from '../crypto/suites.js';
import type { AccessEntry } from './access.js';
import { type ConsentEntry, type ConsentUse, checkConsent } from './consentRules.js';
import { DsKeys, type Domain, Domains, readIndex, signStatement } from './dataspaceState.js';
import { DISPUTE_RESOLVE_MS, type DisputeEntry } from './disputes.js';
import { BatchCache, RECORD_PAGE, readRecord, recordReader, subjectRecords } from './records.js';
import { subjectView } from './views.js';
import { readJson } from './members.js';
import { batchIdOf, recordIdAt } from './recordBatch.js';

const suite = getSuite('default');
const DAY = 24 * 60 * 60 * 1000;
const SUBJECT = `P:${'ab'.repeat(32)}`;
const COMPANY = 'E:91350100M000100Y43';

let ra: Signer;
let bank1: Signer;
let bank2: Signer;
let court: Signer;
let person: Signer;
let company: Signer;
let stranger: Signer;

before(() => {
  [ra, bank1, bank2, court, person, company, stranger] = Array.from({ length: 7 }, () => newSigner(suite)) as [
    Signer,
    Signer,
    Signer,
    Signer,
    Signer,
    Signer,
    Signer,
  ];
});

/** A network with a registrar, a two-key bank, and a court as provider; schema registered; subjects bound. */
async function network(): Promise<ContractSim> {
  const sim = new ContractSim(suite, [
    { id: 'ra', roles: ['member', 'registrar'], keys: [ra] },
    { id: 'bank', roles: ['member'], keys: [bank1, bank2] },
    { id: 'court', roles: ['member'], keys: [court] },
  ]);
  const p = await sim.call(ra, 'gov', 'propose', { kind: 'registerSchema', schema: COURT_SCHEMA });
  assert.equal(p.code, 'OK');
  assert.equal((await sim.call(court, 'gov', 'vote', { proposalId: 1, approve: true })).code, 'OK');
  assert.equal((await sim.call(ra, 'identity', 'register', { subject: SUBJECT, publicKey: hex(person.publicKey) })).code, 'OK');
  assert.equal((await sim.call(ra, 'identity', 'register', { subject: COMPANY, publicKey: hex(company.publicKey) })).code, 'OK');
  return sim;
}

const id = () => hex(randomBytes(32));

function anchor(sim: ContractSim, items: SimRecord[]) {
  return anchorRecords(sim, court, 'court', 'court-judgment', items);
}

async function signed(by: Signer, domain: Domain, statement: JsonValue): Promise<JsonValue> {
  return (await signStatement(suite, by, 'credence-test', domain, statement)) as unknown as JsonValue;
}

async function grant(sim: ContractSim, o: { subject?: string; by?: Signer; categories?: string[]; expiresIn?: number; singleUse?: boolean } = {}) {
  const consentId = id();
  const statement = {
    id: consentId,
    subject: o.subject ?? SUBJECT,
    consumer: 'bank',
    categories: o.categories ?? ['court'],
    purpose: 'LOAN_APPROVAL',
    expiresAt: sim.time + (o.expiresIn ?? 30 * DAY),
    singleUse: o.singleUse ?? false,
  };
  const r = await sim.call(bank1, 'consents', 'grant', await signed(o.by ?? person, Domains.consentGrant, statement));
  return { r, consentId };
}

const ask = (consentId: string, over: Record<string, JsonValue> = {}) => ({
  consentId,
  subject: SUBJECT,
  categories: ['court'],
  purpose: 'LOAN_APPROVAL',
  ...over,
});

function accessOf(sim: ContractSim, accessId: string): AccessEntry {
  const a = sim.get<AccessEntry>(DsKeys.access(accessId));
  assert.ok(a);
  return a;
}

describe('identity', () => {
  it('only a registrar binds keys; a key binds once; rebind replaces the old key', async () => {
    const sim = await network();
    const k = newSigner(suite);
    const other = `P:${'cd'.repeat(32)}`;
    assert.equal((await sim.call(bank1, 'identity', 'register', { subject: other, publicKey: hex(k.publicKey) })).code, 'ROLE_REQUIRED');
    assert.equal((await sim.call(ra, 'identity', 'register', { subject: '110101199003074514', publicKey: hex(k.publicKey) })).code, 'BAD_SUBJECT');
    assert.equal((await sim.call(ra, 'identity', 'register', { subject: other, publicKey: hex(person.publicKey) })).code, 'KEY_IN_USE');
    assert.equal((await sim.call(ra, 'identity', 'register', { subject: other, publicKey: hex(bank1.publicKey) })).code, 'KEY_IN_USE');
    assert.equal((await sim.call(ra, 'identity', 'register', { subject: SUBJECT, publicKey: hex(k.publicKey) })).code, 'SUBJECT_REGISTERED');
    assert.equal((await sim.call(ra, 'identity', 'register', { subject: SUBJECT, publicKey: hex(k.publicKey), rebind: true })).code, 'OK');
    assert.equal(sim.get(DsKeys.subjectKey(hex(person.publicKey))), undefined);
    assert.equal((await grant(sim)).r.code, 'SUBJECT_KEY_UNKNOWN');
    assert.equal((await grant(sim, { by: k })).r.code, 'OK');
  });
});

describe('schemas through governance', () => {
  it('registers by majority vote; refuses forbidden fields and non-increasing versions', async () => {
    const sim = await network();
    assert.equal(sim.get<{ category: string }>(DsKeys.schema('court-judgment'))?.category, 'court');
    const forbidden = { ...COURT_SCHEMA, id: 'health', jsonSchema: { type: 'object', properties: { bloodType: { type: 'string' } } } };
    assert.equal((await sim.call(ra, 'gov', 'propose', { kind: 'registerSchema', schema: forbidden })).code, 'FORBIDDEN_FIELD');
    const nested = { ...COURT_SCHEMA, id: 'nested', jsonSchema: { type: 'object', properties: { person: { type: 'object', properties: { religion: {} } } } } };
    assert.equal((await sim.call(ra, 'gov', 'propose', { kind: 'registerSchema', schema: nested })).code, 'FORBIDDEN_FIELD');
    assert.equal((await sim.call(ra, 'gov', 'propose', { kind: 'registerSchema', schema: COURT_SCHEMA })).code, 'SCHEMA_VERSION');
    assert.equal((await sim.call(ra, 'gov', 'propose', { kind: 'registerSchema', schema: { ...COURT_SCHEMA, category: 'Bad Cat' } })).code, 'BAD_SCHEMA');
    const v2 = await sim.call(ra, 'gov', 'propose', { kind: 'registerSchema', schema: { ...COURT_SCHEMA, version: 2, title: 'Court judgment v2' } });
    assert.equal(v2.code, 'OK');
    assert.equal(sim.get<{ version: number }>(DsKeys.schema('court-judgment'))?.version, 1, 'not applied before a majority');
    await sim.call(bank1, 'gov', 'vote', { proposalId: (v2.value as { proposalId: number }).proposalId, approve: true });
    assert.equal(sim.get<{ version: number }>(DsKeys.schema('court-judgment'))?.version, 2);
  });
});

describe('records', () => {
  it('anchors a batch by its root and subject runs, indexes by subject, notifies negative records', async () => {
    const sim = await network();
    const { r, ids, root, batch } = await anchor(sim, [{ subject: SUBJECT }, { subject: COMPANY, negative: false }]);
    assert.equal(r.code, 'OK');
    const rec = readRecord(sim.read, ids[0] as string);
    assert.equal(rec?.provider, 'court');
    assert.equal(rec?.root, root);
    assert.equal(rec?.subject, SUBJECT);
    assert.deepEqual([rec?.batch, rec?.index, rec?.batchSize, rec?.status, rec?.version], [batch, 0, 2, 'active', 1]);
    assert.equal(rec?.expiresAt, Date.parse('2029-01-31'));
    assert.equal(readRecord(sim.read, ids[1] as string)?.expiresAt, undefined);
    assert.equal(readRecord(sim.read, ids[1] as string)?.subject, COMPANY);
    assert.equal(readRecord(sim.read, `${batch}00000002`), undefined, 'past the end of the batch');
    assert.deepEqual(
      subjectRecords(sim.read, SUBJECT, 100).map((x) => x.id),
      [ids[0]],
    );
    assert.deepEqual(
      r.events.filter((e) => e.name === 'negative').map((e) => e.data),
      [{ subject: SUBJECT, schema: 'court-judgment', batch, records: 1 }],
    );
    const args = { schema: 'court-judgment', nonce: '00'.repeat(16), root, count: 1, subjects: [[SUBJECT, 1]] };
    assert.equal((await sim.call(court, 'records', 'anchor', args)).code, 'OK');
    assert.equal((await sim.call(court, 'records', 'anchor', args)).code, 'BATCH_EXISTS');
    assert.equal((await sim.call(bank1, 'records', 'anchor', args)).code, 'OK', 'the same nonce is another batch for another provider');
    assert.equal((await sim.call(court, 'records', 'anchor', { ...args, nonce: '01'.repeat(16), count: 2 })).code, 'BAD_ANCHOR');
    assert.equal((await sim.call(court, 'records', 'anchor', { ...args, nonce: '01'.repeat(16), schema: 'no-such' })).code, 'UNKNOWN_SCHEMA');
    assert.equal((await sim.call(stranger, 'records', 'anchor', { ...args, nonce: '02'.repeat(16) })).code, 'NOT_MEMBER');
  });

  it('state grows per batch and per subject, not per record', async () => {
    const sim = await network();
    const before = sim.state.size;
    const items = [SUBJECT, COMPANY].flatMap((subject) => Array.from({ length: 200 }, () => ({ subject, negative: false })));
    const { r, ids } = await anchor(sim, items);
    assert.equal(r.code, 'OK');
    // bat/<id>, bat/<id>/s, and one index head per subject (no expiries: all positive).
    assert.equal(sim.state.size - before, 4);
    assert.equal(subjectRecords(sim.read, COMPANY, 1000).length, 200);
    assert.equal(readRecord(sim.read, ids[399] as string)?.subject, COMPANY);
  });

  it('a subject’s record index pages through many batches, oldest first', async () => {
    const sim = await network();
    const all: string[] = [];
    for (let b = 0; b < RECORD_PAGE * 2 + 3; b++)
      all.push(
        ...(
          await anchor(sim, [
            { subject: SUBJECT, negative: false },
            { subject: SUBJECT, negative: false },
          ])
        ).ids,
      );
    assert.deepEqual(
      subjectRecords(sim.read, SUBJECT, 10_000).map((x) => x.id),
      all,
    );
    assert.equal(subjectRecords(sim.read, SUBJECT, 5).length, 5);
  });

  it('a batch cache gives the same records, keeps no batch that is not anchored, and is bounded', async () => {
    const sim = await network();
    const cache = new BatchCache(2);
    const { ids: courtIds } = await anchor(sim, [{ subject: SUBJECT }, { subject: COMPANY, negative: false }]);
    const { ids: bankIds } = await anchorRecords(sim, bank1, 'bank', 'court-judgment', [{ subject: SUBJECT, negative: false }]);
    const { ids: laterIds } = await anchor(sim, [{ subject: SUBJECT, negative: false }]);
    const plain = subjectRecords(sim.read, SUBJECT, 100);
    assert.deepEqual(subjectRecords(sim.read, SUBJECT, 100, { cache }), plain);
    assert.deepEqual(subjectRecords(sim.read, SUBJECT, 100, { cache }), plain, 'from the cache (2 of the 3 batches)');
    assert.deepEqual(
      subjectRecords(sim.read, SUBJECT, 100, { cache, provider: 'court' }).map((r) => r.id),
      [courtIds[0], laterIds[0]],
    );
    assert.deepEqual(
      subjectRecords(sim.read, SUBJECT, 100, { cache, provider: 'bank' }).map((r) => r.id),
      bankIds,
    );
    assert.equal(cache.size, 2);
    // A batch read before it is anchored is not remembered as missing.
    const nonce = '0b'.repeat(16);
    const early = recordIdAt(batchIdOf(suite.hash, 'court', nonce), 0);
    assert.equal(recordReader((k) => readJson(sim.read, k), cache)(early), undefined);
    await anchorRecords(sim, court, 'court', 'court-judgment', [{ subject: COMPANY, negative: false }], nonce);
    assert.equal(recordReader((k) => readJson(sim.read, k), cache)(early)?.subject, COMPANY);
    // Exceptions are read each time: a later mark shows through a cached batch.
    await anchor(sim, [{ subject: SUBJECT, negative: false, revokes: laterIds[0] as string }]);
    assert.equal(subjectRecords(sim.read, SUBJECT, 100, { cache }).find((r) => r.id === laterIds[0])?.status, 'revoked');
  });

  it('a new version supersedes the provider’s own active record only', async () => {
    const sim = await network();
    const { ids } = await anchor(sim, [{ subject: SUBJECT }]);
    const old = ids[0] as string;
    const { r, ids: next } = await anchor(sim, [{ subject: SUBJECT, supersedes: old }]);
    assert.equal(r.code, 'OK');
    assert.equal(readRecord(sim.read, old)?.status, 'superseded');
    assert.deepEqual([readRecord(sim.read, next[0] as string)?.version, readRecord(sim.read, next[0] as string)?.supersedes], [2, old]);
    assert.equal((await anchor(sim, [{ subject: SUBJECT, supersedes: old }])).r.code, 'RECORD_NOT_ACTIVE');
    assert.equal((await anchor(sim, [{ subject: SUBJECT, supersedes: id() }])).r.code, 'UNKNOWN_RECORD');
    assert.equal((await anchor(sim, [{ subject: COMPANY, revokes: next[0] as string }])).r.code, 'BAD_RECORD');
    const { r: revoked } = await anchor(sim, [{ subject: SUBJECT, negative: false, revokes: next[0] as string }]);
    assert.equal(revoked.code, 'OK');
    assert.equal(readRecord(sim.read, next[0] as string)?.status, 'revoked');
  });

  it('expires a negative record only once block time reaches conduct end + 5 years', async () => {
    const sim = await network();
    const { ids } = await anchor(sim, [{ subject: SUBJECT, conductEnd: '2020-06-30' }]);
    assert.equal((await sim.call(bank1, 'records', 'expire', { ids })).code, 'NOT_PROVIDER');
    const due = Date.parse('2025-06-30');
    if (sim.time < due) assert.equal((await sim.call(court, 'records', 'expire', { ids })).code, 'NOT_DUE');
    sim.time = Math.max(sim.time, due);
    const r = await sim.call(court, 'records', 'expire', { ids });
    assert.equal(r.code, 'OK');
    assert.equal(readRecord(sim.read, ids[0] as string)?.status, 'expired');
    assert.equal((await sim.call(court, 'records', 'expire', { ids })).code, 'RECORD_EXPIRED');
  });
});

describe('consents and access', () => {
  it('refuses an access without consent, as a decision recorded on chain under the subject', async () => {
    const sim = await network();
    const r = await sim.call(bank1, 'access', 'request', ask(id()));
    assert.equal(r.code, 'OK');
    assert.deepEqual((r.value as { status: string }).status, 'refused');
    const [accessId] = readIndex(sim.read, 'acc', SUBJECT);
    const a = accessOf(sim, accessId as string);
    assert.equal(a.status, 'refused');
    assert.equal(a.reason, 'CONSENT_NOT_FOUND');
    assert.equal(a.consumer, 'bank');
    assert.equal(a.operator, hex(bank1.publicKey));
    assert.equal(a.purpose, 'LOAN_APPROVAL');
    assert.equal(r.events[0]?.name, 'refused');
  });

  it('checks the subject signature on grants', async () => {
    const sim = await network();
    const statement = { id: id(), subject: SUBJECT, consumer: 'bank', categories: ['court'], purpose: 'LOAN_APPROVAL', expiresAt: sim.time + DAY };
    const s = (await signed(person, Domains.consentGrant, statement)) as { statement: JsonValue; publicKey: string; signature: string };
    const tampered = { ...s, statement: { ...statement, categories: ['court', 'tax'] } };
    assert.equal((await sim.call(bank1, 'consents', 'grant', tampered)).code, 'BAD_SUBJECT_SIGNATURE');
    const wrongDomain = await signed(person, Domains.consentRevoke, statement);
    assert.equal((await sim.call(bank1, 'consents', 'grant', wrongDomain)).code, 'BAD_SUBJECT_SIGNATURE');
    assert.equal((await grant(sim, { by: company })).r.code, 'SUBJECT_KEY_UNKNOWN');
    assert.equal((await sim.call(stranger, 'consents', 'grant', s as unknown as JsonValue)).code, 'NOT_MEMBER');
    assert.equal((await sim.call(bank1, 'consents', 'grant', s as unknown as JsonValue)).code, 'OK');
    assert.equal((await sim.call(bank1, 'consents', 'grant', s as unknown as JsonValue)).code, 'CONSENT_EXISTS');
  });

  it('authorizes in scope; refuses out of scope, wrong purpose, expired, and a single-use consent used twice', async () => {
    const sim = await network();
    const { consentId } = await grant(sim, { categories: ['court', 'tax'], expiresIn: 10_000 });
    const ok = await sim.call(bank1, 'access', 'request', ask(consentId));
    assert.equal((ok.value as { status: string }).status, 'authorized');
    const codes = async (over: Record<string, JsonValue>) =>
      ((await sim.call(bank1, 'access', 'request', ask(consentId, over))).value as { reason?: string }).reason;
    assert.equal(await codes({ categories: ['court', 'loan'] }), 'CONSENT_OUT_OF_SCOPE');
    assert.equal(await codes({ categories: ['loan'] }), 'CONSENT_OUT_OF_SCOPE');
    assert.equal(await codes({ purpose: 'MARKETING' }), 'CONSENT_WRONG_PURPOSE');
    assert.equal(await codes({ subject: COMPANY }), 'CONSENT_WRONG_SUBJECT');
    sim.time += 10_000;
    assert.equal(await codes({}), 'CONSENT_EXPIRED');
    const once = await grant(sim, { singleUse: true });
    assert.equal(((await sim.call(bank1, 'access', 'request', ask(once.consentId))).value as { status: string }).status, 'authorized');
    assert.equal(((await sim.call(bank2, 'access', 'request', ask(once.consentId))).value as { reason: string }).reason, 'CONSENT_USED');
  });

  it('a revocation takes effect from the next block', async () => {
    const sim = await network();
    const { consentId } = await grant(sim);
    const revoke = await signed(person, Domains.consentRevoke, { subject: SUBJECT, consentId });
    const [rv, same] = await sim.block([
      { by: bank1, contract: 'consents', method: 'revoke', args: revoke },
      { by: bank1, contract: 'access', method: 'request', args: ask(consentId) },
    ]);
    assert.equal(rv?.code, 'OK');
    assert.equal((same?.value as { status?: string } | undefined)?.status, 'authorized');
    const next = await sim.call(bank1, 'access', 'request', ask(consentId));
    assert.equal((next.value as { reason: string }).reason, 'CONSENT_REVOKED');
    assert.equal((await sim.call(bank1, 'consents', 'revoke', revoke)).code, 'CONSENT_REVOKED');
    const notMine = await signed(company, Domains.consentRevoke, { subject: COMPANY, consentId });
    assert.equal((await sim.call(bank1, 'consents', 'revoke', notMine)).code, 'CONSENT_NOT_FOUND');
  });

  it('two-person rule: requester cannot approve; another key of the org can; turning it off needs two keys', async () => {
    const sim = await network();
    assert.equal((await sim.call(bank1, 'access', 'setPolicy', { twoPerson: true })).code, 'OK');
    const { consentId } = await grant(sim, { singleUse: true });
    const req = await sim.call(bank1, 'access', 'request', ask(consentId));
    const accessId = (req.value as { accessId: string }).accessId;
    assert.equal(accessOf(sim, accessId).status, 'pending');
    assert.equal((await sim.call(bank1, 'access', 'approve', { accessId })).code, 'SAME_OPERATOR');
    assert.equal((await sim.call(court, 'access', 'approve', { accessId })).code, 'NOT_CONSUMER');
    assert.equal((await sim.call(bank2, 'access', 'approve', { accessId })).code, 'OK');
    const a = accessOf(sim, accessId);
    assert.equal(a.status, 'authorized');
    assert.equal(a.approver, hex(bank2.publicKey));
    assert.equal((await sim.call(bank2, 'access', 'approve', { accessId })).code, 'ACCESS_DECIDED');
    await sim.call(bank1, 'access', 'setPolicy', { twoPerson: false });
    assert.equal(sim.get<{ twoPerson: boolean }>(DsKeys.accessPolicy('bank'))?.twoPerson, true, 'one key cannot turn it off');
    await sim.call(bank2, 'access', 'setPolicy', { twoPerson: false });
    assert.equal(sim.get<{ twoPerson: boolean }>(DsKeys.accessPolicy('bank'))?.twoPerson, false);
  });

  it('two-person rule re-checks the consent at approval', async () => {
    const sim = await network();
    await sim.call(bank1, 'access', 'setPolicy', { twoPerson: true });
    const { consentId } = await grant(sim);
    const accessId = ((await sim.call(bank1, 'access', 'request', ask(consentId))).value as { accessId: string }).accessId;
    await sim.call(bank1, 'consents', 'revoke', await signed(person, Domains.consentRevoke, { subject: SUBJECT, consentId }));
    await sim.call(bank2, 'access', 'approve', { accessId });
    assert.equal(accessOf(sim, accessId).reason, 'CONSENT_REVOKED');
  });
});

describe('disputes', () => {
  async function opened(sim: ContractSim) {
    const { ids } = await anchor(sim, [{ subject: SUBJECT }]);
    const recordId = ids[0] as string;
    const disputeId = id();
    const statementHash = hex(suite.hash(Buffer.from('I repaid this debt in full.')));
    const r = await sim.call(
      court,
      'disputes',
      'open',
      await signed(person, Domains.disputeOpen, { id: disputeId, subject: SUBJECT, recordId, statementHash }),
    );
    return { r, recordId, disputeId };
  }

  it('opening marks the record at once; only the subject of the record may dispute it', async () => {
    const sim = await network();
    const { r, recordId, disputeId } = await opened(sim);
    assert.equal(r.code, 'OK');
    assert.deepEqual(readRecord(sim.read, recordId)?.dispute, { id: disputeId, status: 'open' });
    const byCompany = await signed(company, Domains.disputeOpen, { id: id(), subject: COMPANY, recordId, statementHash: id() });
    assert.equal((await sim.call(court, 'disputes', 'open', byCompany)).code, 'UNKNOWN_RECORD');
    const again = await signed(person, Domains.disputeOpen, { id: id(), subject: SUBJECT, recordId, statementHash: id() });
    assert.equal((await sim.call(court, 'disputes', 'open', again)).code, 'DISPUTE_OPEN');
    assert.deepEqual(readIndex(sim.read, 'dis', SUBJECT), [disputeId]);
  });

  it('the provider resolves by correcting (with a new version) or upholding', async () => {
    const sim = await network();
    const { recordId, disputeId } = await opened(sim);
    assert.equal((await sim.call(bank1, 'disputes', 'resolve', { disputeId, outcome: 'upheld' })).code, 'NOT_PROVIDER');
    assert.equal((await sim.call(court, 'disputes', 'resolve', { disputeId, outcome: 'corrected', correctionId: id() })).code, 'CORRECTION_MISSING');
    const { ids } = await anchor(sim, [{ subject: SUBJECT, supersedes: recordId }]);
    const r = await sim.call(court, 'disputes', 'resolve', { disputeId, outcome: 'corrected', correctionId: ids[0] as string });
    assert.equal(r.code, 'OK');
    const d = sim.get<DisputeEntry>(DsKeys.dispute(disputeId));
    assert.equal(d?.status, 'resolved');
    assert.equal(d?.late, false);
    assert.deepEqual(readRecord(sim.read, recordId)?.dispute, { id: disputeId, status: 'resolved', outcome: 'corrected' });
    assert.equal((await sim.call(court, 'disputes', 'resolve', { disputeId, outcome: 'upheld' })).code, 'DISPUTE_RESOLVED');
  });

  it('flags a dispute overdue only after 20 days of block time', async () => {
    const sim = await network();
    const { disputeId } = await opened(sim);
    assert.equal((await sim.call(bank1, 'disputes', 'flagOverdue', { disputeIds: [disputeId] })).code, 'NOT_OVERDUE');
    const r = await sim.call(bank1, 'disputes', 'flagOverdue', { disputeIds: [disputeId] }, DISPUTE_RESOLVE_MS);
    assert.equal(r.code, 'OK');
    assert.equal(r.events[0]?.name, 'overdue');
    const late = await sim.call(court, 'disputes', 'resolve', { disputeId, outcome: 'upheld' });
    assert.deepEqual(late.value, { disputeId, outcome: 'upheld', late: true });
  });
});

describe('consent rule properties', () => {
  const cats = ['court', 'tax', 'loan', 'utility'];
  const consentArb = fc.record({
    subject: fc.constantFrom('P:a', 'P:b'),
    consumer: fc.constantFrom('bank', 'other'),
    categories: fc.subarray(cats, { minLength: 1 }),
    purpose: fc.constantFrom('LOAN', 'HIRING'),
    expiresAt: fc.integer({ min: 100, max: 1000 }),
    singleUse: fc.boolean(),
    uses: fc.integer({ min: 0, max: 2 }),
    revokedHeight: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
  });
  const useArb = fc.record({
    subject: fc.constantFrom('P:a', 'P:b'),
    consumer: fc.constantFrom('bank', 'other'),
    categories: fc.subarray(cats, { minLength: 1 }),
    purpose: fc.constantFrom('LOAN', 'HIRING'),
    time: fc.integer({ min: 0, max: 1200 }),
    height: fc.integer({ min: 1, max: 25 }),
  });
  type Gen = typeof consentArb extends fc.Arbitrary<infer T> ? T : never;
  const entry = (c: Gen): ConsentEntry => {
    const { revokedHeight, ...rest } = c;
    return { id: 'c1', publicKey: '00', grantedAt: 0, grantedHeight: 0, ...rest, ...(revokedHeight === undefined ? {} : { revokedHeight }) };
  };

  it('an authorized use stays authorized for narrower scope, earlier time and lower height', () => {
    fc.assert(
      fc.property(consentArb, useArb, fc.nat(1200), fc.nat(25), (c, g, dt, dh) => {
        const e = entry({ ...c, uses: 0 });
        // A use that matches the consent's parties and purpose, in its scope, at any time.
        const u: ConsentUse = { ...g, subject: c.subject, consumer: c.consumer, purpose: c.purpose, categories: c.categories.slice(-1) };
        fc.pre(checkConsent(e, u).ok);
        const narrower: ConsentUse = { ...u, categories: u.categories.slice(0, 1), time: Math.max(0, u.time - dt), height: Math.max(1, u.height - dh) };
        assert.ok(checkConsent(e, narrower).ok);
      }),
    );
  });

  it('never authorizes another consumer, subject or purpose, past expiry, after revocation, or a used single-use consent', () => {
    fc.assert(
      fc.property(consentArb, useArb, (c, u) => {
        const ok = checkConsent(entry(c), u).ok;
        const mustRefuse =
          u.consumer !== c.consumer ||
          u.subject !== c.subject ||
          u.purpose !== c.purpose ||
          u.time >= c.expiresAt ||
          (c.revokedHeight !== undefined && u.height > c.revokedHeight) ||
          (c.singleUse && c.uses > 0) ||
          u.categories.some((k) => !c.categories.includes(k));
        assert.equal(ok, !mustRefuse);
      }),
    );
  });

  it('through the contracts: every request is recorded once; a single-use consent authorizes at most once; nothing after revocation', async () => {
    const sim = await network();
    const ops = fc.array(fc.constantFrom('request', 'request2', 'revoke', 'wait'), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(ops, fc.boolean(), async (plan, singleUse) => {
        const { consentId } = await grant(sim, { singleUse });
        const before = readIndex(sim.read, 'acc', SUBJECT).length;
        let requests = 0;
        let revokedAt: number | undefined;
        for (const op of plan) {
          if (op === 'wait') await sim.block([]);
          else if (op === 'revoke') {
            const r = await sim.call(bank1, 'consents', 'revoke', await signed(person, Domains.consentRevoke, { subject: SUBJECT, consentId }));
            if (r.code === 'OK') revokedAt = sim.height;
          } else {
            requests++;
            assert.equal((await sim.call(op === 'request' ? bank1 : bank2, 'access', 'request', ask(consentId))).code, 'OK');
          }
        }
        const mine = readIndex(sim.read, 'acc', SUBJECT)
          .slice(before)
          .map((a) => accessOf(sim, a));
        assert.equal(mine.length, requests);
        const authorized = mine.filter((a) => a.status === 'authorized');
        if (singleUse) assert.ok(authorized.length <= 1);
        if (revokedAt !== undefined) assert.ok(authorized.every((a) => a.height <= (revokedAt as number)));
      }),
      { numRuns: 30 },
    );
  });
});

describe('delivery outcomes', () => {
  it('a provider records a delivery once and refusals, at most 4, under the subject; nothing about an unknown access', async () => {
    const sim = await network();
    const { consentId } = await grant(sim);
    const accessId = ((await sim.call(bank1, 'access', 'request', ask(consentId))).value as { accessId: string }).accessId;
    const record = async (by: Signer, args: Record<string, JsonValue>) =>
      (await sim.call(by, 'deliveries', 'record', { accessId, requester: 'bank', ...args })).code;
    assert.equal(await record(court, { outcome: 'delivered', records: 3 }), 'OK');
    assert.equal(await record(court, { outcome: 'delivered', records: 3 }), 'ALREADY_DELIVERED');
    assert.equal(await record(ra, { outcome: 'delivered', records: 1, requester: 'ra' }), 'NOT_AUTHORIZED', 'only to the access consumer');
    assert.equal(await record(court, { outcome: 'refused', code: 'ACCESS_REPLAYED' }), 'OK');
    assert.equal(await record(court, { outcome: 'refused', code: 'not a code' }), 'BAD_OUTCOME');
    assert.equal(await record(court, { outcome: 'lost' }), 'BAD_OUTCOME');
    assert.equal(await record(stranger, { outcome: 'refused', code: 'NOT_AUTHORIZED' }), 'NOT_MEMBER');
    assert.equal(await record(court, { outcome: 'refused', code: 'NOT_AUTHORIZED', accessId: id() }), 'ACCESS_NOT_FOUND');
    assert.equal(await record(court, { outcome: 'refused', code: 'NOT_AUTHORIZED', requester: 'ra' }), 'OK');
    assert.equal(await record(court, { outcome: 'refused', code: 'NOT_AUTHORIZED', requester: 'ra' }), 'OK');
    assert.equal(await record(court, { outcome: 'refused', code: 'NOT_AUTHORIZED', requester: 'ra' }), 'OUTCOMES_FULL');
    assert.equal(await record(ra, { outcome: 'refused', code: 'NOT_AUTHORIZED', requester: 'ra' }), 'OK', 'each provider has its own bound');
    const view = subjectView(sim.read, SUBJECT, { height: 0, time: sim.time });
    assert.deepEqual(
      view.deliveries.map((d) => [d.provider, d.requester, d.outcome, d.records ?? d.code]),
      [
        ['court', 'bank', 'delivered', 3],
        ['court', 'bank', 'refused', 'ACCESS_REPLAYED'],
        ['court', 'ra', 'refused', 'NOT_AUTHORIZED'],
        ['court', 'ra', 'refused', 'NOT_AUTHORIZED'],
        ['ra', 'ra', 'refused', 'NOT_AUTHORIZED'],
      ],
    );
    assert.equal(sim.state.has(`dlv/${accessId}`), true, 'one state entry for all outcomes under the access');
  });

  it('the consumer records a forged delivery once per provider; the subject sees it; the provider keeps its own bound', async () => {
    const sim = await network();
    const { consentId } = await grant(sim);
    const accessId = ((await sim.call(bank1, 'access', 'request', ask(consentId))).value as { accessId: string }).accessId;
    const forged = async (by: Signer, args: Record<string, JsonValue> = {}) =>
      (await sim.call(by, 'deliveries', 'forged', { accessId, providers: ['court'], ...args })).code;
    assert.equal((await sim.call(court, 'deliveries', 'record', { accessId, requester: 'bank', outcome: 'delivered', records: 2 })).code, 'OK');
    assert.equal(await forged(court), 'NOT_AUTHORIZED', 'only the consumer of the access');
    assert.equal(await forged(stranger), 'NOT_MEMBER');
    assert.equal(await forged(bank1, { accessId: id() }), 'ACCESS_NOT_FOUND');
    assert.equal(await forged(bank1, { providers: [] }), 'BAD_OUTCOME');
    assert.equal(await forged(bank1, { providers: ['court', 'nobody'] }), 'UNKNOWN_ORG', 'and nothing is written');
    assert.equal(await forged(bank1), 'OK');
    assert.equal(await forged(bank2), 'ALREADY_REPORTED', 'once per access and provider, whichever member of the consumer');
    for (let i = 0; i < 3; i++)
      assert.equal((await sim.call(court, 'deliveries', 'record', { accessId, requester: 'bank', outcome: 'refused', code: 'ACCESS_REPLAYED' })).code, 'OK');
    const view = subjectView(sim.read, SUBJECT, { height: 0, time: sim.time });
    assert.deepEqual(
      view.deliveries.map((d) => [d.provider, d.requester, d.outcome, d.records ?? d.code, d.reporter ?? '']),
      [
        ['court', 'bank', 'delivered', 2, ''],
        ['court', 'bank', 'refused', 'FORGED_DELIVERY', 'bank'],
        ['court', 'bank', 'refused', 'ACCESS_REPLAYED', ''],
        ['court', 'bank', 'refused', 'ACCESS_REPLAYED', ''],
        ['court', 'bank', 'refused', 'ACCESS_REPLAYED', ''],
      ],
    );
  });

  it('recordMany writes each acceptable outcome and reports the code of each skipped one', async () => {
    const sim = await network();
    const { consentId } = await grant(sim);
    const accessId = ((await sim.call(bank1, 'access', 'request', ask(consentId))).value as { accessId: string }).accessId;
    const outcomes = [
      { accessId, requester: 'bank', outcome: 'delivered', records: 2 },
      { accessId, requester: 'bank', outcome: 'delivered', records: 2 },
      { accessId: id(), requester: 'bank', outcome: 'refused', code: 'NOT_AUTHORIZED' },
    ];
    const r = await sim.call(court, 'deliveries', 'recordMany', { outcomes });
    assert.equal(r.code, 'OK');
    assert.deepEqual(r.value, [{ ok: true }, { ok: false, code: 'ALREADY_DELIVERED' }, { ok: false, code: 'ACCESS_NOT_FOUND' }]);
    assert.equal(subjectView(sim.read, SUBJECT, { height: 0, time: sim.time }).deliveries.length, 1);
    assert.equal((await sim.call(court, 'deliveries', 'recordMany', { outcomes: [] })).code, 'BAD_OUTCOME');
  });
});
