// The subject part of `credence demo`, after the providers imported their records: an SME
// and a person get wallets and are registered by the registration authority; a bank is
// refused without a consent, then granted access under one; the SME disputes a record, the
// bank assembles a verified credit report showing the mark, and the provider resolves the
// dispute. Each step is printed for a viewer; a raw resident ID number is never printed.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordEntry } from '../contracts/records.js';
import { getSuite } from '../crypto/suites.js';
import { enterpriseSubjectId, personSubjectId } from '../dataspace/identifiers.js';
import type { SyntheticData } from '../dataspace/synthetic.js';
import { CredenceClient } from '../sdk/client.js';
import { SubjectClient, registerSubject, requestAccess, resolveDispute } from '../sdk/dataspace.js';
import { buildReport } from '../sdk/report.js';
import { renderReportHtml } from '../sdk/reportHtml.js';
import { type Wallet, createWallet, loadWallet } from '../sdk/wallet.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import type { NetworkLayout } from './network.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const PURPOSE = 'LOAN_APPROVAL';
const SME_CATEGORIES = ['tax', 'loan', 'judicial', 'administrative'];
const PERSON_CATEGORIES = ['loan', 'utility', 'social-insurance'];
const STATEMENT = 'This judgment was fully performed; we paid the amount in full and ask that the record say so.';

export interface DataStoryOptions {
  readonly small: boolean;
  readonly say: (s: string) => void;
  readonly check: (cond: boolean, what: string) => void;
}

interface Actor {
  readonly label: string;
  readonly subject: string;
  readonly wallet: Wallet;
}

interface Story {
  readonly layout: NetworkLayout;
  readonly byOrg: ReadonlyMap<string, CredenceClient>;
  readonly o: DataStoryOptions;
}

/** The registration authority, the two banks and the court must all be in the network. */
export const STORY_ORGS = ['zj-credit', 'bank-a', 'bank-b', 'court'] as const;

function org(s: Story, id: string): CredenceClient {
  const c = s.byOrg.get(id);
  if (c === undefined) throw new CredenceError('DEMO_FAILED', `organization ${id} is not in this network`);
  return c;
}

function urlOf(s: Story, id: string): string {
  const n = s.layout.nodes.find((x) => x.orgId === id);
  if (n === undefined) throw new CredenceError('DEMO_FAILED', `organization ${id} is not in this network`);
  return n.url;
}

function subjectClient(s: Story, a: Actor, orgId = 'zj-credit'): SubjectClient {
  const client = new CredenceClient({ url: urlOf(s, orgId), suite: getSuite(s.layout.suite), signer: a.wallet.signer });
  return new SubjectClient(client, a.wallet.signer);
}

/** The registration authority's desk: a wallet for the subject, its public key bound to the subject id on chain. */
async function enrol(s: Story, label: string, subject: string): Promise<Actor> {
  const dir = join(s.layout.dir, 'wallets');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${label}.json`);
  const existed = existsSync(file);
  const wallet = existed ? loadWallet(file, getSuite) : createWallet(file, getSuite(s.layout.suite));
  const r = await registerSubject(org(s, 'zj-credit'), subject, wallet.publicKey, existed);
  s.o.check(r.code === 'OK', `${label}: wallet ${file} created; zj-credit (registration authority) bound its key to ${shortId(subject)}`);
  return { label, subject, wallet };
}

const shortId = (subject: string) => (subject.startsWith('P:') ? `${subject.slice(0, 14)}… (a keyed pseudonym of the ID number)` : subject);

function pseudonymSecret(layout: NetworkLayout): Uint8Array {
  const secret = fromHexStrict(readFileSync(join(layout.dir, 'nodes', 'zj-credit', 'pseudonym.key'), 'utf8').trim());
  if (secret === undefined) throw new CredenceError('DEMO_FAILED', 'the pseudonym secret of zj-credit is unreadable');
  return secret;
}

async function grant(s: Story, a: Actor, consumer: string, categories: string[]): Promise<string> {
  const g = await subjectClient(s, a).grantConsent({ consumer, categories, purpose: PURPOSE, expiresAt: Date.now() + 30 * DAY_MS });
  s.o.check(
    g.result.code === 'OK',
    `${a.label} signed a consent for ${consumer}: ${categories.join(', ')} for ${PURPOSE}, 30 days (consent ${g.consentId.slice(0, 8)}…)`,
  );
  return g.consentId;
}

async function access(s: Story, consumer: string, a: Actor, consentId: string, categories: string[]): Promise<string> {
  const d = await requestAccess(org(s, consumer), { subject: a.subject, consentId, categories, purpose: PURPOSE });
  s.o.check(
    d.status === 'authorized',
    `${consumer} asked for ${a.label}'s ${categories.join(', ')} records: authorized and logged on chain (access ${d.accessId.slice(0, 8)}…)`,
  );
  return d.accessId;
}

