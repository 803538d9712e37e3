// Provider side of the data space on a real node process: schemas registered by governance,
// `credence data import` of JSONL and CSV (good rows anchored, bad rows in the error report,
// no personal ID number echoed), the REST import, corrections and revocations as linked
// versions, a refused anchor leaving nothing half-written, and expiry (chain first, then
// the vault destroys the key).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NetworkNode } from '../src/cli/network.js';
import { registerSchemas } from '../src/cli/data.js';
import { decodeTx } from '../src/codec/tx.js';
import { getSuite } from '../src/crypto/suites.js';
import { anchorArgsJson, batchIdOf, recordIdAt } from '../src/contracts/recordBatch.js';
import { batchRoot, commit, newSalt } from '../src/dataspace/commitment.js';
import type { Record } from '../src/dataspace/record.js';
import { SqliteVault } from '../src/dataspace/vault.js';
import { fromHex, toHex } from '../src/util/bytes.js';
import { residentIdCheckChar, usccCheckChar } from '../src/dataspace/identifiers.js';
import type { CredenceClient } from '../src/sdk/client.js';
import { ProviderClient, anchoredRecords } from '../src/sdk/provider.js';
import { type TestNetwork, cli, startNetwork } from './helpers.js';

let net: TestNetwork;
let client: CredenceClient;
let provider: ProviderClient;

const uscc = (n: number) => {
  const first = `91110000${String(n).padStart(9, '0')}`;
  return first + usccCheckChar(first);
};
const resident = (n: number) => {
  const first = `11010519800101${String(n).padStart(3, '0')}`;
  return first + residentIdCheckChar(first);
};
const isoDaysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

async function chainRecord(id: string): Promise<{ status: string; version: number; supersedes?: string; expiresAt?: number }> {
  return await client.record(id);
}

before(async () => {
  net = await startNetwork({ orgs: 1 });
  client = net.client(0);
  provider = new ProviderClient(client);
  await registerSchemas(client, [], ['tax-credit-grade', 'court-judgment']);
});
after(async () => net?.close());

