// Dataset upload parts: whole lines, in order, nothing lost or added, each within the limit
// unless one line alone is longer.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { splitLines } from './privacy.js';

const lines = fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '7', '\n'), maxLength: 40 }), { maxLength: 30 }).map((xs) => Buffer.from(xs.join('\n')));

describe('splitLines', () => {
  it('gives back the input, in parts of whole lines within the limit', () => {
    fc.assert(
      fc.property(lines, fc.integer({ min: 1, max: 64 }), (data, max) => {
        const parts = splitLines(data, max);
        assert.deepEqual(Buffer.concat(parts), data);
        parts.forEach((p, i) => {
          const last = i === parts.length - 1;
          if (!last) assert.equal(p[p.byteLength - 1], 0x0a, 'a part other than the last ends at a line end');
          const nl = p.indexOf(0x0a);
          if (p.byteLength > max) assert.ok(nl === -1 || nl === p.byteLength - 1, 'a part over the limit is a single line');
        });
      }),
    );
  });

  it('keeps a small dataset in one part', () => {
    assert.equal(splitLines(Buffer.from('a\nb\n'), 1024).length, 1);
    assert.equal(splitLines(new Uint8Array(0), 1024).length, 1);
  });
});
