// Delivery and credit reports on real node processes: a registration authority (org1), a
// bank (org2, the consumer), a court (org3) and a tax bureau (org4), both providers with
// records imported into their vaults. One network serves every case: a granted access
// becomes a verified report from both providers (dispute mark and statement shown, expired
// record omitted, HTML escaped); providers refuse what the chain does not authorize; a
// tampered delivery is caught by the consumer; nothing personal reaches chain files or logs.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerSchemas } from '../src/cli/data.js';
import { CLI_MAIN } from '../src/cli/processes.js';
import { loadSigner } from '../src/crypto/keyfile.js';
import { getSuite } from '../src/crypto/suites.js';
import { residentIdCheckChar } from '../src/dataspace/identifiers.js';
import type { CredenceClient } from '../src/sdk/client.js';
import { CredenceClient as Client } from '../src/sdk/client.js';
import { SubjectClient, requestAccess } from '../src/sdk/dataspace.js';
import { ProviderClient, anchoredRecords } from '../src/sdk/provider.js';
import { type CreditReport, buildReport, requestDelivery } from '../src/sdk/report.js';
import { loadWallet } from '../src/sdk/wallet.js';
import { toHex } from '../src/util/bytes.js';
import { isCredenceError } from '../src/util/errors.js';
import { type TestNetwork, cli, filesUnder, startNetwork } from './helpers.js';

const suite = getSuite('default');
const RESIDENT_ID = `11010519850607123${residentIdCheckChar('11010519850607123')}`;
const CASE_NO = '(2024)Q7-unique-case-8841';
const OLD_CASE_NO = '(2016)Q7-unique-case-0017';
const STATEMENT = 'Paid in full on 2024-06-01 <script>alert(1)</script> receipt #77-unique';
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);

let net: TestNetwork;
let bank: CredenceClient;
let walletFile: string;
let subject: string;
let me: SubjectClient;
let courtRecord: string;
let oldRecord: string;
let taxRecord: string;

const url = (i: number) => net.layout.nodes[i]?.url as string;
const config = (i: number) => net.layout.nodes[i]?.config as string;
const isCode = (code: string) => (e: unknown) => isCredenceError(e) && e.code === code;
const sealKey = () => toHex(suite.generateSealingKey().publicKey);

/** A consent for the bank and an access under it; returns the access id. */
async function grantedAccess(
  opts: { expiresInMs?: number; categories?: string[] } = {},
): Promise<{ accessId: string; consentId: string; grantedAt: number; height: number }> {
  const grantedAt = Date.now();
  const categories = opts.categories ?? ['judicial', 'tax'];
  const { consentId } = await me.grantConsent({
    consumer: 'org2',
    categories,
    purpose: 'LOAN_APPROVAL',
    expiresAt: grantedAt + (opts.expiresInMs ?? 86_400_000),
  });
  const d = await requestAccess(bank, { subject, consentId, categories, purpose: 'LOAN_APPROVAL' });
  assert.equal(d.status, 'authorized', d.reason);
  return { accessId: d.accessId, consentId, grantedAt, height: d.height as number };
}

before(async () => {
  net = await startNetwork({ orgs: 4, roles: { 0: ['registrar'] } });
  bank = net.client(1);
  await registerSchemas(net.client(0), [net.client(1), net.client(2), net.client(3)], ['court-judgment', 'tax-credit-grade']);
  walletFile = join(net.dir, 'wallet.json');
  assert.equal(cli(['wallet', 'new', '--out', walletFile]).status, 0);
  const pub = loadWallet(walletFile, getSuite).publicKey;
  const reg = spawnSync(process.execPath, [CLI_MAIN, 'subject', 'register', '--config', config(0), '--public-key', pub, '--id-stdin'], {
    input: RESIDENT_ID,
    encoding: 'utf8',
  });
  assert.equal(reg.status, 0, reg.stderr);
  subject = (JSON.parse(reg.stdout) as { subject: string }).subject;
  const w = loadWallet(walletFile, getSuite);
  me = new SubjectClient(new Client({ url: url(2), suite, signer: w.signer }), w.signer);
  const court = await new ProviderClient(net.client(2)).importRows('court-judgment', [
    {
      residentId: RESIDENT_ID,
      ref: 'c-1',
      caseNumber: CASE_NO,
      court: 'Xicheng',
      judgmentDate: daysAgo(400),
      causeOfAction: 'loan',
      performedOn: daysAgo(300),
    },
    {
      residentId: RESIDENT_ID,
      ref: 'c-0',
      caseNumber: OLD_CASE_NO,
      court: 'Xicheng',
      judgmentDate: daysAgo(2300),
      causeOfAction: 'loan',
      performedOn: daysAgo(2000),
    },
  ]);
  assert.equal(court.anchored, 2, JSON.stringify(court.errors));
  [courtRecord, oldRecord] = anchoredRecords(court).map((a) => a.id) as [string, string];
  const tax = await new ProviderClient(net.client(3)).importRows('tax-credit-grade', [
    { residentId: RESIDENT_ID, ref: 't-1', year: 2023, grade: 'B', points: 81, assessedBy: 'tax' },
  ]);
  assert.equal(tax.anchored, 1, JSON.stringify(tax.errors));
  taxRecord = anchoredRecords(tax)[0]?.id as string;
  await me.openDispute(courtRecord, STATEMENT);
});

