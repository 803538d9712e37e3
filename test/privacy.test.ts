// Privacy computing between real node processes on loopback (5 organizations: org1 a bank,
// org2 a court, org2/org3 banks and org4/org5 aggregators for secure aggregation): PSI through the CLI and the API, checked against the plain intersection and
// committed on chain with the peer's attestation; the coded failures (missing dataset, replayed
// open, mismatched sizes, malformed frames, invalid group elements, a receiver that stops
// mid-protocol), each marking the job failed on chain; consents for personal data; and a
// zero-knowledge threshold proof issued, proved and verified by the compute contract via the CLI;
// secure aggregation with sealed shares and sums (plain sums through the CLI; dropouts, replays,
// a share sealed to the wrong key or tampered, an aggregator key signed by another org).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSigner } from '../src/crypto/keyfile.js';
import { getSuite } from '../src/crypto/suites.js';
import type { SignedSealKey } from '../src/node/aggregateJobs.js';
import { splitShares, vecFromAmounts } from '../src/privacy/aggregate.js';
import { aggregatorKeyDigest, sealShare } from '../src/privacy/aggregateSeal.js';
import { encodeFrame, toFrames } from '../src/privacy/psi.js';
import type { CredenceClient } from '../src/sdk/client.js';
import { toHex } from '../src/util/bytes.js';
import { CredenceError } from '../src/util/errors.js';
import { cliAsync, startNetwork, type TestNetwork } from './helpers.js';

process.env.CREDENCE_PRIVACY_IDLE_MS = '3000';

let net: TestNetwork;
let bank: CredenceClient;
let court: CredenceClient;
/** The bank's node key, talking to the court's node (as the bank's node does in a job). */
let toCourt: CredenceClient;

const applicants = Array.from({ length: 300 }, (_, i) => `91350100M${String(i).padStart(8, '0')}X`);
const debtors = [...applicants.filter((_, i) => i % 7 === 3), ...Array.from({ length: 200 }, (_, i) => `91110000D${String(i).padStart(8, '0')}Y`)];

interface Chain {
  status: string;
  participants: string[];
  sizes: Record<string, number>;
  resultHash?: string;
  attestations: { org: string }[];
  failure?: { code: string; by: string };
}
interface Status {
  local: { status: string; result?: { size: number; indices?: number[]; senderSize: number }; error?: { code: string } } | null;
  chain: Chain | null;
}

async function until<T>(f: () => Promise<T>, ok: (t: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await f();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const jobOf = (c: CredenceClient, id: string) => c.request<Status>('GET', `/v1/privacy/jobs/${id}`);
const chainJob = (c: CredenceClient, id: string) =>
  until(
    () => jobOf(c, id),
    (s) => s.chain !== null && s.chain.status !== 'registered',
    'the job on chain',
  );

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof CredenceError && e.code === code);
}

async function registerJob(receiverSize: number): Promise<string> {
  const jobId = randomBytes(32).toString('hex');
  const r = await bank.call({
    contract: 'compute',
    method: 'register',
    args: { jobId, protocol: 'psi', purpose: 'CREDIT_CHECK', participants: ['org1', 'org2'], sizes: { receiver: receiverSize } },
  });
  assert.equal(r.code, 'OK');
  return jobId;
}

const suite = getSuite('default');
/** The recipient's sealing key for the aggregation jobs the tests drive by hand. */
const recipientSeal = suite.generateSealingKey();
const openBody = () => ({ index: 0, banks: 2, items: 2, sealKey: toHex(recipientSeal.publicKey) });

async function registerAggregation(): Promise<string> {
  const jobId = randomBytes(32).toString('hex');
  const args = {
    jobId,
    protocol: 'aggregate',
    purpose: 'MULTI_LENDING',
    participants: ['org1', 'org2', 'org3', 'org4', 'org5'],
    sizes: { items: 2, banks: 2, aggregators: 2 },
  };
  assert.equal((await bank.call({ contract: 'compute', method: 'register', args })).code, 'OK');
  return jobId;
}

/** Opens aggregator org4's session (index 0) as the recipient org1; its signed sealing key. */
function openAggregator(jobId: string): Promise<SignedSealKey> {
  return net.client(3, net.layout.nodes[0]?.keyFile).request<SignedSealKey>('POST', `/v1/privacy/aggregate/${jobId}/open`, openBody());
}

