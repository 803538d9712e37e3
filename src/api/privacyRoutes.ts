// REST routes of privacy computing: local datasets, starting and watching jobs, the peer-side
// PSI endpoints another node calls during a job, and zero-knowledge threshold-proof jobs.
// Every route needs a signed member request (the server's preHandler).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthHeaders } from '../codec/request.js';
import type { JsonValue } from '../codec/canonicalJson.js';
import type { CredenceNode } from '../node/node.js';
import { AggregateJobs, type Party, type StartAggregate } from '../node/aggregateJobs.js';
import { ModelJobs, type StartModel } from '../node/modelJobs.js';
import { PrivacyService, type StartPsi } from '../node/privacyJobs.js';
import { CredenceError, Codes } from '../util/errors.js';

const JOB_RE = /^[0-9a-f]{64}$/;
const PURPOSE_RE = /^[A-Z][A-Z0-9_]{1,31}$/;

function jobParam(req: FastifyRequest): string {
  const id = (req.params as { id: string }).id;
  if (!JOB_RE.test(id)) throw new CredenceError(Codes.MALFORMED, 'job id must be 64 lowercase hex characters');
  return id;
}

function bytesBody(req: FastifyRequest): Uint8Array {
  if (!(req.body instanceof Uint8Array)) throw new CredenceError(Codes.MALFORMED, 'send the body as application/octet-stream');
  return req.body;
}

function str(v: unknown, what: string, re?: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 512 || (re !== undefined && !re.test(v)))
    throw new CredenceError(Codes.MALFORMED, `${what} is missing or malformed`);
  return v;
}

function startPsiArgs(body: unknown): StartPsi {
  const b = (body ?? {}) as Record<string, unknown>;
  const mode = b.mode ?? 'set';
  if (mode !== 'set' && mode !== 'size') throw new CredenceError(Codes.MALFORMED, 'mode must be set or size');
  const out: StartPsi = {
    peerUrl: str(b.peerUrl, 'peerUrl', /^https?:\/\/[^\s]+$/),
    peerOrg: str(b.peerOrg, 'peerOrg'),
    dataset: str(b.dataset, 'dataset'),
    peerDataset: str(b.peerDataset, 'peerDataset'),
    mode,
    purpose: str(b.purpose ?? 'CREDIT_CHECK', 'purpose', PURPOSE_RE),
  };
  if (b.consents === undefined) return out;
  const list = (v: unknown, what: string) => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new CredenceError(Codes.MALFORMED, `${what} must be a list of strings`);
    return v as string[];
  };
  return { ...out, personal: { consents: list(b.consents, 'consents'), categories: list(b.categories, 'categories') } };
}

function parties(v: unknown, what: string, withDataset: boolean): (Party & { dataset: string })[] {
  if (!Array.isArray(v) || v.length > 64)
    throw new CredenceError(Codes.MALFORMED, `${what} must be a list of at most 64 {org, url${withDataset ? ', dataset' : ''}}`);
  return v.map((p: Record<string, unknown>) => ({
    org: str(p?.org, `${what}.org`),
    url: str(p?.url, `${what}.url`, /^https?:\/\/[^\s]+$/),
    dataset: withDataset ? str(p?.dataset, `${what}.dataset`) : '',
  }));
}

function startAggregateArgs(body: unknown): StartAggregate {
  const b = (body ?? {}) as Record<string, unknown>;
  return {
    dataset: str(b.dataset, 'dataset'),
    banks: parties(b.banks, 'banks', true),
    aggregators: parties(b.aggregators, 'aggregators', false),
    purpose: str(b.purpose ?? 'MULTI_LENDING', 'purpose', PURPOSE_RE),
  };
}

function startModelArgs(body: unknown): StartModel {
  const b = (body ?? {}) as Record<string, unknown>;
  const sc = b.scorecard as { weights?: unknown; bias?: unknown } | undefined;
  if (sc === undefined || !Array.isArray(sc.weights) || !sc.weights.every((w) => Number.isSafeInteger(w)) || !Number.isSafeInteger(sc.bias)) {
    throw new CredenceError(Codes.MALFORMED, 'scorecard must be {weights: integers, bias: integer}');
  }
  return {
    scorecard: { weights: sc.weights as number[], bias: sc.bias as number },
    subject: str(b.subject, 'subject'),
    peerUrl: str(b.peerUrl, 'peerUrl', /^https?:\/\/[^\s]+$/),
    peerOrg: str(b.peerOrg, 'peerOrg'),
    peerDataset: str(b.peerDataset, 'peerDataset'),
    purpose: str(b.purpose ?? 'CREDIT_CHECK', 'purpose', PURPOSE_RE),
  };
}