after(async () => net?.close());

describe('delivery and credit reports on real nodes', () => {
  it('a granted access becomes a verified report from both providers: dispute and statement shown, expired record omitted', async () => {
    const { accessId } = await grantedAccess();
    const out = join(net.dir, 'report.json');
    const html = join(net.dir, 'report.html');
    const r = cli(['report', subject, '--access', accessId, '--config', config(1), '--out', out, '--html', html]);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as CreditReport;
    assert.equal(report.complete, true);
    assert.deepEqual(
      report.providers.map((p) => [p.provider, p.status, p.delivered]),
      [
        ['org3', 'ok', 1],
        ['org4', 'ok', 1],
      ],
    );
    assert.deepEqual(report.records.map((x) => x.id).sort(), [courtRecord, taxRecord].sort());
    assert.ok(!report.records.some((x) => x.id === oldRecord), 'the expired record is omitted');
    const court = report.records.find((x) => x.id === courtRecord);
    assert.equal(court?.data.caseNumber, CASE_NO);
    assert.equal(court?.dispute?.status, 'open');
    assert.equal(court?.dispute?.statement, STATEMENT);
    const page = readFileSync(html, 'utf8');
    assert.ok(page.includes(CASE_NO) && page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!/<script|<link|\ssrc=|url\(/i.test(page), 'no script and no external asset');
    // The same access again: each provider serves an access once.
    await assert.rejects(requestDelivery(at(1, 2), accessId, sealKey()), isCode('ACCESS_REPLAYED'));
  });

  it('providers refuse what the chain does not authorize: no consent, wrong consumer, lapsed consent, revoked consent', async () => {
    const lapsing = await grantedAccess({ expiresInMs: 8000 });
    const refused = await requestAccess(bank, { subject, consentId: 'ab'.repeat(16), categories: ['judicial'], purpose: 'LOAN_APPROVAL' });
    assert.equal(refused.status, 'refused');
    const errors: string[] = [];
    const refusedWith = async (p: Promise<unknown>, pattern: RegExp) =>
      assert.rejects(p, (e) => {
        errors.push(JSON.stringify(e) + String((e as Error).message));
        return isCode('NOT_AUTHORIZED')(e) && pattern.test((e as Error).message);
      });
    // Each request names the height that decided it, so a provider that is behind waits for that block.
    await refusedWith(requestDelivery(at(1, 2), refused.accessId, sealKey(), refused.height), /refused \(CONSENT_NOT_FOUND\)/);
    const granted = await grantedAccess();
    await refusedWith(requestDelivery(at(0, 2), granted.accessId, sealKey(), granted.height), /another consumer/);
    await refusedWith(requestDelivery(at(3, 2), granted.accessId, sealKey(), granted.height), /another consumer/);
    const revoked = (await me.revokeConsent(granted.consentId)).height;
    await refusedWith(requestDelivery(at(1, 2), granted.accessId, sealKey(), revoked), /revoked/);
    await refusedWith(requestDelivery(at(1, 3), granted.accessId, sealKey(), revoked), /revoked/);
    await new Promise((r) => setTimeout(r, Math.max(0, 8100 - (Date.now() - lapsing.grantedAt))));
    await refusedWith(requestDelivery(at(1, 2), lapsing.accessId, sealKey()), /expired/);
    // A report under a refused access is refused by the consumer's own node before any provider is asked.
    await assert.rejects(buildReport(bank, refused.accessId), isCode('NOT_AUTHORIZED'));
    for (const e of errors) for (const secret of [RESIDENT_ID, CASE_NO, subject]) assert.ok(!e.includes(secret), `an error names ${secret.slice(0, 8)}…`);
  });

  it('a tampered delivery is detected by the consumer, its records are left out, and the subject sees it refused on chain', async () => {
    const { accessId } = await grantedAccess();
    const proxy = await tamperingProxy(url(2));
    try {
      const report = await buildReport(bank, accessId, { providers: { org3: proxy.url, org4: url(3) }, subject });
      assert.equal(report.complete, false);
      const court = report.providers.find((p) => p.provider === 'org3');
      assert.equal(court?.status, 'forged');
      assert.equal(court?.error?.code, 'FORGED_DELIVERY');
      assert.deepEqual(
        report.records.map((x) => x.id),
        [taxRecord],
      );
      assert.deepEqual(report.missing, [courtRecord]);
      assert.ok(proxy.tampered() > 0);
      // The consumer put the forged delivery on chain: the subject sees it as a refusal.
      const seen = await eventually(
        async () => {
          const mine = (await me.view()).deliveries.filter((d) => d.accessId === accessId && d.code === 'FORGED_DELIVERY');
          return mine.length > 0 ? mine : undefined;
        },
        at(1, 2),
      );
      assert.deepEqual(
        seen.map((d) => [d.provider, d.requester, d.outcome, d.reporter]),
        [['org3', 'org2', 'refused', 'org2']],
      );
    } finally {
      proxy.server.close();
    }
  });

  it('a provider whose chain is behind waits for the block that authorized the access instead of refusing it', async () => {
    await net.stop(3);
    const { accessId, height } = await grantedAccess({ categories: ['tax'] });
    // The orderer host is paused, so the restarted provider cannot have the authorizing block yet.
    const host = net.procs[0]?.child;
    host?.kill('SIGSTOP');
    try {
      await net.start(3);
      const info = await at(1, 3).info();
      assert.ok(info.height < height, `the provider is behind (${info.height} < ${height})`);
      const asked = requestDelivery(at(1, 3), accessId, sealKey(), height);
      await new Promise((r) => setTimeout(r, 300));
      host?.kill('SIGCONT');
      const d = await asked;
      assert.equal(d.provider, 'org4');
      assert.ok(typeof d.height === 'number' && d.height >= height);
    } finally {
      host?.kill('SIGCONT');
    }
  });

  it('every delivery outcome goes on chain where the subject sees it, and a restarted provider still refuses a replay', async () => {
    const { accessId, height } = await grantedAccess();
    const report = await buildReport(bank, accessId, { providers: { org3: url(2), org4: url(3) }, subject });
    assert.equal(report.complete, true);
    await net.stop(3);
    await net.start(3);
    await assert.rejects(requestDelivery(at(1, 3), accessId, sealKey(), height), isCode('ACCESS_REPLAYED'));
    // Outcomes are recorded in the background: wait (bounded) until all three are on chain.
    const outcomes = await eventually(
      async () => {
        const mine = (await me.view()).deliveries.filter((d) => d.accessId === accessId);
        return mine.length >= 3 ? mine : undefined;
      },
      at(1, 2),
    );
    assert.deepEqual(outcomes.map((d) => [d.provider, d.requester, d.outcome, d.code ?? d.records]).sort(), [
      ['org3', 'org2', 'delivered', 1],
      ['org4', 'org2', 'delivered', 1],
      ['org4', 'org2', 'refused', 'ACCESS_REPLAYED'],
    ]);
  });

  it('privacy: no raw ID number, record content or statement in chain files, logs or vault files', async () => {
    for (let i = 0; i < 4; i++) await net.stop(i);
    const files = filesUnder(join(net.dir, 'nodes'));
    assert.ok(files.some((f) => f.endsWith('chain.db')) && files.some((f) => f.endsWith('.log')) && files.some((f) => f.includes('vault')));
    for (const f of files) {
      const text = readFileSync(f).toString('latin1');
      for (const secret of [RESIDENT_ID, CASE_NO, OLD_CASE_NO, 'receipt #77-unique']) assert.ok(!text.includes(secret), `${f} holds ${secret.slice(0, 8)}…`);
    }
  });
});

/**
 * Poll `f` until it returns a value. Bounded by the chain's progress rather than the clock
 * alone: it gives up once `chain`'s node has committed no block for 15 s (on a loaded machine
 * the wait stretches while blocks still commit), and after 120 s in any case.
 */
async function eventually<T>(f: () => Promise<T | undefined>, chain: CredenceClient): Promise<T> {
  const start = Date.now();
  let height = -1;
  let movedAt = start;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    const h = (await chain.info()).height;
    if (h !== height) [height, movedAt] = [h, Date.now()];
    if (Date.now() - movedAt > 15_000 || Date.now() - start > 120_000) throw new Error(`condition not reached (chain at height ${height})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A client signing as organization `org`'s node key, talking to node `node`. */
function at(org: number, node: number): CredenceClient {
  return new Client({ url: url(node), suite, signer: loadSigner(suite, net.layout.nodes[org]?.keyFile as string) });
}

/** An HTTP proxy to a provider that flips one byte of every sealed delivery. */
async function tamperingProxy(target: string): Promise<{ server: Server; url: string; tampered: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-credence-') || k === 'content-type')) as Record<
        string,
        string
      >;
      const upstream = await fetch(`${target}${req.url}`, { method: req.method ?? 'GET', headers, body: Buffer.concat(chunks) });
      const body = (await upstream.json()) as { sealed?: string };
      if (typeof body.sealed === 'string') {
        const i = Math.floor(body.sealed.length / 2);
        body.sealed = body.sealed.slice(0, i) + (body.sealed[i] === '0' ? '1' : '0') + body.sealed.slice(i + 1);
        count++;
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`, tampered: () => count };
}
