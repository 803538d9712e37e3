// Make the compiled CLI executable (npm links bin files, but a direct path needs the bit).
import { chmodSync, existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(main)) chmodSync(main, 0o755);