const callerKey = (req: FastifyRequest) => String(req.headers[AuthHeaders.key]);

export function registerPrivacyRoutes(app: FastifyInstance, node: CredenceNode): void {
  const host = node.config.api.host === '0.0.0.0' ? '127.0.0.1' : node.config.api.host;
  let service: PrivacyService | undefined;
  const svc = () => {
    const port = (app.server.address() as { port?: number } | null)?.port ?? node.config.api.port;
    service ??= new PrivacyService(node, `http://${host}:${port}`);
    return service;
  };
  let agg: AggregateJobs | undefined;
  let model: ModelJobs | undefined;
  const aggJobs = () => {
    agg ??= new AggregateJobs(svc());
    return agg;
  };
  const modelJobs = () => {
    model ??= new ModelJobs(svc());
    return model;
  };
  app.addHook('onClose', async () => {
    agg?.close();
    await service?.close();
  });

  app.put('/v1/privacy/datasets/:name', async (req) => {
    const name = (req.params as { name: string }).name;
    const q = req.query as { part?: string; parts?: string };
    if (q.part === undefined && q.parts === undefined) return svc().putDataset(name, bytesBody(req));
    return svc().putDatasetPart(name, bytesBody(req), { index: Number(q.part ?? 'x'), count: Number(q.parts ?? 'x') });
  });
  app.post('/v1/privacy/psi', async (req, reply) => reply.code(202).send(await svc().startPsi(startPsiArgs(req.body))));
  app.get('/v1/privacy/jobs/:id', async (req) => {
    const id = jobParam(req);
    let local: unknown = null;
    try {
      local = svc().job(id);
    } catch {
      local = null;
    }
    const chain = svc().chainJob(id) ?? null;
    if (local === null && chain === null) throw new CredenceError(Codes.NOT_FOUND, 'no such privacy job');
    return { local, chain };
  });

  // Peer side of a PSI job (called by the receiver's node).
  app.post('/v1/privacy/psi/:id/open', async (req) => svc().psiOpen(jobParam(req), callerKey(req), req.body as JsonValue));
  app.post('/v1/privacy/psi/:id/frames', async (req) => svc().psiFrame(jobParam(req), bytesBody(req)));
  app.get('/v1/privacy/psi/:id/frames/:kind/:seq', async (req, reply) => {
    const p = req.params as { kind: string; seq: string };
    if (!/^\d{1,9}$/.test(p.seq)) throw new CredenceError(Codes.MALFORMED, 'seq must be a non-negative integer');
    const bytes = await svc().psiFetch(jobParam(req), p.kind, Number(p.seq));
    return reply.type('application/octet-stream').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  // Zero-knowledge threshold proofs.
  app.post('/v1/privacy/zk/jobs', async (req) => {
    const b = (req.body ?? {}) as { threshold?: unknown; purpose?: unknown };
    if (typeof b.threshold !== 'number' || !Number.isInteger(b.threshold) || b.threshold < 0 || b.threshold > 1000) {
      throw new CredenceError(Codes.MALFORMED, 'threshold must be an integer from 0 to 1000');
    }
    return svc().zkJob(b.threshold, str(b.purpose ?? 'CREDIT_CHECK', 'purpose', PURPOSE_RE));
  });
  app.post('/v1/privacy/zk/jobs/:id/proof', async (req) => svc().zkVerify(jobParam(req), req.body as JsonValue));

  // Secure aggregation: the recipient starts; aggregators and banks answer other nodes.
  app.post('/v1/privacy/aggregate', async (req, reply) => reply.code(202).send(await aggJobs().start(startAggregateArgs(req.body))));
  app.post('/v1/privacy/aggregate/:id/open', async (req) => aggJobs().open(jobParam(req), callerKey(req), req.body as JsonValue));
  app.post('/v1/privacy/aggregate/:id/contribute', async (req) => aggJobs().contribute(jobParam(req), callerKey(req), req.body as JsonValue));
  app.post('/v1/privacy/aggregate/:id/shares', async (req) => aggJobs().share(jobParam(req), callerKey(req), bytesBody(req)));
  app.get('/v1/privacy/aggregate/:id/sum', async (req, reply) => {
    const b = await aggJobs().sum(jobParam(req));
    return reply.type('application/octet-stream').send(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  });

  // Private scorecard evaluation: the bank starts; the provider evaluates.
  app.post('/v1/privacy/model', async (req, reply) => reply.code(202).send(await modelJobs().start(startModelArgs(req.body))));
  app.post('/v1/privacy/model/:id/evaluate', async (req) => modelJobs().evaluate(jobParam(req), callerKey(req), req.body as JsonValue));
}
