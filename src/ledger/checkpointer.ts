// Background WAL checkpointing. Each committed block appends its pages to the WAL; copying
// them into the database file (the checkpoint) is I/O-heavy, so it runs in a worker thread
// instead of inside the commit on the main thread. If the worker falls behind, the writer's
// own auto-checkpoint (at a high threshold) still bounds the WAL's size.

import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** Pages after which the writer checkpoints by itself (about 256 MiB of WAL). */
export const WAL_FALLBACK_PAGES = 65_536;

export class WalCheckpointer {
  private readonly worker: Worker;

  constructor(path: string, intervalMs = 200) {
    this.worker = new Worker(new URL('./checkpointWorker.js', import.meta.url), { workerData: { path, intervalMs } });
    this.worker.unref();
    this.worker.on('error', () => {
      // The fallback auto-checkpoint keeps the WAL bounded without us.
    });
  }

  async close(): Promise<void> {
    const exited = once(this.worker, 'exit');
    this.worker.postMessage('stop');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    await this.worker.terminate();
  }
}
