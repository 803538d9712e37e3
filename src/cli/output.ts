// Terminal output for the CLI: errors as "error CODE: message" (and a non-zero exit), a
// progress bar on stderr when it is a terminal, and JSON printing.

import { isCredenceError } from '../util/errors.js';

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

export function fail(e: unknown): never {
  if (isCredenceError(e)) process.stderr.write(`error ${e.code}: ${e.message}\n`);
  else process.stderr.write(`error INTERNAL: ${(e as Error)?.message ?? String(e)}\n`);
  process.exit(isCredenceError(e) && e.code === 'USAGE' ? 2 : 1);
}

/** Wraps a command action: any error is printed as `error CODE: message` with a non-zero exit. */
export const run =
  <A extends unknown[]>(fn: (...a: A) => Promise<void> | void) =>
  async (...a: A) => {
    try {
      await fn(...a);
    } catch (e) {
      fail(e);
    }
  };

export class Progress {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly label: string) {}

  update(done: number, total: number): void {
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (this.tty) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${total}`);
      if (done >= total) process.stderr.write('\n');
    } else if (done >= total) {
      process.stderr.write(`${this.label}: ${done}/${total}\n`);
    }
  }
}

/** Rows as left-aligned columns two spaces apart (the first row is the header). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
