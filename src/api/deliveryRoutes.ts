// REST routes of delivery and credit reports.
// POST /v1/deliveries (on a provider's node): a consumer's member asks for the records an
//   access authorization on chain covers; the provider checks the chain, reads its vault
//   and answers with the records sealed to the consumer's key and signed. Anything the
//   chain does not authorize is refused with a coded error that names no record content.
// POST /v1/reports (on the consumer's own node): a member of the node's organization has
//   the node gather every provider's delivery for an access, verify each against its own
//   copy of the chain, and return the assembled report.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { orgOfKey } from '../contracts/members.js';
import { BatchCache } from '../contracts/records.js';
import { join } from 'node:path';
import { OutcomeRecorder, deliver } from '../dataspace/provide.js';
import { ServedAccesses } from '../dataspace/served.js';
import { assembleReport, recordForged } from '../dataspace/report.js';
import type { DataspaceServices } from '../node/dataspace.js';
import type { CredenceNode } from '../node/node.js';
import { CredenceClient } from '../sdk/client.js';
import { type DeliveryEnvelope, type ProviderEndpoints, requestDelivery } from '../sdk/report.js';
import { fromHexStrict } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

const ACCESS_ID_RE = /^[0-9a-f]{64}$/;
const PROVIDERS_MAX = 64;
const DELIVERY_TIMEOUT_MS = 20_000;
const PEER_INFO_TIMEOUT_MS = 2000;
const HEIGHT_WAIT_MS = 5000;

function body(req: FastifyRequest): { [k: string]: unknown } {
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new CredenceError(Codes.MALFORMED, 'body must be a JSON object');
  return b as { [k: string]: unknown };
}

function accessIdOf(v: unknown): string {
  if (typeof v !== 'string' || !ACCESS_ID_RE.test(v)) throw new CredenceError(Codes.MALFORMED, 'accessId must be 64 lowercase hex characters');
  return v;
}

/** The organization whose member key signed the request. */
function callerOrg(node: CredenceNode, req: FastifyRequest): string {
  const key = req.headers['x-credence-key'];
  const org = typeof key === 'string' ? orgOfKey(node.chain.read, key) : undefined;
  if (org === undefined) throw new CredenceError(Codes.FORBIDDEN, 'the key is not a key of a member organization');
  return org.id;
}

function endpointsOf(v: unknown): ProviderEndpoints {
  if (v === undefined) return {};
  const ok =
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.keys(v).length <= PROVIDERS_MAX &&
    Object.values(v).every((u) => typeof u === 'string' && /^https?:\/\/[^\s]{1,200}$/.test(u));
  if (!ok) throw new CredenceError(Codes.MALFORMED, `providers must map at most ${PROVIDERS_MAX} organization ids to http(s) URLs`);
  return v as ProviderEndpoints;
}

/** Providers' URLs from the etcd peer list, for those the caller did not name. */
async function discovered(node: CredenceNode): Promise<ProviderEndpoints> {
  if (node.network === undefined) return {};
  const urls = await node.network.peers();
  const found = await Promise.all(
    urls.map(async (url) => {
      try {
        const c = new CredenceClient({ url, suite: node.suite, signer: node.signer, timeoutMs: PEER_INFO_TIMEOUT_MS });
        return [(await c.request<{ orgId: string }>('GET', '/v1/info')).orgId, url] as const;
      } catch {
        return undefined;
      }
    }),
  );
  return Object.fromEntries(found.filter((f) => f !== undefined));
}

/** Wait (at most HEIGHT_WAIT_MS) until this node's chain reaches `height`; woken by each commit. */
export async function waitForHeight(node: CredenceNode, height: number, maxMs = HEIGHT_WAIT_MS): Promise<void> {
  if (node.chain.height() >= height) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(done, maxMs);
    const off = node.onCommit(() => {
      if (node.chain.height() >= height) done();
    });
  });
}

/** The consumer's chain height when it asked (optional): a provider behind it waits for it. */
function minHeightOf(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new CredenceError(Codes.MALFORMED, 'minHeight must be a non-negative integer');
  return v;
}

