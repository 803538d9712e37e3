// `credence bench zk`: issue a credential, prove "score ≥ T and overdue = 0", verify it; median
// of several runs after a warm-up, single thread.

import { cpus } from 'node:os';
import { issueCredential, newIssuerKey, proveThreshold, verifyThreshold } from '../src/crypto/zkThreshold.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export function runZkBench(runs: number): Record<string, unknown> {
  const issuer = newIssuerKey();
  const { credential, secrets } = issueCredential(issuer.privateKey, issuer.publicKeyHex, 'sme-bench', 742, 0, 0, 1e15);
  const st = { credential, threshold: 650, context: 'bench' };
  const prove: number[] = [];
  const verify: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    const proof = proveThreshold(st, secrets);
    const t1 = performance.now();
    verifyThreshold(st, proof);
    const t2 = performance.now();
    if (i >= 2) {
      prove.push(t1 - t0);
      verify.push(t2 - t1);
    }
  }
  const proofBytes = JSON.stringify(proveThreshold(st, secrets)).length;
  return {
    bench: 'zk',
    proveMs: Math.round(median(prove) * 10) / 10,
    verifyMs: Math.round(median(verify) * 10) / 10,
    runs,
    proofBytes,
    rangeBits: 10,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
}
