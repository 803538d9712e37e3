// Sealed shares and partial sums (both suites): they open only with their own key, in their own
// job, bank and aggregator slot; a tampered byte or a moved share is PRIVACY_BAD_MESSAGE; the
// aggregator-key digest binds job, slot and key.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { getSuite } from '../crypto/suites.js';
import { bytesEqual } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { Aggregator, addInto, splitShares, vecFromAmounts } from './aggregate.js';
import { aggregatorKeyDigest, discardSealingKey, openShare, openSum, sealedShareHeader, sealShare, sealSum } from './aggregateSeal.js';
import { PrivacyCodes } from './codes.js';

const badMessage = (e: unknown) => e instanceof CredenceError && e.code === PrivacyCodes.BAD_MESSAGE;
const job = new Uint8Array(randomBytes(32));

for (const name of ['default', 'gm'] as const) {
  const suite = getSuite(name);
  describe(`sealed aggregation messages (${name} suite)`, () => {
    const aggKeys = [suite.generateSealingKey(), suite.generateSealingKey()];
    const recipient = suite.generateSealingKey();
    const shares = splitShares(vecFromAmounts([5, 0, 2 ** 52]), 2);
    const sealed = shares.map((share, j) => sealShare(suite, aggKeys[j]?.publicKey as Uint8Array, { job, bank: 1, aggregator: j, share }));

    it('a share opens with its aggregator key, and the sums add up through sealed partial sums', () => {
      const partials = sealed.map((b, j) => {
        const m = openShare(suite, aggKeys[j]?.privateKeyPem ?? '', b);
        assert.deepEqual(sealedShareHeader(b), { job, bank: 1, aggregator: j, count: 3 });
        const agg = new Aggregator(job, j, 2, 3);
        agg.accept(m);
        agg.accept({ job, bank: 0, aggregator: j, share: new Uint32Array(6) });
        return openSum(suite, recipient.privateKeyPem, job, j, 3, sealSum(suite, recipient.publicKey, job, j, agg.result()));
      });
      const total = new Uint32Array(6);
      for (const p of partials) addInto(total, p);
      assert.ok(bytesEqual(new Uint8Array(total.buffer), new Uint8Array(vecFromAmounts([5, 0, 2 ** 52]).buffer)));
    });

    it('a share sealed to another key, moved to another slot or tampered does not open', () => {
      const first = sealed[0] as Uint8Array;
      assert.throws(() => openShare(suite, aggKeys[1]?.privateKeyPem ?? '', first), badMessage);
      for (const at of [4, 37, 38, 42, 43, 60, first.byteLength - 1]) {
        const t = first.slice();
        t[at] = (t[at] as number) ^ 1;
        assert.throws(() => openShare(suite, aggKeys[0]?.privateKeyPem ?? '', t), badMessage, `byte ${at}`);
      }
      assert.throws(() => openShare(suite, aggKeys[0]?.privateKeyPem ?? '', first.subarray(0, 40)), badMessage);
    });

    it('a partial sum opens only for its job and aggregator slot, with the recipient key', () => {
      const sum = sealSum(suite, recipient.publicKey, job, 0, new Uint32Array(4));
      assert.equal(openSum(suite, recipient.privateKeyPem, job, 0, 2, sum).length, 4);
      assert.throws(() => openSum(suite, recipient.privateKeyPem, job, 1, 2, sum), badMessage);
      assert.throws(() => openSum(suite, recipient.privateKeyPem, new Uint8Array(32), 0, 2, sum), badMessage);
      assert.throws(() => openSum(suite, recipient.privateKeyPem, job, 0, 3, sum), badMessage);
      assert.throws(() => openSum(suite, aggKeys[0]?.privateKeyPem ?? '', job, 0, 2, sum), badMessage);
    });

    it('a discarded key still opens from its PEM (the suite only forgets its cached key object)', () => {
      const k = suite.generateSealingKey();
      discardSealingKey(suite, k.privateKeyPem);
      const m = openShare(suite, k.privateKeyPem, sealShare(suite, k.publicKey, { job, bank: 0, aggregator: 0, share: new Uint32Array(2) }));
      assert.equal(m.share.length, 2);
    });

    it('the aggregator-key digest binds the job, the slot and the key', () => {
      const k = aggKeys[0]?.publicKey as Uint8Array;
      const d = aggregatorKeyDigest(suite, 'ab'.repeat(32), 0, k);
      assert.ok(!bytesEqual(d, aggregatorKeyDigest(suite, 'ac'.repeat(32), 0, k)));
      assert.ok(!bytesEqual(d, aggregatorKeyDigest(suite, 'ab'.repeat(32), 1, k)));
      assert.ok(!bytesEqual(d, aggregatorKeyDigest(suite, 'ab'.repeat(32), 0, aggKeys[1]?.publicKey as Uint8Array)));
    });
  });
}
