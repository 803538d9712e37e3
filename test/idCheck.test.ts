// `credence id check` through the real CLI: exit codes, the pilot flag, and that a personal
// ID number (valid or not) is never printed back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli } from './helpers.js';

describe('credence id check', () => {
  it('accepts valid codes and numbers (exit 0) and refuses invalid ones (exit 1)', () => {
    for (const v of ['91110000600037341L', '91310115MA1K3CUM7M', '11010519491231002X', '360426199101010071']) {
      assert.equal(cli(['id', 'check', v]).status, 0, v);
    }
    for (const v of ['91110000600037341K', '110105194912310021', 'hello', '91350100M0001TGQXM']) {
      assert.equal(cli(['id', 'check', v]).status, 1, v);
    }
  });

  it('pilot-era codes pass only with --allow-pilot, and say so', () => {
    const plain = cli(['id', 'check', '91350100M0001TGQXM']);
    assert.equal(plain.status, 1);
    assert.match(plain.stdout, /--allow-pilot/);
    const flagged = cli(['id', 'check', '91350100M0001TGQXM', '--allow-pilot', '--json']);
    assert.equal(flagged.status, 0);
    assert.deepEqual(JSON.parse(flagged.stdout), { valid: true, kind: 'uscc', pilot: true });
  });

  it('never echoes a personal ID number, valid or invalid', () => {
    const cases: [string, string[]][] = [
      ['11010519491231002X', []],
      ['360426199101010071', ['--json']],
      ['110105194912310021', ['--allow-pilot']],
      ['360426199101010072', ['--type', 'uscc', '--allow-pilot']],
      ['3604261991010100', ['--type', 'resident', '--json']],
    ];
    for (const [v, extra] of cases) {
      const r = cli(['id', 'check', v, ...extra]);
      const out = r.stdout + r.stderr;
      assert.ok(!out.includes(v.slice(0, 14)), `${extra.join(' ')} printed the number`);
      assert.ok(!out.includes(v.slice(6, 14)), 'printed the birth date');
    }
  });
});
