// The REST API of a node (Fastify): submit transactions, read transactions, blocks, state
// and proofs, stream events, health and metrics. Bodies, batches and ranges have limits;
// every error is JSON {code, message, details} with a stable code.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { BlockJson, StateJson, SubmitResult, TxStatusJson } from '../codec/api.js';
import { headerToJson } from '../codec/api.js';
import { decodeResult, encodeHeader } from '../codec/block.js';
import { type JsonValue, parseCanonicalJson } from '../codec/canonicalJson.js';
import { decodeTx, decodeTxBatch, encodeTx, txFromJson, txToJson } from '../codec/tx.js';
import { buildTxProof } from '../ledger/proofs.js';
import type { CredenceNode } from '../node/node.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import type { DataspaceServices } from '../node/dataspace.js';
import { authenticate } from './auth.js';
import { SUBJECT_PREFIX, registerDataspaceRoutes } from './dataspaceRoutes.js';
import { registerDeliveryRoutes } from './deliveryRoutes.js';
import { registerProviderRoutes } from './providerRoutes.js';
import { statusOf } from './errors.js';
import { registerNetworkRoutes } from './networkRoutes.js';
import { registerPrivacyRoutes } from './privacyRoutes.js';
import { openApiDocument } from './openapi.js';
import { streamBlocks, streamEvents } from './sse.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Uint8Array;
  }
}

const PUBLIC = new Set(['/health', '/metrics', '/openapi.json']);

function notFound(what: string): CredenceError {
  return new CredenceError(Codes.NOT_FOUND, `${what} not found`);
}

function intParam(v: unknown, name: string, min: number, max: number, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN;
  if (Number.isNaN(n) || n < min || n > max) throw new CredenceError(Codes.MALFORMED, `${name} must be an integer from ${min} to ${max}`);
  return n;
}

function idParam(v: unknown): Uint8Array {
  const b = typeof v === 'string' ? fromHexStrict(v) : undefined;
  if (b === undefined || b.byteLength !== 32) throw new CredenceError(Codes.MALFORMED, 'id must be 64 lowercase hex characters');
  return b;
}

