// The data space on real node processes: a registration authority (org1, also the orderer),
// a bank with two member keys (org2, consumer) and a court (org3, provider). Subjects use
// wallets through the CLI; consents are relayed by a node; every access decision shows in
// the subject view; nothing personal reaches the chain, the logs or error bodies.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AccessEntry } from '../src/contracts/access.js';
import { anchorArgsJson, batchIdOf, recordIdAt } from '../src/contracts/recordBatch.js';
import type { SubjectView } from '../src/contracts/views.js';
import { getSuite } from '../src/crypto/suites.js';
import { subjectIdOf } from '../src/dataspace/identifiers.js';
import { merkleRoot } from '../src/ledger/merkle.js';
import type { CredenceClient } from '../src/sdk/client.js';
import { CredenceClient as Client } from '../src/sdk/client.js';
import { SubjectClient } from '../src/sdk/dataspace.js';
import { loadWallet } from '../src/sdk/wallet.js';
import { SqliteVault } from '../src/dataspace/vault.js';
import { fromHex, toHex } from '../src/util/bytes.js';
import { isCredenceError } from '../src/util/errors.js';
import { COURT_SCHEMA } from './contractSim.js';
import { type TestNetwork, cli, filesUnder, startNetwork } from './helpers.js';

const suite = getSuite('default');
const RESIDENT_ID = '11010519491231002X';
const STATEMENT = 'The judgment was set aside on appeal in March; see case 2024-appeal-17.';

let net: TestNetwork;
let ra: CredenceClient;
let bank: CredenceClient;
let bank2: CredenceClient;
let court: CredenceClient;
let subject: string;
let walletFile: string;
let recordIds: string[];

const url = (i: number) => net.layout.nodes[i]?.url as string;
const json = <T>(r: { status: number; stdout: string; stderr: string }): T => {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
};

// Views read the orderer host (org1), which commits every block first.
function subjectOf(wallet: string, i = 0): SubjectClient {
  const w = loadWallet(wallet, getSuite);
  return new SubjectClient(new Client({ url: url(i), suite, signer: w.signer }), w.signer);
}

async function anchor(items: { subject: string; supersedes?: string }[]): Promise<string[]> {
  const nonce = toHex(randomBytes(16));
  const batch = batchIdOf(suite.hash, 'org3', nonce);
  const root = toHex(
    merkleRoot(
      suite.hash,
      items.map(() => randomBytes(32)),
    ),
  );
  const args = anchorArgsJson({
    schema: COURT_SCHEMA.id,
    nonce,
    root,
    count: items.length,
    subjects: [[subject, items.length]],
    negatives: items.map((_, i) => [i, Date.parse('2024-03-31')] as const),
    links: items.flatMap((it, i) => (it.supersedes === undefined ? [] : [[i, 'supersedes', it.supersedes] as const])),
  });
  const r = await court.call({ contract: 'records', method: 'anchor', args });
  assert.equal(r.code, 'OK');
  return items.map((_, i) => recordIdAt(batch, i));
}

function grant(extra: string[] = []): string {
  const r = json<{ consentId: string }>(
    cli(['consent', 'grant', '--wallet', walletFile, '--url', url(1), '--consumer', 'org2', '--categories', 'court', '--purpose', 'LOAN_APPROVAL', ...extra]),
  );
  return r.consentId;
}

function request(consentId: string, key?: string): { status: number; decision: { accessId: string; status: string; reason?: string } } {
  const keyArgs = key === undefined ? [] : ['--key', key];
  const r = cli([
    'access',
    'request',
    '--config',
    net.layout.nodes[1]?.config as string,
    ...keyArgs,
    '--subject',
    subject,
    '--consent',
    consentId,
    '--categories',
    'court',
    '--purpose',
    'LOAN_APPROVAL',
  ]);
  return { status: r.status, decision: JSON.parse(r.stdout) };
}

