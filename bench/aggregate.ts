// `credence bench aggregate`: N banks × K SMEs, A aggregators, each aggregator an HTTP server
// on loopback. As between nodes (src/node/aggregateJobs.ts), the recipient and each aggregator
// make a fresh sealing key pair for the job, each aggregator signs its public key (Ed25519) and
// each bank checks every signature; banks split their amounts into shares, seal each share to
// its aggregator (HPKE, src/privacy/aggregateSeal.ts) and POST it; aggregators open and add; the
// recipient GETs every partial sum, sealed to its key, opens and combines them. Checked against
// the plain sum. `seconds` runs from the key generation to the combined totals (the faster of
// two jobs). The reference, in the same run on the same data: the protocol without sealing
// (`unsealedSeconds`, also the faster of two, alternating with the sealed jobs).

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { getSuite } from '../src/crypto/suites.js';
import { Aggregator, combine, decodeShare, encodeShare, type ShareMessage, splitShares, type Vec64, vecFromAmounts } from '../src/privacy/aggregate.js';
import { aggregatorKeyDigest, openShare, openSum, sealShare, sealSum } from '../src/privacy/aggregateSeal.js';
import { toHex } from '../src/util/bytes.js';

export interface AggregateBenchOptions {
  readonly banks: number;
  readonly items: number;
  readonly aggregators: number;
}

/** How shares and partial sums travel: sealed (the protocol) or in the clear (the reference). */
interface Wire {
  share(m: ShareMessage): Uint8Array;
  openShare(aggregator: number, b: Uint8Array): ShareMessage;
  sum(aggregator: number, v: Vec64): Uint8Array;
  openSum(aggregator: number, b: Uint8Array): Vec64;
}

const suite = getSuite('default');

function clearWire(items: number): Wire {
  return {
    share: encodeShare,
    openShare: (_, b) => decodeShare(b),
    sum: (_, v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
    openSum: (_, b) => new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + 8 * items)),
  };
}

/** The job's keys as the nodes make them; every bank checks every aggregator's signed key. */
async function sealedWire(job: Uint8Array, o: AggregateBenchOptions): Promise<Wire> {
  const jobId = toHex(job);
  const recipient = suite.generateSealingKey();
  const aggs = await Promise.all(
    Array.from({ length: o.aggregators }, async (_, j) => {
      const node = suite.signerFromPem(suite.generateSigningKey().privateKeyPem);
      const key = suite.generateSealingKey();
      return { key, signer: node.publicKey, signature: await node.sign(aggregatorKeyDigest(suite, jobId, j, key.publicKey)) };
    }),
  );
  for (let bank = 0; bank < o.banks; bank++) {
    aggs.forEach((a, j) => {
      if (!suite.verify(a.signer, aggregatorKeyDigest(suite, jobId, j, a.key.publicKey), a.signature)) throw new Error(`bad key signature for aggregator ${j}`);
    });
  }
  const keyOf = (j: number) => aggs[j]?.key ?? recipient;
  return {
    share: (m) => sealShare(suite, keyOf(m.aggregator).publicKey, m),
    openShare: (j, b) => openShare(suite, keyOf(j).privateKeyPem, b),
    sum: (j, v) => sealSum(suite, recipient.publicKey, job, j, v),
    openSum: (j, b) => openSum(suite, recipient.privateKeyPem, job, j, o.items, b),
  };
}

async function readBody(req: import('node:http').IncomingMessage): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

function serve(session: { agg?: Aggregator; wire?: Wire }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const fail = (e: unknown) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: (e as { code?: string }).code ?? 'INTERNAL' }));
    };
    const { agg, wire } = session;
    if (agg === undefined || wire === undefined) return fail(new Error('no session'));
    if (req.method === 'POST') {
      readBody(req)
        .then((b) => {
          agg.accept(wire.openShare(agg.index, b));
          res.writeHead(204).end();
        })
        .catch(fail);
      return;
    }
    try {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wire.sum(agg.index, agg.result()));
    } catch (e) {
      fail(e);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

/** One job over the servers: seconds from the key set-up to the checked totals. */
async function runJob(
  o: AggregateBenchOptions,
  books: number[][],
  servers: { url: string; session: { agg?: Aggregator; wire?: Wire } }[],
  sealed: boolean,
): Promise<number> {
  const job = new Uint8Array(randomBytes(32));
  const t0 = performance.now();
  const wire = sealed ? await sealedWire(job, o) : clearWire(o.items);
  servers.forEach((s, j) => {
    s.session.agg = new Aggregator(job, j, o.banks, o.items);
    s.session.wire = wire;
  });
  await Promise.all(
    books.map(async (amounts, bank) => {
      const shares = splitShares(vecFromAmounts(amounts), o.aggregators);
      await Promise.all(
        shares.map(async (share, j) => {
          const res = await fetch(`${servers[j]?.url}/shares`, {
            method: 'POST',
            body: wire.share({ job, bank, aggregator: j, share }),
            headers: { 'content-type': 'application/octet-stream' },
          });
          if (res.status !== 204) throw new Error(`aggregator ${j} refused bank ${bank}: ${await res.text()}`);
        }),
      );
    }),
  );
  const partials = await Promise.all(
    servers.map(async (s, j) => {
      const res = await fetch(`${s.url}/result`);
      if (res.status !== 200) throw new Error(`aggregator refused the result: ${await res.text()}`);
      return wire.openSum(j, new Uint8Array(await res.arrayBuffer()));
    }),
  );
  const totals = combine(partials, o.aggregators, o.items);
  const seconds = (performance.now() - t0) / 1000;
  for (let k = 0; k < o.items; k++) {
    const want = books.reduce((s, b) => s + (b[k] as number), 0);
    if (totals[k] !== want) throw new Error(`total ${k} is wrong`);
  }
  return seconds;
}

export async function runAggregateBench(o: AggregateBenchOptions): Promise<Record<string, unknown>> {
  const books = Array.from({ length: o.banks }, () => Array.from({ length: o.items }, () => (Math.random() < 0.3 ? Math.floor(Math.random() * 5e9) : 0)));
  const servers = await Promise.all(
    Array.from({ length: o.aggregators }, async () => {
      const session: { agg?: Aggregator; wire?: Wire } = {};
      return { ...(await serve(session)), session };
    }),
  );
  try {
    // Alternating, twice each; the faster of each pair (the first runs also warm up the JIT).
    const times = { clear: [] as number[], sealed: [] as number[] };
    for (let r = 0; r < 2; r++) {
      times.clear.push(await runJob(o, books, servers, false));
      times.sealed.push(await runJob(o, books, servers, true));
    }
    const unsealedSeconds = Math.min(...times.clear);
    const seconds = Math.min(...times.sealed);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      bench: 'aggregate',
      seconds: round(seconds),
      runs: times.sealed.map(round),
      sealed: true,
      unsealedSeconds: round(unsealedSeconds),
      ratio: round(seconds / unsealedSeconds),
      banks: o.banks,
      items: o.items,
      aggregators: o.aggregators,
      bytesSent: o.banks * o.aggregators * 8 * o.items,
      load: round(loadavg()[0] ?? 0),
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    };
  } finally {
    for (const s of servers) s.server.close();
  }
}
