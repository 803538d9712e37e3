// Server-sent event streams: committed blocks (full encodings, for followers) and a feed of
// block and contract events (for applications). A stream replays from a height, then goes
// live. Each subscriber has a bounded send buffer; one that falls too far behind is cut off
// and may reconnect from where it was.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerEvent } from '../codec/api.js';
import { decodeResult } from '../codec/block.js';
import { decodeTx } from '../codec/tx.js';
import type { CredenceNode } from '../node/node.js';
import { toBase64, toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

/** Bytes a subscriber may have unsent before it is disconnected. */
const SEND_BUFFER_BYTES_MAX = 32 * 1024 * 1024;
/** Blocks sent per catch-up step before yielding to other work. */
const CATCHUP_BLOCKS_PER_STEP = 50;

const subscriberCounts = new WeakMap<CredenceNode, number>();

type Render = (height: number) => string;

async function serve(node: CredenceNode, req: FastifyRequest, reply: FastifyReply, from: number, render: Render): Promise<void> {
  const count = (delta: number) => {
    const n = (subscriberCounts.get(node) ?? 0) + delta;
    subscriberCounts.set(node, n);
    node.metrics.peers.set(n);
    return n;
  };
  if (count(0) >= node.config.limits.subscribersMax) throw new CredenceError(Codes.UNAVAILABLE, 'too many event subscribers; retry later');
  count(1);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': credence stream\n\n');
  let cursor = from;
  let busy = false;
  let closed = false;
  const pump = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      while (!closed && cursor <= node.chain.height()) {
        const end = Math.min(node.chain.height(), cursor + CATCHUP_BLOCKS_PER_STEP - 1);
        for (; cursor <= end; cursor++) res.write(render(cursor));
        if (res.writableLength > SEND_BUFFER_BYTES_MAX) {
          res.destroy();
          return;
        }
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      busy = false;
    }
  };
  const unsubscribe = node.onCommit(() => void pump());
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const done = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    unsubscribe();
    count(-1);
  };
  req.raw.on('close', done);
  res.on('close', done);
  res.on('error', done);
  await pump();
}

export async function streamBlocks(node: CredenceNode, req: FastifyRequest, reply: FastifyReply, from: number): Promise<void> {
  await serve(node, req, reply, from, (h) => {
    const bytes = node.chain.store.blockBytes(h);
    return bytes === undefined ? '' : `event: block\nid: ${h}\ndata: ${toBase64(bytes)}\n\n`;
  });
}

/** Block and contract events. Without `from`, starts after the current head. */
export async function streamEvents(node: CredenceNode, req: FastifyRequest, reply: FastifyReply, from: number | undefined): Promise<void> {
  await serve(node, req, reply, from ?? node.chain.height() + 1, (h) => renderEvents(node, h));
}

function renderEvents(node: CredenceNode, h: number): string {
  const block = node.chain.store.block(h);
  const results = node.chain.store.results(h);
  if (block === undefined || results === undefined) return '';
  const events: ServerEvent[] = [
    { type: 'block', height: h, hash: toHex(node.chain.store.blockHash(h) ?? new Uint8Array()), time: block.header.time, txCount: block.header.txCount },
  ];
  results.forEach((raw, i) => {
    const res = decodeResult(raw);
    if (res.events.length === 0) return;
    const txId = decodeTx(node.chain.hash, block.txs[i] as Uint8Array).idHex;
    for (const e of res.events) events.push({ type: 'contract', height: h, txId, contract: e.contract, name: e.name, data: e.data });
  });
  return events.map((e) => `event: ${e.type}\nid: ${h}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}