before(async () => {
  net = await startNetwork({ orgs: 3, extraKeys: 1, roles: { 0: ['registrar'] } });
  [ra, bank, court] = [net.client(0), net.client(1), net.client(2)];
  bank2 = net.client(1, net.layout.nodes[1]?.extraKeyFiles[0]);
  const p = await ra.call({ contract: 'gov', method: 'propose', args: { kind: 'registerSchema', schema: COURT_SCHEMA } });
  await court.call({ contract: 'gov', method: 'vote', args: { proposalId: (p.value as { proposalId: number }).proposalId, approve: true } });
  // The subject makes a wallet; the registration authority binds it, computing the pseudonym from the raw ID number on stdin.
  walletFile = join(net.dir, 'wallet.json');
  const made = cli(['wallet', 'new', '--out', walletFile]);
  assert.equal(made.status, 0, made.stderr);
  const pub = loadWallet(walletFile, getSuite).publicKey;
  const secretFile = join(net.dir, 'pseudonym.key');
  const secret = randomBytes(32);
  writeFileSync(secretFile, secret);
  const { spawnSync } = await import('node:child_process');
  const { CLI_MAIN } = await import('../src/cli/processes.js');
  const reg = spawnSync(
    process.execPath,
    [CLI_MAIN, 'subject', 'register', '--config', net.layout.nodes[0]?.config as string, '--public-key', pub, '--id-stdin', '--pseudonym-key', secretFile],
    {
      input: RESIDENT_ID,
      encoding: 'utf8',
    },
  );
  assert.equal(reg.status, 0, reg.stderr);
  subject = (JSON.parse(reg.stdout) as { subject: string }).subject;
  assert.equal(subject, subjectIdOf(new Uint8Array(secret), RESIDENT_ID));
  recordIds = await anchor([{ subject }, { subject }]);
});

after(async () => {
  await net?.close();
});

