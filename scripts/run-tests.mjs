// Run every compiled test file with node's test runner. Unit tests live beside the code
// (src/**/*.test.ts), real-process integration and fault tests in test/. Files run two at a
// time: the machine has two cores and the integration tests start real node processes.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = (only.length > 0 ? only : ['dist/src', 'dist/test'].filter((d) => existsSync(d))).flatMap((d) => (d.endsWith('.js') ? [d] : find(d))).sort();
const args = ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files];
const res = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, CREDENCE_TEST: '1' } });
process.exit(res.status ?? 1);