export function registerDeliveryRoutes(app: FastifyInstance, node: CredenceNode, ds: DataspaceServices | undefined): void {
  const log = node.log;
  const batches = new BatchCache();
  const served = ds?.vault === undefined ? undefined : new ServedAccesses(join(node.config.dataDir, 'served.db'));
  if (served !== undefined) app.addHook('onClose', async () => served.close());
  const outcomes =
    ds === undefined ? undefined : new OutcomeRecorder(ds.chain, node.chain.read, (e) => log.warn('delivery outcome not recorded', { error: String(e) }));
  if (outcomes !== undefined) app.addHook('onClose', async () => outcomes.close());
  app.post('/v1/deliveries', async (req): Promise<DeliveryEnvelope> => {
    const b = body(req);
    const accessId = accessIdOf(b.accessId);
    const sealKey = typeof b.sealKey === 'string' ? fromHexStrict(b.sealKey) : undefined;
    if (sealKey === undefined || sealKey.byteLength === 0 || sealKey.byteLength > 256)
      throw new CredenceError(Codes.MALFORMED, 'sealKey must be a hex public key');
    const minHeight = minHeightOf(b.minHeight);
    const consumer = callerOrg(node, req);
    const vault = ds?.vault;
    if (vault === undefined || served === undefined) throw new CredenceError(Codes.CONFIG, 'this node keeps no vault: it provides no records');
    // The block that authorized the access may not have reached this node yet.
    await waitForHeight(node, minHeight);
    if (node.chain.height() < minHeight)
      throw new CredenceError(Codes.UNAVAILABLE, `this provider's chain is at height ${node.chain.height()}, behind the access's ${minHeight}; retry shortly`);
    const now = Math.max(Date.now(), node.chain.head().header.time);
    const deps = {
      suite: node.suite,
      signer: node.signer,
      read: node.chain.read,
      provider: node.config.orgId,
      now,
      height: node.chain.height(),
      served,
      batches,
    };
    try {
      const d = await deliver(deps, vault, { accessId, consumer, consumerSealKey: sealKey });
      log.info('delivery served', { accessId, consumer });
      outcomes?.note(accessId, consumer, { delivered: d.items });
      return d.envelope;
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'INTERNAL';
      log.warn('delivery refused', { accessId, consumer, code });
      outcomes?.note(accessId, consumer, { refused: code });
      throw e;
    }
  });

  app.post('/v1/reports', async (req) => {
    const b = body(req);
    const accessId = accessIdOf(b.accessId);
    const named = endpointsOf(b.providers);
    const consumer = callerOrg(node, req);
    if (consumer !== node.config.orgId) throw new CredenceError(Codes.FORBIDDEN, `only members of ${node.config.orgId} may have this node assemble reports`);
    const endpoints = { ...(await discovered(node)), ...named };
    const ctx = {
      suite: node.suite,
      read: node.chain.read,
      chainId: node.chain.genesis.chainId,
      consumer,
      now: Math.max(Date.now(), node.chain.head().header.time),
      height: () => node.chain.height(),
      waitForHeight: (h: number) => waitForHeight(node, h),
      batches,
      fetch: (url: string, id: string, sealKey: string, minHeight: number) =>
        requestDelivery(new CredenceClient({ url, suite: node.suite, signer: node.signer, timeoutMs: DELIVERY_TIMEOUT_MS }), id, sealKey, minHeight),
    };
    const subject = typeof b.subject === 'string' ? b.subject : undefined;
    const report = await assembleReport(ctx, accessId, endpoints, subject);
    log.info('report assembled', { accessId, records: report.records.length, complete: report.complete });
    const forged = report.providers.flatMap((p) => (p.status === 'forged' ? [p.provider] : []));
    if (forged.length > 0 && ds !== undefined)
      await recordForged(ds.chain, accessId, forged).catch((e) => log.warn('forged delivery not recorded', { accessId, error: String(e) }));
    return report;
  });
}
