// `credence report SUBJECT --access ID`: the consumer's node gathers every authorized record
// from every provider, verifies each against the chain, and the CLI writes the report as
// JSON and as a self-contained HTML page. Providers' URLs come from the network layout
// (network.json beside the node directories), from --provider org=url, and from the node's
// etcd peers.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ProviderEndpoints } from '../sdk/report.js';
import { buildReport } from '../sdk/report.js';
import { renderReportHtml } from '../sdk/reportHtml.js';
import { CredenceError } from '../util/errors.js';
import { run } from './commands.js';
import { type ConnectOpts, addConnectOptions, connect } from './connect.js';

interface ReportOpts extends ConnectOpts {
  access: string;
  out?: string;
  html?: string;
  network?: string;
  provider: string[];
}

/** network.json of `credence network create`: given, or found two levels above the node config. */
function layoutEndpoints(o: ReportOpts): ProviderEndpoints {
  const file = o.network ?? (o.config === undefined ? undefined : join(dirname(resolve(o.config)), '..', '..', 'network.json'));
  if (file === undefined || !existsSync(file)) {
    if (o.network !== undefined) throw new CredenceError('USAGE', `${o.network} does not exist`);
    return {};
  }
  try {
    const layout = JSON.parse(readFileSync(file, 'utf8')) as { nodes?: { orgId?: unknown; url?: unknown }[] };
    return Object.fromEntries((layout.nodes ?? []).flatMap((n) => (typeof n.orgId === 'string' && typeof n.url === 'string' ? [[n.orgId, n.url]] : [])));
  } catch {
    throw new CredenceError('CONFIG', `${file} is not a network layout (network.json)`);
  }
}

function providerFlag(v: string, prev: string[]): string[] {
  if (!/^[a-z][a-z0-9-]{0,31}=https?:\/\/\S+$/.test(v))
    throw new CredenceError('USAGE', `--provider takes org=url, e.g. court=http://127.0.0.1:7003 (got ${v.slice(0, 40)})`);
  return [...prev, v];
}

export function registerReport(program: Command): void {
  addConnectOptions(
    program
      .command('report <subject>')
      .description(
        "a verified credit report on a subject from every provider, under an access your organization was granted (connect to your own organization's node)",
      ),
  )
    .requiredOption('--access <id>', 'access id (from `credence access request`)')
    .option('-o, --out <file>', 'write the report as JSON here (default: print it)')
    .option('--html <file>', 'also write a readable, self-contained HTML page')
    .option('--network <file>', "network.json giving providers' URLs (default: beside the node directories of --config)")
    .option('--provider <org=url>', "a provider's node URL (repeatable)", providerFlag, [])
    .action(
      run(async (subject: string, o: ReportOpts) => {
        const named = Object.fromEntries(o.provider.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
        process.stderr.write('gathering and verifying deliveries from the providers...\n');
        const report = await buildReport(connect(o), o.access, { providers: { ...layoutEndpoints(o), ...named }, subject });
        const json = `${JSON.stringify(report, null, 2)}\n`;
        if (o.out === undefined) process.stdout.write(json);
        else writeFileSync(o.out, json, { mode: 0o600 });
        if (o.html !== undefined) writeFileSync(o.html, renderReportHtml(report), { mode: 0o600 });
        const failed = report.providers.filter((p) => p.status !== 'ok');
        process.stderr.write(
          `${report.records.length} verified record(s) from ${report.providers.length - failed.length} provider(s)${o.out === undefined ? '' : ` -> ${o.out}`}${o.html === undefined ? '' : `, ${o.html}`}\n`,
        );
        for (const p of failed) process.stderr.write(`provider ${p.provider}: ${p.status} ${p.error?.code ?? ''} ${p.error?.message ?? ''}\n`);
        if (!report.complete) {
          process.stderr.write(`the report is incomplete: ${report.missing.length} record(s) missing\n`);
          process.exitCode = 1;
        }
      }),
    );
}