describe('data import', () => {
  it('CLI import of JSONL: good rows anchored, bad rows reported without personal data', async () => {
    const file = join(net.dir, 'grades.jsonl');
    const rows = [
      { uscc: uscc(1), ref: 'g-1', year: 2023, grade: 'A', points: 95, assessedBy: 'tax' },
      { residentId: resident(2), ref: 'g-2', year: 2023, grade: 'B', points: 80, assessedBy: 'tax' },
      { uscc: '91110000600037341K', ref: 'g-3', year: 2023, grade: 'A', assessedBy: 'tax' },
      { residentId: '110105194912310021', ref: 'g-4', year: 2023, grade: 'A', assessedBy: 'tax' },
      { uscc: uscc(5), ref: 'g-5', year: 2023, grade: 'E', assessedBy: 'tax' },
    ];
    writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n{not json\n`);
    const r = cli(['data', 'import', file, '--schema', 'tax-credit-grade', '--config', net.layout.nodes[0]?.config as string]);
    assert.equal(r.status, 1, r.stderr);
    const summary = JSON.parse(r.stdout) as { rows: number; anchored: number; errors: number; errorReport: string };
    assert.deepEqual({ rows: summary.rows, anchored: summary.anchored, errors: summary.errors }, { rows: 6, anchored: 2, errors: 4 });
    const report = readFileSync(summary.errorReport, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { row: number; code: string });
    assert.deepEqual(
      report.map((e) => [e.row, e.code]),
      [
        [3, 'INVALID_IDENTIFIER'],
        [4, 'INVALID_IDENTIFIER'],
        [5, 'SCHEMA_VIOLATION'],
        [6, 'MALFORMED'],
      ],
    );
    const out = r.stdout + r.stderr + readFileSync(summary.errorReport, 'utf8');
    for (const id of [resident(2), '110105194912310021']) assert.ok(!out.includes(id.slice(0, 14)));
    assert.deepEqual(await provider.vaultStats(), { live: 2, pending: 0, destroyed: 0, pendingBatches: 0 });
    // Re-importing the same rows publishes nothing twice.
    const again = cli(['data', 'import', file, '--schema', 'tax-credit-grade', '--config', net.layout.nodes[0]?.config as string]);
    assert.equal((JSON.parse(again.stdout) as { anchored: number }).anchored, 0);
  });

  it('REST import of CSV, then a correction and a revocation as linked versions', async () => {
    const csv = ['uscc,ref,year,grade,points,assessedBy', `${uscc(10)},c-1,2022,C,55,tax`, `${uscc(11)},c-2,2022,"D",30,"tax, district 3"`].join('\r\n');
    const first = await provider.importText('tax-credit-grade', 'csv', csv);
    assert.equal(first.anchored, 2, JSON.stringify(first.errors));
    const oldId = anchoredRecords(first)[0]?.id as string;
    const fix = await provider.importRows('tax-credit-grade', [
      { uscc: uscc(10), ref: 'c-1', action: 'correct', year: 2022, grade: 'B', points: 75, assessedBy: 'tax' },
    ]);
    assert.equal(fix.anchored, 1, JSON.stringify(fix.errors));
    const newId = anchoredRecords(fix)[0]?.id as string;
    assert.equal((await chainRecord(oldId)).status, 'superseded');
    assert.deepEqual([(await chainRecord(newId)).version, (await chainRecord(newId)).supersedes], [2, oldId]);
    const revoke = await provider.importRows('tax-credit-grade', [{ uscc: uscc(11), ref: 'c-2', action: 'revoke', reason: 'issued in error' }]);
    assert.equal(revoke.anchored, 1, JSON.stringify(revoke.errors));
    assert.equal((await chainRecord(anchoredRecords(first)[1]?.id as string)).status, 'revoked');
    const wrongSubject = await provider.importRows('tax-credit-grade', [
      { uscc: uscc(12), ref: 'c-1', action: 'correct', year: 2022, grade: 'B', assessedBy: 'tax' },
    ]);
    assert.equal(wrongSubject.errors[0]?.code, 'MALFORMED');
  });

  it('concurrent imports of the same row publish it once', async () => {
    const before = await provider.vaultStats();
    const row = { uscc: uscc(20), ref: 'race-1', year: 2021, grade: 'M', assessedBy: 'tax' };
    const [a, b] = await Promise.all([provider.importRows('tax-credit-grade', [row]), provider.importRows('tax-credit-grade', [row])]);
    assert.equal(a.anchored + b.anchored, 1);
    assert.deepEqual(
      [...a.errors, ...b.errors].map((e) => e.code),
      ['RECORD_EXISTS'],
    );
    assert.deepEqual(await provider.vaultStats(), { ...before, live: before.live + 1 });
  });

  it('after a crash between vault and chain, recovery finishes committed batches and drops refused ones', async () => {
    const suite = getSuite('default');
    const node = net.layout.nodes[0] as NetworkNode;
    const nodeDir = join(node.dataDir, '..');
    const vault = new SqliteVault({
      path: join(nodeDir, 'vault', 'vault.sqlite'),
      key: fromHex(readFileSync(join(nodeDir, 'vault.key'), 'utf8').trim()),
      suite,
    });
    const stage = async (ref: string, bad: boolean) => {
      const nonce = toHex(randomBytes(16));
      const batch = batchIdOf(suite.hash, node.orgId, nonce);
      const record: Record = {
        id: recordIdAt(batch, 0),
        schema: 'tax-credit-grade',
        subject: `E:${uscc(40)}`,
        provider: node.orgId,
        version: 1,
        data: { year: 2020, grade: 'A', assessedBy: 'tax' },
      };
      const salt = newSalt();
      const commitment = commit(suite, record, salt);
      const root = batchRoot(suite, [commitment]);
      // A bad batch: its subject runs do not cover its count, which the contract refuses.
      const args = anchorArgsJson({ schema: 'tax-credit-grade', nonce, root: toHex(root), count: bad ? 2 : 1, subjects: [[record.subject, 1]] });
      const tx = await client.signTx({ contract: 'records', method: 'anchor', args });
      const txId = decodeTx((d) => suite.hash(d), tx).idHex;
      // What the importer does before submitting: the node "crashed" right after this.
      vault.stageBatch({ id: batch, txId, tx, txExpiresAt: Date.now() + 600_000, root, items: [{ record, salt, commitment, ref }] });
      return record.id;
    };
    const good = await stage('crash-1', false);
    const bad = await stage('crash-2', true);
    assert.equal((await provider.vaultStats()).pendingBatches, 2);
    assert.deepEqual(await provider.recover(), { finished: 1, dropped: 1, waiting: 0 });
    assert.equal((await chainRecord(good)).status, 'active');
    await assert.rejects(client.record(bad), (e: { code?: string }) => e.code === 'NOT_FOUND');
    assert.deepEqual(vault.get(good)?.record.id, good);
    assert.equal(vault.get(bad), undefined);
    assert.equal((await provider.vaultStats()).pendingBatches, 0);
    vault.close();
  });

  it('expiry: the chain marks a negative record expired and the vault destroys its key; not before', async () => {
    const res = await provider.importRows('court-judgment', [
      {
        uscc: uscc(30),
        ref: 'j-old',
        caseNumber: '(2017)京0105民初1号',
        court: 'Chaoyang',
        judgmentDate: isoDaysAgo(6 * 366),
        causeOfAction: 'contract',
        performedOn: isoDaysAgo(5 * 366 + 2),
      },
      {
        uscc: uscc(31),
        ref: 'j-new',
        caseNumber: '(2023)京0105民初2号',
        court: 'Chaoyang',
        judgmentDate: isoDaysAgo(400),
        causeOfAction: 'contract',
        performedOn: isoDaysAgo(300),
      },
    ]);
    assert.equal(res.anchored, 2, JSON.stringify(res.errors));
    const [oldId, newId] = anchoredRecords(res).map((a) => a.id) as [string, string];
    // Sweeping "10 years from now" finds both due by the sweeper's clock; the chain agrees only on the old one.
    const sweep = await provider.sweepExpired(Date.now() + 10 * 366 * 86_400_000);
    assert.deepEqual(sweep.expired, [oldId]);
    assert.equal(sweep.notDue, 1);
    assert.equal((await chainRecord(oldId)).status, 'expired');
    assert.equal((await chainRecord(newId)).status, 'active');
    assert.equal((await provider.vaultStats()).destroyed, 1);
    const again = cli(['data', 'sweep', '--config', net.layout.nodes[0]?.config as string]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { expired: [], notDue: 0 });
  });

  it('provider routes refuse unknown schemas with a coded error', async () => {
    await assert.rejects(provider.importRows('no-such-schema', [{ uscc: uscc(1) }]), (e: { code?: string }) => e.code === 'UNKNOWN_SCHEMA');
  });
});