async function refusal(s: Story, a: Actor): Promise<void> {
  const d = await requestAccess(org(s, 'bank-b'), {
    subject: a.subject,
    consentId: toHex(new Uint8Array(16).fill(7)),
    categories: PERSON_CATEGORIES,
    purpose: PURPOSE,
  });
  s.o.check(d.status === 'refused', `bank-b asked for ${a.label}'s records without a consent: refused (${d.reason}) and the refusal logged on chain`);
  const seen = (await subjectClient(s, a).view()).accesses.find((x) => x.id === d.accessId);
  s.o.check(seen?.status === 'refused', `${a.label} sees the refused request in its subject view`);
}

/** A live judgment (or else any live record) about the SME, to dispute. */
async function recordToDispute(s: Story, a: Actor): Promise<RecordEntry> {
  const records = (await subjectClient(s, a).view()).records.filter((r) => r.status === 'active' && r.expiresAt !== undefined && r.expiresAt > Date.now());
  const pick = records.find((r) => r.category === 'judicial') ?? records[0];
  if (pick === undefined) throw new CredenceError('DEMO_FAILED', `${a.label} has no live negative record to dispute`);
  return pick;
}

async function dispute(s: Story, a: Actor): Promise<{ disputeId: string; record: RecordEntry }> {
  const record = await recordToDispute(s, a);
  const opened = await subjectClient(s, a, record.provider).openDispute(record.id, STATEMENT);
  s.o.check(opened.result.code === 'OK', `${a.label} disputed its ${record.schema} record ${record.id.slice(0, 8)}… at ${record.provider}, with a statement`);
  const marked = (await subjectClient(s, a).view()).records.find((r) => r.id === record.id);
  s.o.check(marked?.dispute !== undefined, 'the record is marked as disputed on chain at once (the statement text stays off chain)');
  return { disputeId: opened.disputeId, record };
}

// ---- the report ------------------------------------------------------------------------

/** bank-a's node gathers and verifies every provider's delivery; the page goes to DIR/reports/ (the bank's own copy). */
async function report(s: Story, a: Actor, accessId: string, disputed: string): Promise<void> {
  const providers = Object.fromEntries(s.layout.nodes.map((n) => [n.orgId, n.url]));
  const r = await buildReport(org(s, 'bank-a'), accessId, { providers, subject: a.subject });
  const ok = r.providers.filter((p) => p.status === 'ok');
  s.o.check(
    r.complete && r.missing.length === 0,
    `bank-a's credit report on ${a.label}: ${r.records.length} records from ${ok.map((p) => p.provider).join(', ')}, each verified against its anchor`,
  );
  const mark = r.records.find((x) => x.id === disputed)?.dispute;
  s.o.check(mark?.status === 'open' && mark.statement === STATEMENT, "the report shows the dispute mark and the subject's statement");
  const file = writeReportFiles(join(s.layout.dir, 'reports'), `report-${a.label}`, `${JSON.stringify(r, null, 2)}\n`, renderReportHtml(r));
  s.o.say(`      readable report: ${file}`);
}

// ---- the story --------------------------------------------------------------------------

export async function subjectStory(layout: NetworkLayout, byOrg: ReadonlyMap<string, CredenceClient>, data: SyntheticData, o: DataStoryOptions): Promise<void> {
  const s: Story = { layout, byOrg, o };
  const missing = STORY_ORGS.filter((id) => !byOrg.has(id));
  if (missing.length > 0) {
    o.say(`  (skipping the subject story: ${missing.join(', ')} not in this network; use --orgs 7)`);
    return;
  }
  o.say('subjects, consent, access, report, dispute:');
  const uscc = data.smes[0];
  const residentId = data.persons[0];
  if (uscc === undefined || residentId === undefined) throw new CredenceError('DEMO_FAILED', 'no synthetic subjects');
  const sme = await enrol(s, 'sme', enterpriseSubjectId(uscc));
  const person = await enrol(s, 'person', personSubjectId(pseudonymSecret(layout), residentId));

  await refusal(s, person);
  const personConsent = await grant(s, person, 'bank-b', PERSON_CATEGORIES);
  await access(s, 'bank-b', person, personConsent, PERSON_CATEGORIES);

  const smeConsent = await grant(s, sme, 'bank-a', SME_CATEGORIES);
  const accessId = await access(s, 'bank-a', sme, smeConsent, SME_CATEGORIES);
  const { disputeId, record } = await dispute(s, sme);
  await report(s, sme, accessId, record.id);
  const resolved = await resolveDispute(org(s, record.provider), disputeId, 'upheld');
  s.o.check(resolved.code === 'OK', `${record.provider} resolved the dispute (upheld) within the 20-day limit`);
  const view = await subjectClient(s, sme).view();
  const d = view.disputes.find((x) => x.id === disputeId);
  s.o.check(
    d?.status === 'resolved' && view.accesses.some((x) => x.id === accessId),
    `the SME's subject view: ${view.records.length} records, ${view.accesses.length} access(es), ${view.consents.length} consent(s), dispute ${d?.status}`,
  );
}

export function writeReportFiles(dir: string, name: string, json: string, html: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), json, { mode: 0o600 });
  writeFileSync(join(dir, `${name}.html`), html, { mode: 0o600 });
  return join(dir, `${name}.html`);
}
