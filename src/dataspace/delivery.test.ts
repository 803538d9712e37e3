// Delivery checks on in-memory chain state: the provider delivers only what an authorized
// access covers; the consumer detects tampered records, wrong signers and wrong keys.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { COURT_SCHEMA, ContractSim, anchorRecords, newSigner } from '../../test/contractSim.js';
import { hex, isCode } from '../../test/fixtures.js';
import type { JsonValue } from '../codec/canonicalJson.js';
import { Domains, signStatement } from '../contracts/dataspaceState.js';
import { batchIdOf, recordIdAt } from '../contracts/recordBatch.js';
import { getSuite } from '../crypto/suites.js';
import { batchRoot, commit, inclusionProof, newSalt } from './commitment.js';
import { type DeliveryItem, authorizedRecords, openDelivery, sealDelivery } from './delivery.js';
import type { Record } from './record.js';

const suite = getSuite('default');
const SUBJECT = 'E:91350100M000100Y43';

async function setup() {
  const [ra, bank, court, subjectKey] = [newSigner(suite), newSigner(suite), newSigner(suite), newSigner(suite)];
  const sim = new ContractSim(suite, [
    { id: 'ra', roles: ['member', 'registrar'], keys: [ra] },
    { id: 'bank', roles: ['member'], keys: [bank] },
    { id: 'court', roles: ['member'], keys: [court] },
  ]);
  await sim.call(ra, 'gov', 'propose', { kind: 'registerSchema', schema: COURT_SCHEMA });
  await sim.call(bank, 'gov', 'vote', { proposalId: 1, approve: true });
  await sim.call(ra, 'identity', 'register', { subject: SUBJECT, publicKey: hex(subjectKey.publicKey) });
  const nonce = hex(randomBytes(16));
  const batch = batchIdOf(suite.hash, 'court', nonce);
  const records: Record[] = [1, 2].map((n, i) => ({
    id: recordIdAt(batch, i),
    schema: COURT_SCHEMA.id,
    subject: SUBJECT,
    provider: 'court',
    version: 1,
    data: { caseNo: `case-${n}`, amount: 1000 * n },
    conductEnd: '2024-05-01',
  }));
  const salts = records.map(() => newSalt());
  const commitments = records.map((r, i) => commit(suite, r, salts[i] as Uint8Array));
  const items = commitments.map((commitment) => ({ subject: SUBJECT, conductEnd: '2024-05-01', commitment }));
  const anchored = await anchorRecords(sim, court, 'court', COURT_SCHEMA.id, items, nonce);
  assert.equal(anchored.r.code, 'OK');
  assert.equal(anchored.root, hex(batchRoot(suite, commitments)));
  const consentId = hex(randomBytes(16));
  const statement = { id: consentId, subject: SUBJECT, consumer: 'bank', categories: ['court'], purpose: 'LOAN_APPROVAL', expiresAt: sim.time + 86_400_000 };
  await sim.call(bank, 'consents', 'grant', (await signStatement(suite, subjectKey, 'credence-test', Domains.consentGrant, statement)) as unknown as JsonValue);
  const ask = { subject: SUBJECT, consentId, categories: ['court'], purpose: 'LOAN_APPROVAL' };
  const accessId = ((await sim.call(bank, 'access', 'request', ask)).value as { accessId: string }).accessId;
  const deliveryItems: DeliveryItem[] = records.map((record, i) => {
    const p = inclusionProof(suite, commitments, i);
    return { record, salt: hex(salts[i] as Uint8Array), proof: { index: p.index, size: p.size, path: p.path.map(hex) } };
  });
  const sealKey = suite.generateSealingKey();
  return { sim, court, bank, accessId, deliveryItems, sealKey };
}

describe('delivery', () => {
  it('delivers exactly the authorized records; the consumer verifies them against their anchors', async () => {
    const { sim, court, accessId, deliveryItems, sealKey } = await setup();
    const at = { accessId, provider: 'court', consumer: 'bank', now: sim.time, height: sim.height };
    assert.equal(authorizedRecords(sim.read, at).records.length, 2);
    assert.throws(() => authorizedRecords(sim.read, { ...at, consumer: 'ra' }), isCode('NOT_AUTHORIZED'));
    assert.throws(() => authorizedRecords(sim.read, { ...at, accessId: hex(randomBytes(32)) }), isCode('NOT_AUTHORIZED'));
    assert.throws(() => authorizedRecords(sim.read, { ...at, now: sim.time + 2 * 3_600_000 }), isCode('NOT_AUTHORIZED'));
    const d = await sealDelivery(suite, court, { accessId, provider: 'court', consumerSealKey: sealKey.publicKey, items: deliveryItems });
    const opened = openDelivery(suite, sim.read, sealKey.privateKeyPem, d);
    assert.deepEqual(
      opened.map((o) => o.record.data),
      deliveryItems.map((i) => i.record.data),
    );
  });

  it('detects a tampered record, a forged signer and the wrong sealing key', async () => {
    const { sim, court, bank, accessId, deliveryItems, sealKey } = await setup();
    const first = deliveryItems[0] as DeliveryItem;
    const tampered = [{ ...first, record: { ...first.record, data: { caseNo: 'case-1', amount: 1 } } }];
    const bad = await sealDelivery(suite, court, { accessId, provider: 'court', consumerSealKey: sealKey.publicKey, items: tampered });
    assert.throws(() => openDelivery(suite, sim.read, sealKey.privateKeyPem, bad), isCode('FORGED_DELIVERY'));
    const byBank = await sealDelivery(suite, bank, { accessId, provider: 'court', consumerSealKey: sealKey.publicKey, items: deliveryItems });
    assert.throws(() => openDelivery(suite, sim.read, sealKey.privateKeyPem, byBank), isCode('FORGED_DELIVERY'));
    const good = await sealDelivery(suite, court, { accessId, provider: 'court', consumerSealKey: sealKey.publicKey, items: deliveryItems });
    assert.throws(() => openDelivery(suite, sim.read, suite.generateSealingKey().privateKeyPem, good), isCode('FORGED_DELIVERY'));
    const flipped = { ...good, sealed: good.sealed.slice(0, -2) + (good.sealed.endsWith('00') ? '01' : '00') };
    assert.throws(() => openDelivery(suite, sim.read, sealKey.privateKeyPem, flipped), isCode('FORGED_DELIVERY'));
  });

  it('a record proven at another place of its batch, or in a tree of another size, is forged', async () => {
    const { sim, court, accessId, deliveryItems, sealKey } = await setup();
    const [first, second] = deliveryItems as [DeliveryItem, DeliveryItem];
    const open = async (items: DeliveryItem[]) =>
      openDelivery(
        suite,
        sim.read,
        sealKey.privateKeyPem,
        await sealDelivery(suite, court, { accessId, provider: 'court', consumerSealKey: sealKey.publicKey, items }),
      );
    // The first record, claiming the second one's id: its commitment is not at that place.
    await assert.rejects(open([{ ...first, record: { ...first.record, id: second.record.id }, proof: second.proof }]), isCode('FORGED_DELIVERY'));
    await assert.rejects(open([{ ...first, proof: { ...first.proof, size: 1, path: [] } }]), isCode('FORGED_DELIVERY'));
    assert.equal((await open([first])).length, 1);
  });
});
