// `credence bench report`: credit-report assembly for one subject from 5 providers, on a
// network of real node processes on loopback (the demo's organizations: zj-credit orders
// (solo) and registers subjects; tax, court, bank-a, js-credit and zj-credit provide; bank-b
// consumes), with the product's default genesis (block cut timeout 100 ms).
//
// Every provider imports its synthetic sources (the measured SME plus background SMEs and
// persons); the SME gets a wallet, disputes a judgment and grants bank-b a consent. Then,
// one report at a time: bank-b asks for access on chain (a transaction; the access contract
// checks the consent and records the decision where the subject sees it) and, once the
// decision is committed, has its own node assemble the report (POST /v1/reports, the path of
// `credence report`: 5 sealed deliveries, each checked by its provider against its chain,
// each verified by bank-b against its chain). `p50Ms`/`p95Ms` time the assembly; the on-chain
// access decision before it waits for a block and is reported apart (`accessP50Ms`…), as is
// the sum (`endToEndP95Ms`). Every access serves one report: nothing is reused. The
// reference, measured in the same run: one signed REST round trip to the consumer's node.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSchemas } from '../src/cli/data.js';
import { DEMO_ORGS } from '../src/cli/demo.js';
import { createNetwork } from '../src/cli/network.js';
import { type NodeProcess, spawnNode, stopNode, waitHealthy } from '../src/cli/processes.js';
import { loadSigner } from '../src/crypto/keyfile.js';
import { getSuite } from '../src/crypto/suites.js';
import { enterpriseSubjectId } from '../src/dataspace/identifiers.js';
import { BUILTIN_SCHEMAS } from '../src/dataspace/schemas/catalog.js';
import { SyntheticData } from '../src/dataspace/synthetic.js';
import { CredenceClient } from '../src/sdk/client.js';
import { SubjectClient, registerSubject, requestAccess } from '../src/sdk/dataspace.js';
import { ProviderClient } from '../src/sdk/provider.js';
import { type CreditReport, type ProviderEndpoints, buildReport } from '../src/sdk/report.js';
import { createWallet } from '../src/sdk/wallet.js';

export interface ReportBenchOptions {
  readonly reports: number;
  readonly warmup: number;
  /** Background SMEs (persons are a third of this). */
  readonly smes: number;
  readonly port: number;
  readonly keep?: boolean;
}

const ORGS = DEMO_ORGS.slice(0, 6);
const CONSUMER = 'bank-b';
const CATEGORIES = ['tax', 'social-insurance', 'administrative', 'loan', 'judicial'];
const PURPOSE = 'LOAN_APPROVAL';
const CALL_ROWS = 5000;
const say = (s: string) => process.stderr.write(`${s}\n`);

const percentile = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};
const ms = (x: number) => Math.round(x * 100) / 100;

/** CPU time (ms) a process has used so far, from /proc (Linux); 0 where unavailable. */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
  } catch {
    return 0;
  }
}

async function importSources(byOrg: Map<string, CredenceClient>, data: SyntheticData): Promise<number> {
  let total = 0;
  for (const s of data.sources()) {
    const client = byOrg.get(s.provider);
    if (client === undefined) continue;
    for (let i = 0; i < s.rows.length; i += CALL_ROWS) {
      const r = await new ProviderClient(client).importRows(s.schema, s.rows.slice(i, i + CALL_ROWS));
      if (r.errors.length > 0 || r.pending.length > 0) throw new Error(`${s.provider} ${s.schema}: ${r.errors.length} errors, ${r.pending.length} pending`);
      total += r.anchored;
    }
    say(`  ${s.provider} imported ${s.rows.length} ${s.schema} records`);
  }
  return total;
}

/** The measured SME: a wallet, registered by zj-credit, a dispute on its judgment, a consent for the consumer. */
async function prepareSubject(dir: string, byOrg: Map<string, CredenceClient>, urls: ProviderEndpoints, uscc: string): Promise<string> {
  const suite = getSuite('default');
  const subject = enterpriseSubjectId(uscc);
  const wallet = createWallet(join(dir, 'sme-wallet.json'), suite);
  const registrar = byOrg.get('zj-credit') as CredenceClient;
  const reg = await registerSubject(registrar, subject, wallet.publicKey);
  if (reg.code !== 'OK') throw new Error(`subject registration refused: ${reg.code}`);
  const at = (org: string) => new SubjectClient(new CredenceClient({ url: urls[org] as string, suite, signer: wallet.signer }), wallet.signer);
  const judgment = (await at('zj-credit').view()).records.find((r) => r.category === 'judicial' && r.status === 'active' && (r.expiresAt ?? 0) > Date.now());
  if (judgment !== undefined) await at('court').openDispute(judgment.id, 'The judgment was performed in full; receipts are with the court.');
  const g = await at('zj-credit').grantConsent({ consumer: CONSUMER, categories: CATEGORIES, purpose: PURPOSE, expiresAt: Date.now() + 30 * 86_400_000 });
  if (g.result.code !== 'OK') throw new Error(`consent refused: ${g.result.code}`);
  return g.consentId;
}

/**
 * Import the synthetic sources and prepare SME 0 (it has records at all five providers: tax,
 * zj-credit, js-credit, bank-a, court). The generated data is not kept: the benchmark client
 * then holds only what the reports need, so its own collections stay short.
 */
async function prepareData(dir: string, smes: number, byOrg: Map<string, CredenceClient>, urls: ProviderEndpoints) {
  const data = new SyntheticData({ smes, persons: Math.ceil(smes / 3), years: 4 });
  say(`importing ${data.smes.length} SMEs and ${data.persons.length} persons, 4 years of records`);
  const imported = await importSources(byOrg, data);
  const uscc = data.smes[0] as string;
  return { imported, subject: enterpriseSubjectId(uscc), consentId: await prepareSubject(dir, byOrg, urls, uscc) };
}

