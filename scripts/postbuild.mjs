// After tsc: make the compiled CLI executable (npm links bin files, but a direct path needs the
// bit), and delete compiled files whose TypeScript source is gone (tsc never removes them, and
// the test runner would still run a deleted test's stale copy).
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'dist/src/cli/main.js');
if (existsSync(main)) chmodSync(main, 0o755);

function sourceOf(compiled) {
  const rel = compiled.slice(join(root, 'dist').length + 1);
  return join(root, rel.replace(/\.js(\.map)?$/, '.ts'));
}

function prune(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) prune(path);
    else if (/\.js(\.map)?$/.test(e.name) && !existsSync(sourceOf(path))) rmSync(path);
  }
}

for (const top of ['src', 'bench', 'test']) prune(join(root, 'dist', top));