describe('data space on real nodes', () => {
  it('wallet show names the registered subject', () => {
    const shown = json<{ subject: string; publicKey: string }>(cli(['wallet', 'show', '--wallet', walletFile, '--url', url(2)]));
    assert.equal(shown.subject, subject);
  });

  it('refuses access without a consent, and records the refusal where the subject sees it', async () => {
    const r = request(toHex(randomBytes(16)));
    assert.equal(r.status, 1);
    assert.equal(r.decision.status, 'refused');
    assert.equal(r.decision.reason, 'CONSENT_NOT_FOUND');
    const view = await subjectOf(walletFile).view();
    const seen = view.accesses.find((a) => a.id === r.decision.accessId);
    assert.equal(seen?.status, 'refused');
    assert.equal(seen?.consumer, 'org2');
  });

  it('grants access under a consent; a single-use consent works once; a revoked consent no longer works', async () => {
    const consentId = grant();
    assert.equal(request(consentId).decision.status, 'authorized');
    const once = grant(['--single-use']);
    assert.equal(request(once).decision.status, 'authorized');
    const twice = request(once);
    assert.equal(twice.status, 1);
    assert.equal(twice.decision.reason, 'CONSENT_USED');
    const revoked = cli(['consent', 'revoke', consentId, '--wallet', walletFile, '--url', url(2)]);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.equal(request(consentId).decision.reason, 'CONSENT_REVOKED');
    const consents = json<{ id: string; state: string }[]>(cli(['consent', 'list', '--wallet', walletFile, '--url', url(0)]));
    assert.equal(consents.find((c) => c.id === consentId)?.state, 'revoked');
    assert.equal(consents.find((c) => c.id === once)?.state, 'used');
  });

  it('two-person rule: the requester cannot approve; a second member can', async () => {
    const on = cli(['access', 'policy', '--config', net.layout.nodes[1]?.config as string, '--two-person', 'on']);
    assert.equal(on.status, 0, on.stderr);
    const consentId = grant();
    const pending = request(consentId).decision;
    assert.equal(pending.status, 'pending');
    const self = cli(['access', 'approve', pending.accessId, '--config', net.layout.nodes[1]?.config as string]);
    assert.equal(self.status, 1);
    assert.match(self.stderr, /SAME_OPERATOR/);
    const other = cli([
      'access',
      'approve',
      pending.accessId,
      '--config',
      net.layout.nodes[1]?.config as string,
      '--key',
      net.layout.nodes[1]?.extraKeyFiles[0] as string,
    ]);
    assert.equal(json<{ status: string }>(other).status, 'authorized');
    const view = await subjectOf(walletFile).view();
    const a = view.accesses.find((x) => x.id === pending.accessId) as AccessEntry;
    assert.notEqual(a.approver, a.operator);
    await bank.call({ contract: 'access', method: 'setPolicy', args: { twoPerson: false } });
    await bank2.call({ contract: 'access', method: 'setPolicy', args: { twoPerson: false } });
  });

  it('a dispute marks the record at once; the provider keeps the statement and resolves it', async () => {
    const opened = json<{ disputeId: string }>(
      cli(['dispute', 'open', '--wallet', walletFile, '--url', url(2), '--record', recordIds[0] as string, '--statement', STATEMENT]),
    );
    const list = json<{ id: string; status: string; isOverdue: boolean; statementHash: string }[]>(
      cli(['dispute', 'list', '--wallet', walletFile, '--url', url(0)]),
    );
    const d = list.find((x) => x.id === opened.disputeId);
    assert.equal(d?.status, 'open');
    assert.equal(d?.isOverdue, false);
    assert.equal(d?.statementHash, toHex(suite.hash(Buffer.from(STATEMENT))));
    const nodeDir = join(net.layout.nodes[2]?.dataDir as string, '..');
    const key = fromHex(readFileSync(join(nodeDir, 'vault.key'), 'utf8').trim());
    const vault = new SqliteVault({ path: join(nodeDir, 'vault', 'vault.sqlite'), key, suite });
    assert.equal(vault.getStatement(opened.disputeId), STATEMENT, "the provider's vault keeps the statement");
    vault.close();
    const elsewhere = cli(['dispute', 'open', '--wallet', walletFile, '--url', url(1), '--record', recordIds[1] as string, '--statement', STATEMENT]);
    assert.match(elsewhere.stderr, /BAD_DISPUTE.*provider/, "a dispute goes through the record's provider");
    const view = await subjectOf(walletFile).view();
    assert.deepEqual(view.records.find((r) => r.id === recordIds[0])?.dispute, { id: opened.disputeId, status: 'open' });
    const bankTry = cli(['dispute', 'resolve', opened.disputeId, '--outcome', 'upheld', '--config', net.layout.nodes[1]?.config as string]);
    assert.equal(bankTry.status, 1);
    const [fixed] = await anchor([{ subject, supersedes: recordIds[0] as string }]);
    const ok = cli([
      'dispute',
      'resolve',
      opened.disputeId,
      '--outcome',
      'corrected',
      '--correction',
      fixed as string,
      '--config',
      net.layout.nodes[2]?.config as string,
    ]);
    assert.equal(ok.status, 0, ok.stderr);
  });

  it('the subject view shows every access; a subject sees only its own; strangers are refused', async () => {
    const view: SubjectView = json(cli(['subject', 'view', '--wallet', walletFile, '--url', url(0)]));
    assert.equal(view.subject, subject);
    assert.ok(view.accesses.length >= 6);
    assert.ok(view.accesses.some((a) => a.status === 'refused') && view.accesses.some((a) => a.status === 'authorized'));
    assert.ok(view.accesses.every((a) => a.subject === subject && a.purpose === 'LOAN_APPROVAL' && a.consentId.length > 0));
    const other = join(net.dir, 'other.json');
    cli(['wallet', 'new', '--out', other]);
    await assert.rejects(subjectOf(other).view(), (e) => isCredenceError(e) && e.code === 'FORBIDDEN');
    const otherPub = loadWallet(other, getSuite).publicKey;
    await ra.call({ contract: 'identity', method: 'register', args: { subject: 'E:91350100M000100Y43', publicKey: otherPub } });
    const theirs = await subjectOf(other).view();
    assert.equal(theirs.subject, 'E:91350100M000100Y43');
    assert.equal(theirs.accesses.length, 0);
    assert.equal(theirs.records.length, 0);
    // A member key is not a subject key.
    const asMember = new SubjectClient(bank, { publicKey: new Uint8Array(32), sign: async () => new Uint8Array(64) });
    await assert.rejects(asMember.view(), (e) => isCredenceError(e) && e.code === 'FORBIDDEN');
  });

  it('privacy: no raw ID number or statement text in chain files, logs or error bodies', async () => {
    const bad = cli(['subject', 'register', '--config', net.layout.nodes[0]?.config as string, '--public-key', '00', '--subject', `P:${RESIDENT_ID}`]);
    assert.match(bad.stderr, /BAD_SUBJECT/, 'refused before anything is submitted');
    assert.ok(!bad.stderr.includes(RESIDENT_ID) && !bad.stdout.includes(RESIDENT_ID));
    await net.stop(0);
    await net.stop(1);
    await net.stop(2);
    const files = filesUnder(join(net.dir, 'nodes'));
    assert.ok(files.some((f) => f.endsWith('chain.db')));
    for (const f of files) {
      const text = readFileSync(f).toString('latin1');
      assert.ok(!text.includes(RESIDENT_ID), `${f} holds the raw ID number`);
      assert.ok(!text.includes(STATEMENT.slice(0, 30)), `${f} holds the statement text`);
    }
  });
});
