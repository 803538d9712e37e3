// `credence network status`: what an operator checks first. Each node's health, height,
// final height (a majority of organizations checkpointed it), lag behind the highest node and
// the checkpoints it has seen; each etcd member's health, role and revision; and a summary
// line. A readable table by default, `--json` for scripts. Exit code 1 when a node is not ok
// or etcd has no quorum.

import type { NetworkView } from '../node/etcdMember.js';
import { EtcdClient, type EtcdStatus } from '../ordering/etcdClient.js';
import { type EtcdNetwork, nodeClient } from './netops.js';
import { printJson, table } from './output.js';

export interface NodeStatus {
  readonly orgId: string;
  readonly url: string;
  /** ok, syncing, halted, degraded (from /health), or down when it does not answer. */
  readonly status: string;
  readonly reasons: string[];
  readonly height: number | null;
  readonly finalHeight: number | null;
  /** Blocks behind the highest node. */
  readonly lag: number | null;
  readonly view: NetworkView | null;
}

export interface EtcdMemberStatus extends EtcdStatus {
  readonly name: string;
  readonly role: 'leader' | 'follower' | 'down';
}

export interface NetworkStatus {
  readonly chainId: string;
  readonly dir: string;
  readonly nodes: NodeStatus[];
  readonly etcd: EtcdMemberStatus[];
  readonly summary: { nodesOk: number; nodes: number; head: number; final: number; maxLag: number; etcdUp: number; etcdQuorum: boolean };
}

async function nodeStatus(net: EtcdNetwork, i: number): Promise<Omit<NodeStatus, 'lag'>> {
  const n = net.layout.nodes[i];
  const orgId = n?.orgId ?? `#${i}`;
  const url = n?.url ?? '';
  const c = nodeClient(net, i, 3000);
  let health: { status: string; height: number; reasons: string[] };
  try {
    health = await c.health();
  } catch (e) {
    return { orgId, url, status: 'down', reasons: [e instanceof Error ? e.message : String(e)], height: null, finalHeight: null, view: null };
  }
  try {
    const view = await c.request<NetworkView>('GET', '/v1/network');
    return { orgId, url, status: view.syncing ? 'syncing' : health.status, reasons: health.reasons, height: view.height, finalHeight: view.finalHeight, view };
  } catch (e) {
    const reasons = [...health.reasons, `network view: ${e instanceof Error ? e.message : String(e)}`];
    return { orgId, url, status: health.status === 'ok' ? 'degraded' : health.status, reasons, height: health.height, finalHeight: null, view: null };
  }
}

export async function networkStatus(net: EtcdNetwork): Promise<NetworkStatus> {
  const raw = await Promise.all(net.layout.nodes.map((_, i) => nodeStatus(net, i)));
  const head = Math.max(0, ...raw.map((v) => v.height ?? 0));
  const nodes = raw.map((v) => ({ ...v, lag: v.height === null ? null : head - v.height }));
  const statuses = await new EtcdClient(
    net.etcd.map((m) => m.clientUrl),
    2000,
  ).statuses();
  const etcd = statuses.map((s, i): EtcdMemberStatus => {
    const role = !s.ok ? 'down' : s.leader !== undefined && s.leader === s.memberId ? 'leader' : 'follower';
    return { ...s, name: net.etcd[i]?.name ?? s.endpoint, role };
  });
  const etcdUp = etcd.filter((s) => s.ok).length;
  const summary = {
    nodesOk: nodes.filter((v) => v.status === 'ok').length,
    nodes: nodes.length,
    head,
    final: Math.max(0, ...nodes.map((v) => v.finalHeight ?? 0)),
    maxLag: Math.max(0, ...nodes.map((v) => v.lag ?? 0)),
    etcdUp,
    etcdQuorum: etcdUp > etcd.length / 2,
  };
  return { chainId: net.layout.chainId, dir: net.dir, nodes, etcd, summary };
}

const dash = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));

function kib(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${Math.round(bytes / 1024)} KiB`;
}

export function renderStatus(s: NetworkStatus): string {
  const out: string[] = [`network "${s.chainId}" in ${s.dir} (etcd ordering)`, ''];
  const nodeRows = s.nodes.map((v) => {
    const seen = (v.view?.checkpoints ?? []).map((c) => `${c.orgId}@${c.height}`).join(' ');
    return [v.orgId, v.url, v.status, dash(v.height), dash(v.finalHeight), dash(v.lag), seen || '-'];
  });
  out.push(table([['ORG', 'URL', 'STATUS', 'HEIGHT', 'FINAL', 'LAG', 'CHECKPOINTS SEEN (org@height)'], ...nodeRows]));
  for (const v of s.nodes) for (const r of [...v.reasons, ...(v.view?.divergences ?? [])]) out.push(`  ! ${v.orgId}: ${r}`);
  out.push('');
  const etcdRows = s.etcd.map((m) => [m.name, m.endpoint, m.ok ? 'up' : 'DOWN', m.role, dash(m.revision), dash(m.raftIndex), m.ok ? kib(m.dbSize) : '-']);
  out.push(table([['ETCD', 'ENDPOINT', 'HEALTH', 'ROLE', 'REVISION', 'RAFT INDEX', 'DB SIZE'], ...etcdRows]));
  for (const m of s.etcd)
    if (!m.ok) out.push(`  ! ${m.name}: ${m.error === 'fetch failed' ? 'no answer: is it running? (see its etcd.log)' : (m.error ?? 'unreachable')}`);
  out.push('');
  const u = s.summary;
  out.push(
    `${u.nodesOk}/${u.nodes} nodes ok, head ${u.head}, final ${u.final}, max lag ${u.maxLag} blocks; ` +
      `etcd ${u.etcdUp}/${s.etcd.length} members up${u.etcdQuorum ? '' : ': NO QUORUM, ordering is stopped until a member comes back'}`,
  );
  return `${out.join('\n')}\n`;
}

export async function printStatus(net: EtcdNetwork, json: boolean): Promise<void> {
  const s = await networkStatus(net);
  if (json) printJson(s);
  else process.stdout.write(renderStatus(s));
  if (s.summary.nodesOk < s.summary.nodes || !s.summary.etcdQuorum) process.exitCode = 1;
}