function checkReport(r: CreditReport): void {
  const ok = r.providers.filter((p) => p.status === 'ok').length;
  if (!r.complete || ok !== 5) {
    const bad = r.providers.filter((p) => p.status !== 'ok').map((p) => `${p.provider}: ${p.status} ${p.error?.code ?? ''}`);
    throw new Error(`report incomplete (${ok} providers ok, ${r.missing.length} records missing; ${bad.join(', ')})`);
  }
}

interface Sample {
  readonly accessMs: number;
  readonly assemblyMs: number;
  readonly records: number;
}

async function oneReport(bank: CredenceClient, subject: string, consentId: string, urls: ProviderEndpoints): Promise<Sample> {
  const t0 = performance.now();
  const d = await requestAccess(bank, { subject, consentId, categories: CATEGORIES, purpose: PURPOSE });
  if (d.status !== 'authorized') throw new Error(`access ${d.status}: ${d.reason}`);
  const t1 = performance.now();
  const report = await buildReport(bank, d.accessId, { providers: urls, subject });
  const t2 = performance.now();
  checkReport(report);
  return { accessMs: t1 - t0, assemblyMs: t2 - t1, records: report.records.length };
}

/** The reference, same run: a signed REST round trip to the consumer's node (GET /v1/info), p50. */
async function roundTripP50(client: CredenceClient, n = 50): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.info();
    times.push(performance.now() - t0);
  }
  return percentile(times, 50);
}

async function startAll(dir: string, layout: ReturnType<typeof createNetwork>): Promise<NodeProcess[]> {
  const procs = layout.nodes.map((n) => spawnNode(n.orgId, n.url, n.config, join(dir, `${n.orgId}.out`)));
  await Promise.all(procs.map((p) => waitHealthy(p)));
  return procs;
}

function summary(samples: readonly Sample[]) {
  const assembly = samples.map((s) => s.assemblyMs);
  const access = samples.map((s) => s.accessMs);
  const total = samples.map((s) => s.accessMs + s.assemblyMs);
  return {
    p50Ms: ms(percentile(assembly, 50)),
    p95Ms: ms(percentile(assembly, 95)),
    maxMs: ms(Math.max(...assembly)),
    accessP50Ms: ms(percentile(access, 50)),
    accessP95Ms: ms(percentile(access, 95)),
    endToEndP50Ms: ms(percentile(total, 50)),
    endToEndP95Ms: ms(percentile(total, 95)),
  };
}

export async function runReportBench(o: ReportBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'credence-bench-report-'));
  const layout = createNetwork({ dir, orgs: ORGS, suite: 'default', chainId: 'credence-bench-report', host: '127.0.0.1', basePort: o.port });
  const suite = getSuite('default');
  const clients = layout.nodes.map((n) => new CredenceClient({ url: n.url, suite, signer: loadSigner(suite, n.keyFile), chainId: layout.chainId }));
  const byOrg = new Map(layout.nodes.map((n, i) => [n.orgId, clients[i] as CredenceClient]));
  const urls: ProviderEndpoints = Object.fromEntries(layout.nodes.map((n) => [n.orgId, n.url]));
  say(`starting ${layout.nodes.length} nodes (${layout.nodes.map((n) => n.orgId).join(', ')}) in ${dir}`);
  const procs = await startAll(dir, layout);
  try {
    const [first, ...rest] = clients as [CredenceClient, ...CredenceClient[]];
    await registerSchemas(
      first,
      rest,
      BUILTIN_SCHEMAS.map((s) => s.id),
    );
    const { imported, subject, consentId } = await prepareData(dir, o.smes, byOrg, urls);
    const bank = byOrg.get(CONSUMER) as CredenceClient;
    const samples: Sample[] = [];
    const total = o.warmup + o.reports;
    let cpu0: number[] = [];
    let load0 = 0;
    for (let i = 0; i < total; i++) {
      if (i === o.warmup) {
        cpu0 = procs.map((p) => cpuMsOf(p.child.pid));
        load0 = loadavg()[0] ?? 0;
      }
      const s = await oneReport(bank, subject, consentId, urls);
      if (i >= o.warmup) samples.push(s);
      if ((i + 1) % 10 === 0 || i + 1 === total) process.stderr.write(`\rreports ${i + 1}/${total} (${o.warmup} warm-up)`);
    }
    process.stderr.write('\n');
    const cpuByNode = procs.map((p, i) => [p.orgId, ms((cpuMsOf(p.child.pid) - (cpu0[i] ?? 0)) / samples.length)] as const);
    const stats = summary(samples);
    const reference = await roundTripP50(bank);
    return {
      bench: 'report',
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavg1: ms(load0),
      nodes: procs.length,
      providers: 5,
      records: samples[0]?.records ?? 0,
      importedRecords: imported,
      reports: samples.length,
      warmup: o.warmup,
      ...stats,
      nodeCpuMsPerReport: ms(cpuByNode.reduce((n, [, c]) => n + c, 0)),
      cpuMsPerReportByNode: Object.fromEntries(cpuByNode),
      referenceRoundTripP50Ms: ms(reference),
      ratioP50ToRoundTrip: ms(stats.p50Ms / reference),
      target: { p95Ms: 50 },
      targetMet: stats.p95Ms <= 50,
    };
  } finally {
    await Promise.all(procs.map((p) => stopNode(p)));
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
