// `credence bench aggregate`: N banks × K SMEs, A aggregators, each aggregator an HTTP server
// on loopback. Banks split their amounts into shares and POST one binary message to each
// aggregator; the recipient GETs every partial sum and combines them. Checked against the
// plain sum. Reports seconds from the first share split to the combined totals.

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { Aggregator, combine, decodeShare, encodeShare, splitShares, vecFromAmounts } from '../src/privacy/aggregate.js';

export interface AggregateBenchOptions {
  readonly banks: number;
  readonly items: number;
  readonly aggregators: number;
}

async function readBody(req: import('node:http').IncomingMessage): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

function serve(agg: Aggregator): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const fail = (e: unknown) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: (e as { code?: string }).code ?? 'INTERNAL' }));
    };
    if (req.method === 'POST') {
      readBody(req)
        .then((b) => {
          agg.accept(decodeShare(b));
          res.writeHead(204).end();
        })
        .catch(fail);
      return;
    }
    try {
      const sum = agg.result();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(sum.buffer, sum.byteOffset, sum.byteLength));
    } catch (e) {
      fail(e);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

export async function runAggregateBench(o: AggregateBenchOptions): Promise<Record<string, unknown>> {
  const job = new Uint8Array(randomBytes(32));
  const books = Array.from({ length: o.banks }, () => Array.from({ length: o.items }, () => (Math.random() < 0.3 ? Math.floor(Math.random() * 5e9) : 0)));
  const servers = await Promise.all(Array.from({ length: o.aggregators }, (_, j) => serve(new Aggregator(job, j, o.banks, o.items))));
  try {
    const t0 = performance.now();
    await Promise.all(
      books.map(async (amounts, bank) => {
        const shares = splitShares(vecFromAmounts(amounts), o.aggregators);
        await Promise.all(
          shares.map(async (share, j) => {
            const res = await fetch(`${servers[j]?.url}/shares`, {
              method: 'POST',
              body: encodeShare({ job, bank, aggregator: j, share }),
              headers: { 'content-type': 'application/octet-stream' },
            });
            if (res.status !== 204) throw new Error(`aggregator ${j} refused bank ${bank}: ${await res.text()}`);
          }),
        );
      }),
    );
    const partials = await Promise.all(
      servers.map(async (s) => {
        const res = await fetch(`${s.url}/result`);
        if (res.status !== 200) throw new Error(`aggregator refused the result: ${await res.text()}`);
        return new Uint32Array(await res.arrayBuffer());
      }),
    );
    const totals = combine(partials, o.aggregators, o.items);
    const seconds = (performance.now() - t0) / 1000;
    for (let k = 0; k < o.items; k++) {
      const want = books.reduce((s, b) => s + (b[k] as number), 0);
      if (totals[k] !== want) throw new Error(`total ${k} is wrong`);
    }
    return {
      bench: 'aggregate',
      seconds: Math.round(seconds * 1000) / 1000,
      banks: o.banks,
      items: o.items,
      aggregators: o.aggregators,
      bytesSent: o.banks * o.aggregators * 8 * o.items,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    };
  } finally {
    for (const s of servers) s.server.close();
  }
}
