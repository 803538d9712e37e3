// `credence bench …`: benchmarks that print one JSON object as their last line.

import type { Command } from 'commander';
import { runAggregateBench } from '../../bench/aggregate.js';
import { runAnchorBench } from '../../bench/anchor.js';
import { runChaos } from '../../bench/chaos.js';
import { runLedgerBench } from '../../bench/ledger.js';
import { runNetworkBench } from '../../bench/network.js';
import { runPsiBench } from '../../bench/psi.js';
import { runReportBench } from '../../bench/report.js';
import { runZkBench } from '../../bench/zk.js';
import { CredenceError } from '../util/errors.js';
import { fail } from './output.js';

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks (each prints one JSON object as its last line)');
  registerNetworkBench(bench);
  registerAnchorBench(bench);
  registerReportBench(bench);
  registerChaos(program);
  bench
    .command('ledger')
    .description('throughput and latency of one node with solo ordering, against the raw signature-verify rate')
    .option('--seconds <n>', 'length of the saturation window', '30')
    .option('--latency-seconds <n>', 'length of the 80%-load latency window', '20')
    .option('--suite <name>', 'crypto suite: default or gm', 'default')
    .option('--port <port>', 'API port for the node under test', '7301')
    .option('--keep', 'keep the temporary network directory')
    .action(async (o: { seconds: string; latencySeconds: string; suite: string; port: string; keep?: boolean }) => {
      try {
        if (o.suite !== 'default' && o.suite !== 'gm') throw new CredenceError('USAGE', '--suite must be default or gm');
        const result = await runLedgerBench({
          suite: o.suite,
          seconds: Number(o.seconds),
          latencySeconds: Number(o.latencySeconds),
          port: Number(o.port),
          ...(o.keep ? { keep: true } : {}),
        });
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } catch (e) {
        fail(e);
      }
    });
  bench
    .command('psi')
    .description('our ECDH-PSI against @openmined/psi.js on the same two random sets, with the raw X25519 rate')
    .option('--size <n>', 'items in each set', '10000')
    .option('--no-peer', 'skip @openmined/psi.js (for large sizes)')
    .action(async (o: { size: string; peer: boolean }) => {
      try {
        const size = Number(o.size);
        if (!Number.isInteger(size) || size < 1 || size > 2_000_000) throw new CredenceError('USAGE', '--size must be an integer from 1 to 2000000');
        process.stdout.write(`${JSON.stringify(await runPsiBench({ size, peer: o.peer }))}\n`);
      } catch (e) {
        fail(e);
      }
    });
  bench
    .command('zk')
    .description('prove and verify "score >= T and no overdue payments" on a signed credential (median times)')
    .option('--runs <n>', 'measured runs', '9')
    .action((o: { runs: string }) => {
      try {
        const runs = Number(o.runs);
        if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new CredenceError('USAGE', '--runs must be an integer from 1 to 1000');
        process.stdout.write(`${JSON.stringify(runZkBench(runs))}\n`);
      } catch (e) {
        fail(e);
      }
    });
  bench
    .command('aggregate')
    .description(
      'secure aggregation: N banks secret-share amounts for K SMEs, each share sealed (HPKE) to one of 2-3 aggregators over loopback HTTP; reference: the same without sealing',
    )
    .option('--banks <n>', 'banks', '10')
    .option('--items <n>', 'SMEs in the query set', '100000')
    .option('--aggregators <n>', 'aggregator nodes (2 or 3)', '3')
    .action(async (o: { banks: string; items: string; aggregators: string }) => {
      try {
        const banks = Number(o.banks);
        const items = Number(o.items);
        const aggregators = Number(o.aggregators);
        if (!Number.isInteger(banks) || banks < 1 || banks > 64) throw new CredenceError('USAGE', '--banks must be an integer from 1 to 64');
        if (!Number.isInteger(items) || items < 1 || items > 1_000_000) throw new CredenceError('USAGE', '--items must be an integer from 1 to 1000000');
        if (aggregators !== 2 && aggregators !== 3) throw new CredenceError('USAGE', '--aggregators must be 2 or 3');
        process.stdout.write(`${JSON.stringify(await runAggregateBench({ banks, items, aggregators }))}\n`);
      } catch (e) {
        fail(e);
      }
    });
}

