// Background threads yield to the main thread: on Linux, nice values are per thread, so a
// worker can lower its own priority by its thread id (read from /proc/thread-self). The main
// thread of a node commits blocks, so it is on every transaction's critical path; with more
// busy threads than cores, an equal share would stretch each commit and every latency with it.

import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Raise this thread's nice value by `by` (capped at 19). Returns false where unsupported. */
export function lowerThreadPriority(by: number): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, Math.min(19, getPriority(tid) + by));
    return true;
  } catch {
    return false;
  }
}
