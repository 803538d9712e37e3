// Pre-sign many transactions on all cores (before a benchmark's clock starts).

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SignJob } from './signWorker.js';

export async function presign(job: Omit<SignJob, 'start' | 'count'>, count: number, onProgress?: (done: number) => void): Promise<Uint8Array[]> {
  const threads = Math.max(1, availableParallelism());
  const per = Math.ceil(count / threads);
  let done = 0;
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const start = t * per;
      const n = Math.max(0, Math.min(per, count - start));
      return new Promise<Uint8Array[]>((resolve, reject) => {
        if (n === 0) return resolve([]);
        const w = new Worker(new URL('./signWorker.js', import.meta.url), { workerData: { ...job, start, count: n } });
        w.once('message', (m: Uint8Array[]) => {
          done += m.length;
          onProgress?.(done);
          resolve(m.map((b) => new Uint8Array(b)));
          void w.terminate();
        });
        w.once('error', reject);
      });
    }),
  );
  return parts.flat();
}
