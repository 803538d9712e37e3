// Routes of an etcd-ordered network: the log position after a block (for peers that sync),
// this node's signed checkpoint of a block, the network view for `credence network status`,
// and a proof bundled with the checkpoints that make its block final.

import type { FastifyInstance } from 'fastify';
import { buildTxProof, type TxProofJson } from '../ledger/proofs.js';
import type { EtcdMember } from '../node/etcdMember.js';
import type { CredenceNode } from '../node/node.js';
import { CredenceClient } from '../sdk/client.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

const PEER_TIMEOUT_MS = 2000;

function heightParam(v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw new CredenceError(Codes.MALFORMED, 'height must be a non-negative integer');
  return Number(v);
}

function member(node: CredenceNode): EtcdMember {
  if (node.network === undefined) throw new CredenceError(Codes.NOT_FOUND, 'this node does not run etcd ordering');
  return node.network;
}

export function registerNetworkRoutes(app: FastifyInstance, node: CredenceNode): void {
  app.get('/v1/ordering/position/:height', async (req) => {
    const h = heightParam((req.params as { height: string }).height);
    const pos = member(node).store.position(h);
    if (pos === undefined) throw new CredenceError(Codes.NOT_FOUND, `no log position recorded for height ${h}`);
    return pos;
  });
  app.get('/v1/checkpoints/:height', async (req) => {
    const h = heightParam((req.params as { height: string }).height);
    const ck = member(node).store.checkpoint(h);
    if (ck === undefined) throw new CredenceError(Codes.NOT_FOUND, `this node has no checkpoint for height ${h}`);
    return { height: h, orgId: node.config.orgId, checkpoint: toHex(ck) };
  });
  app.get('/v1/network', async () => member(node).view());
  app.get('/v1/transactions/:id/final-proof', async (req) => finalProof(node, (req.params as { id: string }).id));
}

/**
 * A transaction proof with the checkpoints of its block gathered from this node and its peers,
 * and the membership changes up to its height (each with the checkpoints of its block), so
 * that organizations added after genesis count offline.
 */
async function finalProof(node: CredenceNode, idText: string): Promise<TxProofJson & { finalHeight: number; epochs: unknown[] }> {
  const m = member(node);
  const id = fromHexStrict(idText);
  if (id === undefined || id.byteLength !== 32) throw new CredenceError(Codes.MALFORMED, 'id must be 64 lowercase hex characters');
  const loc = node.chain.store.tx(id);
  if (loc === undefined) throw new CredenceError(Codes.NOT_FOUND, 'committed transaction not found');
  const block = node.chain.store.block(loc.height);
  const results = node.chain.store.results(loc.height);
  if (block === undefined || results === undefined) throw new CredenceError(Codes.CORRUPT, 'transaction index points at a missing block');
  const proof = buildTxProof(node.chain.hash, block.header, block.txs, results, loc.index);
  const peers = await m.peers();
  const epochs = await Promise.all(
    m.store
      .epochs(loc.height)
      .map(async (e) => ({ ...(e as { height: number }), checkpoints: await checkpointsAt(node, peers, (e as { height: number }).height) })),
  );
  return { ...proof, checkpoints: await checkpointsAt(node, peers, loc.height), epochs, finalHeight: m.checkpoints.finalHeight };
}

/** This node's checkpoint of a block and those its peers serve. */
async function checkpointsAt(node: CredenceNode, peers: readonly string[], height: number): Promise<string[]> {
  const own = member(node).store.checkpoint(height);
  const fromPeers = await Promise.all(
    peers.map(async (url) => {
      try {
        const c = new CredenceClient({ url, suite: node.suite, timeoutMs: PEER_TIMEOUT_MS, signer: node.signer });
        return (await c.request<{ checkpoint: string }>('GET', `/v1/checkpoints/${height}`)).checkpoint;
      } catch {
        return undefined;
      }
    }),
  );
  return [...(own === undefined ? [] : [toHex(own)]), ...fromPeers.filter((c): c is string => typeof c === 'string')];
}
