// Fresh random bytes for hot paths that need many small values (a salt and a data key per
// imported record): one CSPRNG call fills a pool, each caller gets its own copy of bytes no
// one else was given, and used pool bytes are zeroed. Same source as randomBytes, far fewer
// system calls.

import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 16 * 1024;
const pool = new Uint8Array(POOL_BYTES);
let used = POOL_BYTES;

/** `n` fresh random bytes (n at most 1,024); never shared with another caller. */
export function freshRandom(n: number): Uint8Array {
  return freshRandomInto(new Uint8Array(n));
}

/** Fill `out` (at most 1,024 bytes) with fresh random bytes, never shared with another caller; returns it. */
export function freshRandomInto<T extends Uint8Array>(out: T): T {
  const n = out.byteLength;
  if (n > 1024) throw new RangeError('freshRandom takes 0 to 1024 bytes');
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  out.set(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}