describe('privacy computing between nodes', () => {
  before(async () => {
    net = await startNetwork({ orgs: 5 });
    bank = net.client(0);
    court = net.client(1);
    toCourt = net.client(1, net.layout.nodes[0]?.keyFile);
    const file = join(net.dir, 'applicants.txt');
    writeFileSync(file, applicants.join('\n'));
    // Small parts, so the CLI sends the file in several requests (whole lines each).
    const put = await cliAsync(['privacy', 'dataset', 'put', 'applicants', file, '--part-bytes', '1024', '--config', net.layout.nodes[0]?.config ?? '']);
    assert.equal(put.status, 0, put.stderr);
    const stored = JSON.parse(put.stdout) as { size: number; parts: number };
    assert.equal(stored.size, applicants.length);
    assert.ok(stored.parts >= 5, `sent in ${stored.parts} parts`);
    await court.request('PUT', '/v1/privacy/datasets/debtors', new Uint8Array(Buffer.from(debtors.join('\n'))));
  });
  after(() => net?.close());

  it('PSI through the CLI equals the plain intersection, committed on chain and attested by the peer', async () => {
    const node0 = net.layout.nodes[0];
    const node1 = net.layout.nodes[1];
    const r = await cliAsync([
      'privacy',
      'psi',
      '--config',
      node0?.config ?? '',
      '--dataset',
      'applicants',
      '--peer-url',
      node1?.url ?? '',
      '--peer-org',
      'org2',
      '--peer-dataset',
      'debtors',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Status & { jobId: string };
    const want = applicants.flatMap((a, i) => (debtors.includes(a) ? [i] : []));
    assert.deepEqual(out.local?.result?.indices, want);
    assert.equal(out.local?.result?.senderSize, debtors.length);
    const chain = (
      await until(
        () => jobOf(bank, out.jobId),
        (s) => (s.chain?.attestations.length ?? 0) === 1,
        'the attestation',
      )
    ).chain;
    assert.equal(chain?.status, 'done');
    assert.deepEqual(chain?.participants, ['org1', 'org2']);
    assert.deepEqual(chain?.sizes, { receiver: applicants.length, sender: debtors.length });
    assert.match(chain?.resultHash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(chain?.attestations[0]?.org, 'org2');
    // No identifier of either set is on chain.
    const state = JSON.stringify(chain);
    assert.ok(!applicants.some((a) => state.includes(a)));
  });

  it('a dataset sent in parts appears only with its last part; parts out of order are refused', async () => {
    const path = '/v1/privacy/datasets/parted';
    const put = (q: string, lines: string[]) => court.request('PUT', `${path}?${q}`, new Uint8Array(Buffer.from(lines.join('\n'))));
    await rejects(put('part=3&parts=3', ['x']), 'MALFORMED');
    await rejects(put('part=1&parts=3', ['x']), 'PRIVACY_BAD_MESSAGE');
    assert.deepEqual(await put('part=0&parts=3', ['a', 'b']), { name: 'parted', received: 1, parts: 3 });
    await rejects(put('part=2&parts=3', ['c']), 'PRIVACY_BAD_MESSAGE');
    assert.deepEqual(await put('part=1&parts=3', ['c', 'a']), { name: 'parted', received: 2, parts: 3 });
    // Not there yet: a PSI job naming it is refused.
    await rejects(
      court.request('POST', '/v1/privacy/psi', {
        dataset: 'parted',
        peerUrl: net.layout.nodes[0]?.url ?? '',
        peerOrg: 'org1',
        peerDataset: 'applicants',
        mode: 'size',
      }),
      'NOT_FOUND',
    );
    assert.deepEqual(await put('part=2&parts=3', ['d']), { name: 'parted', size: 4, parts: 3 });
  });

  it('size-only PSI through the API reveals only the count', async () => {
    const job = await bank.request<{ id: string }>('POST', '/v1/privacy/psi', {
      dataset: 'applicants',
      peerUrl: net.layout.nodes[1]?.url ?? '',
      peerOrg: 'org2',
      peerDataset: 'debtors',
      mode: 'size',
    });
    const s = await until(
      () => jobOf(bank, job.id),
      (x) => x.local?.status !== 'running',
      'the job',
    );
    assert.equal(s.local?.status, 'done');
    assert.equal(s.local?.result?.size, applicants.filter((a) => debtors.includes(a)).length);
    assert.equal(s.local?.result?.indices, undefined);
  });

  it('a missing peer dataset fails the job on chain with a coded error', async () => {
    const job = await bank.request<{ id: string }>('POST', '/v1/privacy/psi', {
      dataset: 'applicants',
      peerUrl: net.layout.nodes[1]?.url ?? '',
      peerOrg: 'org2',
      peerDataset: 'nope',
    });
    const s = await chainJob(bank, job.id);
    assert.equal(s.chain?.status, 'failed');
    assert.equal(s.chain?.failure?.code, 'NOT_FOUND');
    assert.equal(s.local?.error?.code, 'NOT_FOUND');
    assert.equal(s.local?.result, undefined);
  });

  it('refuses a replayed open and mismatched set sizes', async () => {
    const jobId = await registerJob(3);
    await rejects(
      toCourt.request('POST', `/v1/privacy/psi/${randomBytes(32).toString('hex')}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 3 }),
      'PRIVACY_JOB_STATE',
    );
    await rejects(toCourt.request('POST', `/v1/privacy/psi/${jobId}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 4 }), 'PRIVACY_SIZE_MISMATCH');
    await rejects(court.request('POST', `/v1/privacy/psi/${jobId}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 3 }), 'FORBIDDEN');
    await toCourt.request('POST', `/v1/privacy/psi/${jobId}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 3 });
    await rejects(toCourt.request('POST', `/v1/privacy/psi/${jobId}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 3 }), 'PRIVACY_REPLAYED');
    // A frame claiming a different total: the session is dropped and the job failed on chain.
    const job = Buffer.from(jobId, 'hex');
    const [frame] = toFrames(job, 'query', new Uint8Array(32 * 4));
    await rejects(toCourt.request('POST', `/v1/privacy/psi/${jobId}/frames`, encodeFrame(frame as NonNullable<typeof frame>)), 'PRIVACY_SIZE_MISMATCH');
    const s = await chainJob(bank, jobId);
    assert.equal(s.chain?.failure?.code, 'PRIVACY_SIZE_MISMATCH');
    assert.equal(s.chain?.failure?.by, 'org2');
    await rejects(toCourt.requestBytes('GET', `/v1/privacy/psi/${jobId}/frames/reply/0`), 'PRIVACY_JOB_STATE');
  });

  it('malformed and replayed frames are refused', async () => {
    const jobId = await registerJob(3);
    await toCourt.request('POST', `/v1/privacy/psi/${jobId}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 3 });
    const frames = toFrames(
      Buffer.from(jobId, 'hex'),
      'query',
      new Uint8Array(randomBytes(32 * 3)).map((b, i) => (i % 32 === 31 ? b & 0x3f : b)),
      2,
    );
    await toCourt.request('POST', `/v1/privacy/psi/${jobId}/frames`, encodeFrame(frames[0] as NonNullable<(typeof frames)[0]>));
    await rejects(toCourt.request('POST', `/v1/privacy/psi/${jobId}/frames`, encodeFrame(frames[0] as NonNullable<(typeof frames)[0]>)), 'PRIVACY_REPLAYED');
    const s = await chainJob(bank, jobId);
    assert.equal(s.chain?.failure?.code, 'PRIVACY_REPLAYED');
    const other = await registerJob(1);
    await toCourt.request('POST', `/v1/privacy/psi/${other}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 1 });
    await rejects(toCourt.request('POST', `/v1/privacy/psi/${other}/frames`, new Uint8Array(7)), 'PRIVACY_BAD_MESSAGE');
  });

  it('an invalid group element fails the job on chain with PRIVACY_BAD_POINT', async () => {
    const jobId = await registerJob(2);
    await toCourt.request('POST', `/v1/privacy/psi/${jobId}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 2 });
    const [frame] = toFrames(Buffer.from(jobId, 'hex'), 'query', new Uint8Array(64));
    await toCourt.request('POST', `/v1/privacy/psi/${jobId}/frames`, encodeFrame(frame as NonNullable<typeof frame>));
    const s = await chainJob(bank, jobId);
    assert.equal(s.chain?.failure?.code, 'PRIVACY_BAD_POINT');
    await rejects(toCourt.requestBytes('GET', `/v1/privacy/psi/${jobId}/frames/reply/0`), 'PRIVACY_JOB_STATE');
  });

  it('a receiver that stops mid-protocol: the peer drops the session and fails the job on chain', async () => {
    const jobId = await registerJob(5);
    await toCourt.request('POST', `/v1/privacy/psi/${jobId}/open`, { dataset: 'debtors', mode: 'set', receiverSize: 5 });
    const s = await chainJob(bank, jobId);
    assert.equal(s.chain?.failure?.code, 'PRIVACY_PARTY_DROPPED');
  });

  it('a peer that is down: the job fails on chain with UNAVAILABLE', async () => {
    const job = await bank.request<{ id: string }>('POST', '/v1/privacy/psi', {
      dataset: 'applicants',
      peerUrl: 'http://127.0.0.1:9',
      peerOrg: 'org2',
      peerDataset: 'debtors',
    });
    const s = await chainJob(bank, job.id);
    assert.equal(s.chain?.failure?.code, 'UNAVAILABLE');
  });

  it('a job on personal data needs valid consents', async () => {
    const args = {
      jobId: randomBytes(32).toString('hex'),
      protocol: 'psi',
      purpose: 'CREDIT_CHECK',
      participants: ['org1', 'org2'],
      sizes: { receiver: 1 },
      personal: true,
      categories: ['court-judgment'],
    };
    assert.equal((await bank.call({ contract: 'compute', method: 'register', args })).code, 'CONSENT_REQUIRED');
    assert.equal((await bank.call({ contract: 'compute', method: 'register', args: { ...args, consents: ['ab'.repeat(16)] } })).code, 'CONSENT_NOT_FOUND');
  });

  it('zero-knowledge threshold proof: issue, register, prove and verify on chain via the CLI; a tampered proof fails', async () => {
    const node0 = net.layout.nodes[0];
    const cfg = node0?.config ?? '';
    const f = (n: string) => join(net.dir, n);
    const issue = await cliAsync([
      'privacy',
      'zk',
      'issue',
      '--key',
      node0?.keyFile ?? '',
      '--subject',
      'E:91350100M000100Y',
      '--score',
      '720',
      '--overdue',
      '0',
      '--credential',
      f('cred.json'),
      '--secrets',
      f('secrets.json'),
    ]);
    assert.equal(issue.status, 0, issue.stderr);
    const job = JSON.parse((await cliAsync(['privacy', 'zk', 'job', '--config', cfg, '--threshold', '650'])).stdout) as { jobId: string };
    const prove = await cliAsync([
      'privacy',
      'zk',
      'prove',
      '--credential',
      f('cred.json'),
      '--secrets',
      f('secrets.json'),
      '--job',
      job.jobId,
      '--threshold',
      '650',
      '--out',
      f('proof.json'),
    ]);
    assert.equal(prove.status, 0, prove.stderr);
    const proofText = readFileSync(f('proof.json'), 'utf8');
    assert.ok(!/"(score|scoreBlind|overdue|overdueBlind)"/.test(proofText));
    const ok = await cliAsync(['privacy', 'zk', 'verify', '--config', cfg, '--job', job.jobId, '--proof', f('proof.json')]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((await jobOf(bank, job.jobId)).chain?.status, 'done');
    // Tampered: the same proof with a lower threshold claimed, for a new job.
    const job2 = JSON.parse((await cliAsync(['privacy', 'zk', 'job', '--config', cfg, '--threshold', '650'])).stdout) as { jobId: string };
    const p = JSON.parse(proofText) as { statement: { context: string } };
    p.statement.context = job2.jobId;
    writeFileSync(f('bad.json'), JSON.stringify(p));
    const bad = await cliAsync(['privacy', 'zk', 'verify', '--config', cfg, '--job', job2.jobId, '--proof', f('bad.json')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /PRIVACY_BAD_PROOF/);
    assert.equal((await jobOf(bank, job2.jobId)).chain?.status, 'failed');
  });

  it('secure aggregation through the CLI: totals equal the plain sums, committed on chain', async () => {
    const smes = Array.from({ length: 50 }, (_, i) => `91350100A${String(i).padStart(8, '0')}Z`);
    const book2 = smes.filter((_, i) => i % 2 === 0).map((c, i) => `${c},${1000 + i}`);
    const book3 = smes.filter((_, i) => i % 3 === 0).map((c, i) => `${c},${7_000_000 + i}`);
    await net.client(1).request('PUT', '/v1/privacy/datasets/loans', new Uint8Array(Buffer.from(book2.join('\n'))));
    await net.client(2).request('PUT', '/v1/privacy/datasets/loans', new Uint8Array(Buffer.from(book3.join('\n'))));
    await bank.request('PUT', '/v1/privacy/datasets/smes', new Uint8Array(Buffer.from(smes.join('\n'))));
    const n = net.layout.nodes;
    const r = await cliAsync([
      'privacy',
      'aggregate',
      '--config',
      n[0]?.config ?? '',
      '--dataset',
      'smes',
      '--bank',
      `org2=${n[1]?.url}=loans`,
      '--bank',
      `org3=${n[2]?.url}=loans`,
      '--aggregator',
      `org4=${n[3]?.url}`,
      '--aggregator',
      `org5=${n[4]?.url}`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { jobId: string; local: { result: { totals: Record<string, number> } }; chain: Chain };
    const want: Record<string, number> = Object.fromEntries(smes.map((c) => [c, 0]));
    for (const row of [...book2, ...book3]) {
      const [c, a] = row.split(',');
      want[c as string] = (want[c as string] ?? 0) + Number(a);
    }
    assert.deepEqual(out.local.result.totals, want);
    const chain = (
      await until(
        () => jobOf(bank, out.jobId),
        (x) => x.chain?.status === 'done',
        'the job on chain',
      )
    ).chain;
    assert.deepEqual(chain?.participants, ['org1', 'org2', 'org3', 'org4', 'org5']);
    assert.deepEqual(chain?.sizes, { items: 50, banks: 2, aggregators: 2 });
  });

  it('secure aggregation: a bank that does not contribute makes the aggregator refuse (PARTY_DROPPED), as does a recipient that never collects; a bank that is down fails the job', async () => {
    const jobId = await registerAggregation();
    const toAgg = net.client(3, net.layout.nodes[0]?.keyFile);
    const opened = await openAggregator(jobId);
    await rejects(toAgg.request('POST', `/v1/privacy/aggregate/${jobId}/open`, openBody()), 'PRIVACY_REPLAYED');
    const fromBank2 = net.client(3, net.layout.nodes[1]?.keyFile);
    const [share] = splitShares(vecFromAmounts([5, 6]), 2);
    const sealTo = (key: string, bank: number) =>
      sealShare(suite, Buffer.from(key, 'hex'), { job: Buffer.from(jobId, 'hex'), bank, aggregator: 0, share: share as Uint32Array });
    const msg = sealTo(opened.sealKey, 0);
    await fromBank2.request('POST', `/v1/privacy/aggregate/${jobId}/shares`, msg);
    await rejects(fromBank2.request('POST', `/v1/privacy/aggregate/${jobId}/shares`, msg), 'PRIVACY_REPLAYED');
    await rejects(fromBank2.request('POST', `/v1/privacy/aggregate/${jobId}/shares`, sealTo(opened.sealKey, 1)), 'FORBIDDEN');
    // A second job whose recipient never asks for the sum: the aggregator fails it on its own.
    const abandoned = await registerAggregation();
    await openAggregator(abandoned);
    await rejects(toAgg.requestBytes('GET', `/v1/privacy/aggregate/${jobId}/sum`), 'PRIVACY_PARTY_DROPPED');
    assert.equal((await chainJob(bank, jobId)).chain?.failure?.code, 'PRIVACY_PARTY_DROPPED');
    const dropped = (await chainJob(bank, abandoned)).chain;
    assert.deepEqual([dropped?.failure?.code, dropped?.failure?.by], ['PRIVACY_PARTY_DROPPED', 'org4']);
    await rejects(toAgg.requestBytes('GET', `/v1/privacy/aggregate/${abandoned}/sum`), 'PRIVACY_JOB_STATE');
    const n = net.layout.nodes;
    const job = await bank.request<{ id: string }>('POST', '/v1/privacy/aggregate', {
      dataset: 'smes',
      banks: [
        { org: 'org2', url: n[1]?.url ?? '', dataset: 'loans' },
        { org: 'org3', url: 'http://127.0.0.1:9', dataset: 'loans' },
      ],
      aggregators: [
        { org: 'org4', url: n[3]?.url ?? '' },
        { org: 'org5', url: n[4]?.url ?? '' },
      ],
    });
    const s = await chainJob(bank, job.id);
    assert.equal(s.chain?.failure?.code, 'UNAVAILABLE');
    assert.equal(s.local?.result, undefined);
  });

  it('secure aggregation, sealed: a share sealed to another key or tampered fails the job (PRIVACY_BAD_MESSAGE); a bank refuses an aggregator key signed by another org', async () => {
    const fromBank2 = net.client(3, net.layout.nodes[1]?.keyFile);
    const [share] = splitShares(vecFromAmounts([5, 6]), 2);
    const shareFor = (jobId: string, key: Uint8Array) =>
      sealShare(suite, key, { job: Buffer.from(jobId, 'hex'), bank: 0, aggregator: 0, share: share as Uint32Array });
    const wrongKey = await registerAggregation();
    // A recipient key that is no usable X25519 key is refused when the session opens, not later.
    const toAgg = net.client(3, net.layout.nodes[0]?.keyFile);
    await rejects(toAgg.request('POST', `/v1/privacy/aggregate/${wrongKey}/open`, { ...openBody(), sealKey: '00'.repeat(32) }), 'BAD_KEY');
    const opened = await openAggregator(wrongKey);
    await rejects(
      fromBank2.request('POST', `/v1/privacy/aggregate/${wrongKey}/shares`, shareFor(wrongKey, suite.generateSealingKey().publicKey)),
      'PRIVACY_BAD_MESSAGE',
    );
    assert.equal((await chainJob(bank, wrongKey)).chain?.failure?.code, 'PRIVACY_BAD_MESSAGE');
    // The session has ended and its key is gone: even a well-sealed share is refused now.
    const good = shareFor(wrongKey, Buffer.from(opened.sealKey, 'hex'));
    await rejects(fromBank2.request('POST', `/v1/privacy/aggregate/${wrongKey}/shares`, good), 'PRIVACY_JOB_STATE');

    const tampered = await registerAggregation();
    const msg = shareFor(tampered, Buffer.from((await openAggregator(tampered)).sealKey, 'hex'));
    msg[msg.length - 20] = (msg[msg.length - 20] as number) ^ 0x01;
    await rejects(fromBank2.request('POST', `/v1/privacy/aggregate/${tampered}/shares`, msg), 'PRIVACY_BAD_MESSAGE');
    const failed = (await chainJob(bank, tampered)).chain;
    assert.deepEqual([failed?.failure?.code, failed?.failure?.by], ['PRIVACY_BAD_MESSAGE', 'org4']);

    // A recipient relaying, for aggregator org5, a key signed by org4's node key: the bank refuses and fails the job.
    const forgedSlot = await registerAggregation();
    const key0 = await openAggregator(forgedSlot);
    const org4 = loadSigner(suite, net.layout.nodes[3]?.keyFile ?? '');
    const fake = suite.generateSealingKey().publicKey;
    const n = net.layout.nodes;
    const toBank2 = net.client(1, n[0]?.keyFile);
    await rejects(
      toBank2.request('POST', `/v1/privacy/aggregate/${forgedSlot}/contribute`, {
        bank: 0,
        dataset: 'loans',
        items: ['a', 'b'],
        aggregators: [
          { url: n[3]?.url ?? '', index: 0, ...key0 },
          {
            url: n[4]?.url ?? '',
            index: 1,
            sealKey: toHex(fake),
            signer: toHex(org4.publicKey),
            signature: toHex(await org4.sign(aggregatorKeyDigest(suite, forgedSlot, 1, fake))),
          },
        ],
      }),
      'BAD_SIGNATURE',
    );
    const refused = (await chainJob(bank, forgedSlot)).chain;
    assert.deepEqual([refused?.failure?.code, refused?.failure?.by], ['BAD_SIGNATURE', 'org2']);
  });

  it('private scorecard evaluation through the API: the score equals the plain dot product; errors are coded', async () => {
    await court.request('PUT', '/v1/privacy/datasets/features', new Uint8Array(Buffer.from('E1,3,0,12000\nE2,1,5,-400')));
    const scorecard = { weights: [-25, 40, 3], bias: 600 };
    const start = (subject: string) =>
      bank.request<{ id: string }>('POST', '/v1/privacy/model', {
        scorecard,
        subject,
        peerUrl: net.layout.nodes[1]?.url ?? '',
        peerOrg: 'org2',
        peerDataset: 'features',
      });
    const job = await start('E2');
    const s = await until(
      () => jobOf(bank, job.id),
      (x) => x.local?.status !== 'running',
      'the model job',
    );
    assert.deepEqual(s.local?.result, { score: String(600 - 25 * 1 + 40 * 5 + 3 * -400) });
    assert.equal((await chainJob(bank, job.id)).chain?.status, 'done');
    const missing = await start('E9');
    assert.equal((await chainJob(bank, missing.id)).chain?.failure?.code, 'NOT_FOUND');
    const toProvider = net.client(1, net.layout.nodes[0]?.keyFile);
    await rejects(
      toProvider.request('POST', `/v1/privacy/model/${job.id}/evaluate`, { subject: 'E1', dataset: 'features', model: { n: '1', weights: [], bias: '1' } }),
      'PRIVACY_REPLAYED',
    );
  });
});