function registerNetworkBench(bench: Command): void {
  bench
    .command('network')
    .description('throughput and latency of an etcd-ordered network of N organizations on this machine')
    .option('-n, --orgs <n>', 'organizations (one node each)', '4')
    .option('--ordering <kind>', 'ordering service: etcd', 'etcd')
    .option('--seconds <n>', 'length of the saturation window (txPerSec)', '20')
    .option('--latency-seconds <n>', 'length of the 80%-load latency window (p50Ms, p99Ms)', '15')
    .option('--batch <n>', 'transactions per submit', '100')
    .option('--concurrency <n>', 'batches in flight per node while saturating', '2')
    .option('--cut-timeout-ms <ms>', 'block cut timeout in the genesis (default 50, as bench ledger)')
    .option('--port <port>', 'API port of the first node (etcd uses port+100…)', '7401')
    .option('--keep', 'keep the temporary network directory')
    .action(
      jsonAction(
        async (o: {
          orgs: string;
          ordering: string;
          seconds: string;
          latencySeconds: string;
          batch: string;
          concurrency: string;
          cutTimeoutMs?: string;
          port: string;
          keep?: boolean;
        }) => {
          if (o.ordering !== 'etcd') throw new CredenceError('USAGE', '--ordering must be etcd (solo is measured by "bench ledger")');
          return runNetworkBench({
            orgs: Number(o.orgs),
            seconds: Number(o.seconds),
            latencySeconds: Number(o.latencySeconds),
            batch: Number(o.batch),
            concurrency: Number(o.concurrency),
            ...(o.cutTimeoutMs === undefined ? {} : { cutTimeoutMs: Number(o.cutTimeoutMs) }),
            basePort: Number(o.port),
            ...(o.keep ? { keep: true } : {}),
          });
        },
      ),
    );
}

function registerAnchorBench(bench: Command): void {
  bench
    .command('anchor')
    .description('import, encrypt and anchor records on one provider node, against the raw per-record crypto rate')
    .option('--records <n>', 'records to import (timed)', '100000')
    .option('--warmup <n>', 'records imported first, untimed, so the timed import runs on compiled code (0: none)', '50000')
    .option('--concurrency <n>', 'import calls (of 5,000 rows) in flight', '4')
    .option('--port <port>', 'API port for the node under test', '7351')
    .option('--keep', 'keep the temporary network directory')
    .action(
      jsonAction(async (o: { records: string; warmup: string; concurrency: string; port: string; keep?: boolean }) => {
        const records = Number(o.records);
        const warmup = intOption(o.warmup, '--warmup', 0, 1_000_000);
        const concurrency = Number(o.concurrency);
        if (!Number.isInteger(records) || records < 1 || records > 2_000_000)
          throw new CredenceError('USAGE', '--records must be an integer from 1 to 2000000');
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) throw new CredenceError('USAGE', '--concurrency must be from 1 to 32');
        return runAnchorBench({ records, warmup, concurrency, port: Number(o.port), ...(o.keep ? { keep: true } : {}) });
      }),
    );
}

/** A whole number option within [min, max], or a USAGE error naming it. */
function intOption(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CredenceError('USAGE', `${flag} must be an integer from ${min} to ${max}`);
  return n;
}

function registerReportBench(bench: Command): void {
  const run = async (o: { reports: string; warmup: string; smes: string; port: string; keep?: boolean }) =>
    runReportBench({
      reports: intOption(o.reports, '--reports', 1, 100_000),
      warmup: intOption(o.warmup, '--warmup', 0, 10_000),
      smes: intOption(o.smes, '--smes', 1, 20_000),
      port: intOption(o.port, '--port', 1024, 65_000),
      ...(o.keep ? { keep: true } : {}),
    });
  bench
    .command('report')
    .description('credit-report assembly for one subject from 5 providers on 6 real nodes (p50Ms, p95Ms), each report under its own on-chain access')
    .option('--reports <n>', 'measured reports', '200')
    .option('--warmup <n>', 'reports before measuring', '20')
    .option('--smes <n>', 'SMEs in the synthetic data (background subjects; persons are a third of this)', '300')
    .option('--port <port>', 'API port of the first node (six consecutive ports)', '7601')
    .option('--keep', 'keep the temporary network directory')
    .action(jsonAction(run));
}

function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description('fault mix under load on an etcd network (kill/restart nodes, kill etcd members, pause nodes); checks nothing is lost, duplicated or forked')
    .option('--duration <seconds>', 'how long to inject faults', '60')
    .option('--seed <n>', 'seed of the fault schedule', '20261121')
    .option('-n, --orgs <n>', 'organizations', '3')
    .option('--port <port>', 'API port of the first node (etcd uses port+100…)', '7501')
    .option('--keep', 'keep the temporary network directory')
    .action(
      jsonAction(async (o: { duration: string; seed: string; orgs: string; port: string; keep?: boolean }) => {
        const report = await runChaos({
          durationSec: Number(o.duration),
          seed: Number(o.seed),
          orgs: Number(o.orgs),
          basePort: Number(o.port),
          log: (s) => process.stderr.write(`${s}\n`),
          ...(o.keep ? { keep: true } : {}),
        });
        if (report.lost + report.duplicated + report.diverged + report.forkedWhileOrderingDown > 0) process.exitCode = 1;
        return report;
      }),
    );
}

/** Run a benchmark action and print its result as the last line (errors: coded, exit 1). */
function jsonAction<A>(fn: (o: A) => Promise<unknown>): (o: A) => Promise<void> {
  return async (o) => {
    try {
      process.stdout.write(`${JSON.stringify(await fn(o))}\n`);
    } catch (e) {
      fail(e);
    }
  };
}
