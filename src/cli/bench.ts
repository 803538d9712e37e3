// `credence bench …`: benchmarks that print one JSON object as their last line.

import type { Command } from 'commander';
import { runLedgerBench } from '../../bench/ledger.js';
import { runPsiBench } from '../../bench/psi.js';
import { runZkBench } from '../../bench/zk.js';
import { CredenceError } from '../util/errors.js';
import { fail } from './output.js';

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks (each prints one JSON object as its last line)');
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
}
