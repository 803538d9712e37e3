import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isCredenceError } from '../util/errors.js';
import { ServedAccesses } from './served.js';

const code = (c: string) => (e: unknown) => isCredenceError(e) && e.code === c;
const id = (n: number) => n.toString(16).padStart(64, '0');

describe('ServedAccesses', () => {
  it('refuses a second claim, also after the file is closed and reopened (a node restart)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'credence-served-'));
    try {
      const file = join(dir, 'served.db');
      const a = new ServedAccesses(file);
      a.claim(id(1), 2000, 1000);
      assert.throws(() => a.claim(id(1), 2000, 1000), code('ACCESS_REPLAYED'));
      a.claim(id(2), 2000, 1000);
      a.release(id(2));
      a.close();
      const b = new ServedAccesses(file);
      assert.throws(() => b.claim(id(1), 2000, 1500), code('ACCESS_REPLAYED'));
      b.claim(id(2), 2000, 1500);
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is bounded: when full it forgets lapsed ids, and refuses new ones while none has lapsed', () => {
    const s = new ServedAccesses(':memory:', 3);
    s.claim(id(1), 100, 0);
    s.claim(id(2), 500, 0);
    s.claim(id(3), 500, 0);
    assert.throws(() => s.claim(id(4), 500, 50), code('UNAVAILABLE'));
    s.claim(id(4), 500, 200); // id(1) lapsed at 100 and is forgotten
    assert.throws(() => s.claim(id(5), 900, 200), code('UNAVAILABLE'));
    assert.throws(() => s.claim(id(2), 900, 200), code('ACCESS_REPLAYED'));
    s.close();
  });
});
