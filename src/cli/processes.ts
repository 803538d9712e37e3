// Node processes for the demo and the benchmarks: spawn `credence node start` as real child
// processes, wait until they are healthy, and stop them cleanly.

import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CredenceError, Codes } from '../util/errors.js';

export const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface NodeProcess {
  readonly orgId: string;
  readonly url: string;
  readonly child: ChildProcess;
}

/** `node [flags] main.js node start --config FILE`; CREDENCE_NODE_FLAGS adds node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
export function nodeStartArgs(configFile: string): string[] {
  const flags = (process.env.CREDENCE_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  return [...flags, CLI_MAIN, 'node', 'start', '--config', configFile];
}

/**
 * V8 options for node processes. A block keeps thousands of decoded transactions alive across
 * young-generation collections; a 64 MiB semi-space (default 16) lets most of them die young
 * instead of being copied and promoted, which cut main-thread GC time by about a third at
 * benchmark load. Passed in NODE_OPTIONS, not argv, so that worker threads (which refuse
 * V8 heap flags in their execArgv) do not inherit it.
 */
export const NODE_PROCESS_V8_OPTIONS = '--max-semi-space-size=64';

/** The environment for a node process: ours plus NODE_PROCESS_V8_OPTIONS. */
export function nodeProcessEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${NODE_PROCESS_V8_OPTIONS}`.trim() };
}

export function spawnNode(orgId: string, url: string, configFile: string, outFile: string): NodeProcess {
  const out = openSync(outFile, 'a');
  const child = spawn(process.execPath, nodeStartArgs(configFile), { stdio: ['ignore', out, out], env: nodeProcessEnv() });
  return { orgId, url, child };
}

export async function waitHealthy(p: NodeProcess, timeoutMs = 60_000): Promise<void> {
  await waitNodeHealthy(p.url, p.orgId, p.child, timeoutMs);
}

/**
 * Wait until the node of `orgId` answers ok on `url`. A different node answering there does
 * not count (ours then cannot bind the port and exits, which is reported with its code).
 */
export async function waitNodeHealthy(url: string, orgId: string, child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && child.exitCode !== null)
      throw new CredenceError(Codes.UNAVAILABLE, `node ${orgId} exited with code ${child.exitCode}; see its node.log`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      const body = res.ok ? ((await res.json()) as { orgId?: unknown }) : undefined;
      if (body?.orgId === orgId) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new CredenceError(Codes.TIMEOUT, `node ${orgId} did not become healthy within ${timeoutMs} ms; see its node.log`);
}

export async function stopNode(p: NodeProcess, timeoutMs = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