export function buildApi(node: CredenceNode, dataspace?: DataspaceServices): FastifyInstance {
  const limits = node.config.limits;
  const app = Fastify({
    bodyLimit: limits.bodyBytesMax,
    logger: false,
    return503OnClosing: true,
    // State keys are up to 256 bytes, so up to 768 characters once percent-encoded.
    maxParamLength: 1024,
    frameworkErrors: (err, _req, reply) => sendError(reply, new CredenceError(Codes.MALFORMED, `bad request: ${err.message}`)),
    // Errors Node's HTTP parser raises before Fastify sees a request (e.g. headers too large).
    clientErrorHandler: (err, socket) => {
      const tooLarge = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      const body = JSON.stringify({
        code: tooLarge ? Codes.TOO_LARGE : Codes.MALFORMED,
        message: tooLarge ? 'request line or headers are too large' : 'malformed HTTP request',
        details: {},
      });
      const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
    },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = new Uint8Array(body as Buffer);
    done(null, req.rawBody);
  });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = new Uint8Array(body as Buffer);
    try {
      done(null, (body as Buffer).length === 0 ? null : JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(new CredenceError(Codes.MALFORMED, 'request body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler((err: unknown, req, reply) =>
    sendError(reply, err, (fields) =>
      node.log.error('request failed with an internal error', { ...fields, method: req.method, route: req.routeOptions.url ?? '' }),
    ),
  );
  app.setNotFoundHandler((req, reply) => sendError(reply, new CredenceError(Codes.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`)));

  app.addHook('preHandler', async (req) => {
    const path = req.url.split('?')[0] ?? '';
    // Subject routes authenticate subjects' keys themselves (dataspaceRoutes.ts).
    if (PUBLIC.has(path) || path.startsWith(SUBJECT_PREFIX)) return;
    req.authKey = authenticate(
      node.suite,
      (k) => node.isMemberKey(k),
      { method: req.method, url: req.url, headers: req.headers, body: req.rawBody ?? new Uint8Array(0) },
      Date.now(),
    );
  });

  if (dataspace !== undefined) registerProviderRoutes(app, node, dataspace);

  app.get('/health', async (_req, reply) => {
    const h = node.health();
    return reply.code(h.status === 'halted' ? 503 : 200).send(h);
  });
  app.get('/metrics', async (_req, reply) => reply.type(node.metrics.registry.contentType).send(await node.metrics.registry.metrics()));
  app.get('/openapi.json', async () => openApiDocument(limits));

  app.get('/v1/info', async () => {
    const head = node.chain.head();
    return {
      chainId: node.chain.genesis.chainId,
      suite: node.suite.name,
      orgId: node.config.orgId,
      height: head.header.height,
      headHash: toHex(head.hash),
      genesisHash: node.genesisHashHex,
      role: node.role,
    };
  });

  app.post('/v1/transactions', async (req) => submit(node, req));
  app.get('/v1/transactions/:id', async (req) => txStatus(node, (req.params as { id: string }).id));
  app.get('/v1/transactions/:id/proof', async (req) => txProof(node, (req.params as { id: string }).id));
  app.get('/v1/blocks', async (req) => {
    const q = req.query as { from?: string; limit?: string };
    const from = intParam(q.from, 'from', 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = intParam(q.limit, 'limit', 1, limits.rangeMax, Math.min(20, limits.rangeMax));
    const blocks: BlockJson[] = [];
    for (let h = from; h < from + limit && h <= node.chain.height(); h++) blocks.push(blockJson(node, h));
    return { blocks };
  });
  app.get('/v1/blocks/:ref', async (req) => blockJson(node, resolveBlockRef(node, (req.params as { ref: string }).ref)));
  app.get('/v1/state/:key', async (req) => stateJson(node, (req.params as { key: string }).key, (req.query as { proof?: string }).proof === 'true'));
  app.get('/v1/events', async (req, reply) => streamEvents(node, req, reply, optionalFrom(req)));
  app.get('/v1/stream/blocks', async (req, reply) => streamBlocks(node, req, reply, optionalFrom(req) ?? node.chain.height() + 1));
  registerNetworkRoutes(app, node);
  registerDataspaceRoutes(app, node, dataspace);
  registerDeliveryRoutes(app, node, dataspace);
  registerPrivacyRoutes(app, node);
  return app;
}

function optionalFrom(req: FastifyRequest): number | undefined {
  const q = req.query as { from?: string };
  return q.from === undefined ? undefined : intParam(q.from, 'from', 0, Number.MAX_SAFE_INTEGER);
}

/**
 * Answer with the error's code. An unexpected error is logged (its class and code only: a
 * message may quote request data) and answered INTERNAL.
 */
function sendError(reply: FastifyReply, err: unknown, logInternal: (fields: Record<string, string>) => void = () => {}): FastifyReply {
  if (isCredenceError(err)) return reply.code(statusOf(err.code)).send(err.toJSON());
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ code: Codes.TOO_LARGE, message: 'request body is too large', details: {} });
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply.code(415).send({ code: Codes.MALFORMED, message: 'send application/json or application/octet-stream', details: {} });
  }
  if (typeof e.statusCode === 'number' && e.statusCode < 500)
    return reply.code(e.statusCode).send({ code: Codes.MALFORMED, message: e.message ?? 'bad request', details: {} });
  logInternal({ error: String((err as object | null)?.constructor?.name ?? typeof err).slice(0, 64), code: String(e.code ?? '').slice(0, 64) });
  return reply.code(500).send({ code: 'INTERNAL', message: 'internal error; see the node log', details: {} });
}

function batchFromBody(node: CredenceNode, req: FastifyRequest): Uint8Array[] {
  const max = node.config.limits.batchTxMax;
  if (req.body instanceof Uint8Array) return decodeTxBatch(req.body, max);
  const b = req.body as { transactions?: unknown } | null;
  if (b === null || typeof b !== 'object' || !Array.isArray(b.transactions)) {
    throw new CredenceError(Codes.MALFORMED, 'body must be {"transactions": [...]} or a binary batch');
  }
  if (b.transactions.length > max) throw new CredenceError(Codes.TOO_LARGE, `batch of ${b.transactions.length} exceeds ${max}`);
  // A transaction that does not even parse is rejected in its own slot, like a binary one.
  return b.transactions.map((t) => {
    try {
      return encodeTx(txFromJson(t));
    } catch {
      return new Uint8Array(0);
    }
  });
}

async function submit(node: CredenceNode, req: FastifyRequest): Promise<{ results: SubmitResult[] }> {
  const q = req.query as { wait?: string; timeoutMs?: string };
  // Check every parameter before admitting anything: a refused request must change nothing.
  if (q.wait !== undefined && q.wait !== 'true' && q.wait !== 'false') throw new CredenceError(Codes.MALFORMED, 'wait must be true or false');
  const timeoutMs = intParam(q.timeoutMs, 'timeoutMs', 1, node.config.limits.waitMsMax, 30_000);
  const txs = batchFromBody(node, req);
  if (txs.length === 0) throw new CredenceError(Codes.MALFORMED, 'batch is empty');
  const admitted = await node.admit(txs);
  if (q.wait !== 'true') return { results: admitted };
  return { results: await node.waitFor(admitted, timeoutMs) };
}

function txStatus(node: CredenceNode, idText: string): TxStatusJson {
  const id = idParam(idText);
  const loc = node.chain.store.tx(id);
  if (loc === undefined) {
    if (node.isPending(idText)) return { id: idText, status: 'pending' };
    throw notFound('transaction');
  }
  const block = node.chain.store.block(loc.height);
  const raw = block?.txs[loc.index];
  const res = node.chain.store.results(loc.height)?.[loc.index];
  if (block === undefined || raw === undefined || res === undefined) throw new CredenceError(Codes.CORRUPT, 'transaction index points at a missing block');
  return {
    id: idText,
    status: 'committed',
    height: loc.height,
    index: loc.index,
    blockHash: node.chain.blockHashHex(loc.height) ?? '',
    result: decodeResult(res),
    tx: txToJson(decodeTx(node.chain.hash, raw).tx),
  };
}

function txProof(node: CredenceNode, idText: string) {
  const loc = node.chain.store.tx(idParam(idText));
  if (loc === undefined) throw notFound('committed transaction');
  const block = node.chain.store.block(loc.height);
  const results = node.chain.store.results(loc.height);
  if (block === undefined || results === undefined) throw new CredenceError(Codes.CORRUPT, 'transaction index points at a missing block');
  return buildTxProof(node.chain.hash, block.header, block.txs, results, loc.index);
}

function resolveBlockRef(node: CredenceNode, ref: string): number {
  if (ref === 'latest') return node.chain.height();
  if (/^\d{1,15}$/.test(ref)) return Number(ref);
  const hash = fromHexStrict(ref);
  if (hash === undefined || hash.byteLength !== 32) throw new CredenceError(Codes.MALFORMED, 'block reference must be a height, a 64-hex hash, or "latest"');
  const h = node.chain.store.heightOfHash(hash);
  if (h === undefined) throw notFound('block');
  return h;
}

function blockJson(node: CredenceNode, height: number): BlockJson {
  const block = node.chain.store.block(height);
  const results = node.chain.store.results(height);
  if (block === undefined || results === undefined) throw notFound(`block ${height}`);
  return {
    hash: node.chain.blockHashHex(height) ?? '',
    header: headerToJson(block.header),
    headerBytes: toHex(encodeHeader(block.header)),
    txIds: block.txs.map((t) => decodeTx(node.chain.hash, t).idHex),
    results: results.map((r) => ({ code: decodeResult(r).code })),
  };
}

function stateJson(node: CredenceNode, key: string, withProof: boolean): StateJson {
  if (Buffer.byteLength(key) > 256) throw new CredenceError(Codes.TOO_LARGE, 'state keys are at most 256 bytes');
  const head = node.chain.head();
  const value = node.chain.store.state.get(key);
  const out: StateJson = { key, height: head.header.height, blockHash: toHex(head.hash), value: value === undefined ? null : parseCanonicalJson(value) };
  if (!withProof) return out;
  const proof = {
    kind: 'state',
    header: toHex(encodeHeader(head.header)),
    key,
    value: value === undefined ? null : toHex(value),
    proof: node.chain.store.state.prove(key),
  };
  return { ...out, proof: proof as unknown as JsonValue };
}
