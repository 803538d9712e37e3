// Worker for the benchmarks: pre-signs transactions so the load generator spends its CPU
// time on sending, not signing, while the clock runs.

import { parentPort, workerData } from 'node:worker_threads';
import { canonicalJsonBytes } from '../src/codec/canonicalJson.js';
import { signTx } from '../src/codec/tx.js';
import { getSuite } from '../src/crypto/suites.js';

export interface SignJob {
  suite: string;
  keyPems: string[];
  chainId: string;
  prefix: string;
  start: number;
  count: number;
  ttlMs: number;
}

async function main(job: SignJob): Promise<void> {
  const suite = getSuite(job.suite);
  const signers = job.keyPems.map((pem) => suite.signerFromPem(pem));
  const out: Uint8Array[] = [];
  const expiresAt = Date.now() + job.ttlMs;
  for (let i = job.start; i < job.start + job.count; i++) {
    const signer = signers[i % signers.length];
    if (signer === undefined) throw new Error('no signer');
    const unsigned = {
      chainId: job.chainId,
      signer: signer.publicKey,
      nonce: i,
      expiresAt,
      contract: 'kv',
      method: 'put',
      args: canonicalJsonBytes({ key: `${job.prefix}-${i}`, value: { n: i, note: 'benchmark record' } }),
    };
    out.push(await signTx((d) => suite.hash(d), signer, unsigned));
  }
  parentPort?.postMessage(
    out,
    out.map((b) => b.buffer as ArrayBuffer),
  );
}

if (parentPort !== null) void main(workerData as SignJob);
