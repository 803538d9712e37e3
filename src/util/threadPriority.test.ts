import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

const onLinux = process.platform === 'linux';

describe('lowerThreadPriority', () => {
  it('lowers only the calling thread, by the given steps', { skip: !onLinux && 'per-thread nice is Linux only' }, async () => {
    const mainTid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const before = getPriority(mainTid);
    const moduleUrl = new URL('./threadPriority.js', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { readlinkSync } = require('node:fs');
      const { getPriority } = require('node:os');
      import(${JSON.stringify(moduleUrl)}).then(({ lowerThreadPriority }) => {
        const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
        const was = getPriority(tid);
        const ok = lowerThreadPriority(3);
        parentPort.postMessage({ tid, was, ok, now: getPriority(tid) });
      });`;
    const w = new Worker(code, { eval: true });
    const [r] = (await once(w, 'message')) as [{ tid: number; was: number; ok: boolean; now: number }];
    await w.terminate();
    assert.notEqual(r.tid, mainTid);
    assert.equal(r.ok, true);
    assert.equal(r.now, Math.min(19, r.was + 3));
    assert.equal(getPriority(mainTid), before, 'the main thread keeps its priority');
  });
});
