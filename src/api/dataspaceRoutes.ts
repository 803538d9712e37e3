// REST routes of the data space.
// /v1/subject/*: a subject, authenticated by a request signature with its wallet key (bound
// on chain by the registration authority), sees what the chain holds about itself and only
// itself, and has its signed statements (consent grant/revoke, dispute) relayed by this
// node, which submits them in a transaction signed with the node's member key.

import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubmitResult } from '../codec/api.js';
import { canonicalJsonBytes, type JsonValue } from '../codec/canonicalJson.js';
import { signTx } from '../codec/tx.js';
import { subjectOfKey, subjectView } from '../contracts/views.js';
import { readRecord } from '../contracts/records.js';
import type { DataspaceServices } from '../node/dataspace.js';
import type { CredenceNode } from '../node/node.js';
import { toHex, utf8 } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import { authenticate } from './auth.js';

export const SUBJECT_PREFIX = '/v1/subject/';
const RELAYED = new Set(['consents.grant', 'consents.revoke', 'disputes.open']);
const STATEMENT_CHARS_MAX = 4000;
const RELAY_WAIT_MS = 30_000;

/** The subject whose registered key signed this request; UNAUTHENTICATED / FORBIDDEN otherwise. */
export function authenticateSubject(node: CredenceNode, req: FastifyRequest): { subject: string; key: string } {
  const isSubjectKey = (k: string) => subjectOfKey(node.chain.read, k) !== undefined;
  let key: string;
  try {
    key = authenticate(
      node.suite,
      isSubjectKey,
      { method: req.method, url: req.url, headers: req.headers, body: req.rawBody ?? new Uint8Array(0) },
      Date.now(),
    );
  } catch (e) {
    if (e instanceof CredenceError && e.code === Codes.FORBIDDEN) throw new CredenceError(Codes.FORBIDDEN, 'the key is not registered to a subject');
    throw e;
  }
  return { subject: subjectOfKey(node.chain.read, key) as string, key };
}

async function submitAsNode(node: CredenceNode, contract: string, method: string, args: JsonValue): Promise<SubmitResult> {
  const tx = await signTx(node.chain.hash, node.signer, {
    chainId: node.chain.genesis.chainId,
    signer: node.signer.publicKey,
    nonce: randomInt(0, 2 ** 48 - 1),
    expiresAt: Date.now() + 5 * 60 * 1000,
    contract,
    method,
    args: canonicalJsonBytes(args),
  });
  const [r] = await node.waitFor(await node.admit([tx]), RELAY_WAIT_MS);
  if (r === undefined || r.status !== 'committed')
    throw new CredenceError(r?.code ?? Codes.UNAVAILABLE, r?.message ?? 'the transaction was not committed in time');
  if (r.code !== 'OK') throw new CredenceError(r.code ?? 'REFUSED', `the ${contract} contract refused: ${r.code}`, { txId: r.id });
  return r;
}

interface RelayBody {
  contract?: unknown;
  method?: unknown;
  statement?: { statementHash?: unknown; id?: unknown; recordId?: unknown } & Record<string, unknown>;
  publicKey?: unknown;
  signature?: unknown;
  statementText?: unknown;
}

/** Where a dispute's statement is kept: the vault of the disputed record's provider, this node. */
function statementVault(node: CredenceNode, ds: DataspaceServices | undefined, recordId: unknown): NonNullable<DataspaceServices['vault']> {
  const rec = typeof recordId === 'string' ? readRecord(node.chain.read, recordId) : undefined;
  if (rec === undefined) throw new CredenceError('BAD_DISPUTE', 'no such record on chain');
  if (rec.provider !== node.config.orgId || ds?.vault === undefined) {
    throw new CredenceError('BAD_DISPUTE', `open the dispute through the node of the record's provider (${rec.provider})`);
  }
  return ds.vault;
}

async function relay(node: CredenceNode, ds: DataspaceServices | undefined, req: FastifyRequest): Promise<SubmitResult> {
  const { key } = authenticateSubject(node, req);
  const b = (req.body ?? {}) as RelayBody;
  const name = `${String(b.contract)}.${String(b.method)}`;
  if (!RELAYED.has(name)) throw new CredenceError(Codes.MALFORMED, `only ${[...RELAYED].join(', ')} are relayed for subjects`);
  if (b.publicKey !== key) throw new CredenceError(Codes.FORBIDDEN, 'the statement must be signed with the key that signs the request');
  let text: string | undefined;
  let vault: ReturnType<typeof statementVault> | undefined;
  if (name === 'disputes.open') {
    vault = statementVault(node, ds, b.statement?.recordId);
    text = typeof b.statementText === 'string' ? b.statementText : '';
    if (text.length === 0 || text.length > STATEMENT_CHARS_MAX)
      throw new CredenceError('BAD_DISPUTE', `statementText must be 1 to ${STATEMENT_CHARS_MAX} characters`);
    if (toHex(node.suite.hash(utf8(text))) !== b.statement?.statementHash) throw new CredenceError('BAD_DISPUTE', 'statementText does not match statementHash');
  }
  const args = { statement: (b.statement ?? null) as JsonValue, publicKey: key, signature: (b.signature ?? null) as JsonValue };
  const r = await submitAsNode(node, b.contract as string, b.method as string, args);
  if (text !== undefined) vault?.putStatement(String(b.statement?.id), String(b.statement?.recordId), text);
  return r;
}

export function registerDataspaceRoutes(app: FastifyInstance, node: CredenceNode, ds?: DataspaceServices): void {
  const head = () => ({ height: node.chain.height(), time: node.chain.head().header.time });
  app.get('/v1/subject/me', async (req) => {
    const { subject, key } = authenticateSubject(node, req);
    return { subject, publicKey: key, chainId: node.chain.genesis.chainId };
  });
  app.get('/v1/subject/view', async (req) => subjectView(node.chain.read, authenticateSubject(node, req).subject, head()));
  app.post('/v1/subject/relay', async (req) => relay(node, ds, req));
  // A record as the chain sees it (assembled from its batch and any exception), for members.
  app.get('/v1/records/:id', async (req) => {
    const rec = readRecord(node.chain.read, (req.params as { id: string }).id);
    if (rec === undefined) throw new CredenceError(Codes.NOT_FOUND, 'no such record on chain');
    return rec;
  });
}
