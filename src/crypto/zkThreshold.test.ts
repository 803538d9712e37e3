// Threshold proofs: honest proofs verify for every score at or above the threshold (property),
// no proof exists below it or with overdue payments, and every tampered field, a different
// threshold or context, and a forged or re-bound credential fail with BAD_PROOF.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CredenceError, Codes } from '../util/errors.js';
import { type Credential, issueCredential, newIssuerKey, proveThreshold, type ThresholdProof, verifyThreshold } from './zkThreshold.js';

const issuer = newIssuerKey();
const isBad = (e: unknown) => e instanceof CredenceError && e.code === Codes.BAD_PROOF;

function issue(score: number, overdue = 0) {
  return issueCredential(issuer.privateKey, issuer.publicKeyHex, 'sme-91350100M000100Y', score, overdue, 1_000, 2_000);
}

describe('zero-knowledge threshold proofs', () => {
  it('verify for any score ≥ threshold, and cannot be made below it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (score, threshold) => {
        const { credential, secrets } = issue(score);
        const st = { credential, threshold, context: 'job-1' };
        if (score >= threshold) verifyThreshold(st, proveThreshold(st, secrets));
        else assert.throws(() => proveThreshold(st, secrets), isBad);
      }),
      { numRuns: 12 },
    );
  });

  it('no proof with overdue payments', () => {
    const { credential, secrets } = issue(800, 1);
    assert.throws(() => proveThreshold({ credential, threshold: 600, context: 'c' }, secrets), isBad);
  });

  it('a proof made from a lied-about score fails', () => {
    const { credential, secrets } = issue(500);
    const st = { credential, threshold: 600, context: 'c' };
    const p = proveThreshold(st, { ...secrets, score: 700 });
    assert.throws(() => verifyThreshold(st, p), isBad);
  });

  it('every tampered proof field, threshold, context or credential field fails', () => {
    const { credential, secrets } = issue(720);
    const st = { credential, threshold: 650, context: 'job-7' };
    const p = proveThreshold(st, secrets);
    verifyThreshold(st, p);
    const other = proveThreshold(st, secrets);
    for (const k of ['bits', 'a0', 'a1', 'e0', 'z0', 'z1'] as const) {
      const list = [...p[k]];
      list[3] = other[k][3] as string;
      assert.throws(() => verifyThreshold(st, { ...p, [k]: list } as ThresholdProof), isBad, k);
    }
    assert.throws(() => verifyThreshold(st, { ...p, overdueA: other.overdueA }), isBad);
    assert.throws(() => verifyThreshold(st, { ...p, overdueZ: other.overdueZ }), isBad);
    assert.throws(() => verifyThreshold(st, { ...p, bits: p.bits.slice(1) }), isBad);
    assert.throws(() => verifyThreshold(st, { ...p, overdueZ: 'ff'.repeat(32) }), isBad);
    assert.throws(() => verifyThreshold(st, { ...p, overdueA: 'ff'.repeat(32) }), isBad);
    assert.throws(() => verifyThreshold({ ...st, threshold: 600 }, p), isBad);
    assert.throws(() => verifyThreshold({ ...st, context: 'job-8' }, p), isBad);
    const forged: Credential = { ...credential, subject: 'sme-other' };
    assert.throws(() => verifyThreshold({ ...st, credential: forged }, p), isBad);
    const swapped: Credential = { ...credential, scoreCommitment: issue(990).credential.scoreCommitment };
    assert.throws(() => verifyThreshold({ ...st, credential: swapped }, p), isBad);
    assert.throws(() => verifyThreshold(st, p, 2_001), isBad);
  });
});
