// The privacy-computing calls of the typed client: datasets kept on a node (uploaded in parts
// when large), starting PSI, secure-aggregation and scorecard jobs, watching a job to its end,
// and zero-knowledge threshold jobs. Every call is a signed member request (see client.ts).

import type { JsonValue } from '../codec/canonicalJson.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { CredenceClient } from './client.js';

/** Below a node's default 16 MiB body limit, with room to spare. */
export const DATASET_PART_BYTES = 8 * 1024 * 1024;
const PART_BYTES_MIN = 1024;
const POLL_MS = 250;

export interface PsiStart {
  readonly dataset: string;
  readonly peerUrl: string;
  readonly peerOrg: string;
  readonly peerDataset: string;
  /** 'set' (default): learn the common items; 'size': learn only how many there are. */
  readonly mode?: 'set' | 'size';
  readonly purpose?: string;
  /** For person pseudonyms: the subjects' consents and the categories they must cover. */
  readonly consents?: readonly string[];
  readonly categories?: readonly string[];
}

export interface PartyRef {
  readonly org: string;
  readonly url: string;
}

export interface AggregateStart {
  /** The query set of SME codes on the recipient's node. */
  readonly dataset: string;
  /** Each bank's node and its amounts dataset ("code,amount" lines). */
  readonly banks: readonly (PartyRef & { readonly dataset: string })[];
  /** Two or three aggregator nodes. */
  readonly aggregators: readonly PartyRef[];
  readonly purpose?: string;
}

export interface ModelStart {
  readonly scorecard: { readonly weights: readonly number[]; readonly bias: number };
  readonly subject: string;
  readonly peerUrl: string;
  readonly peerOrg: string;
  readonly peerDataset: string;
  readonly purpose?: string;
}

/** This node's view of a job (null if it never ran here) and the job's record on chain. */
export interface PrivacyJobStatus {
  readonly local: {
    readonly status: string;
    readonly phase: string;
    readonly done: number;
    readonly total: number;
    readonly result?: JsonValue;
    readonly error?: { readonly code: string; readonly message: string };
  } | null;
  readonly chain: JsonValue;
}

export interface UploadOptions {
  readonly partBytes?: number;
  readonly onProgress?: (sentBytes: number, totalBytes: number) => void;
}

export interface WatchOptions {
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Split at line ends into parts of at most `max` bytes (a single longer line is its own part). */
export function splitLines(data: Uint8Array, max: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  while (start < data.byteLength) {
    let end = Math.min(data.byteLength, start + max);
    if (end < data.byteLength) {
      const nl = data.lastIndexOf(0x0a, end - 1);
      end = nl >= start ? nl + 1 : data.indexOf(0x0a, end) + 1 || data.byteLength;
    }
    parts.push(data.subarray(start, end));
    start = end;
  }
  return parts.length > 0 ? parts : [data];
}

const jobPath = (id: string) => `/v1/privacy/jobs/${encodeURIComponent(id)}`;

/**
 * @example
 * const privacy = new PrivacyClient(client);
 * await privacy.putDataset('applicants', bytes);
 * const { id } = await privacy.startPsi({ dataset: 'applicants', peerUrl, peerOrg: 'court', peerDataset: 'debtors' });
 * const done = await privacy.waitForJob(id);
 */
export class PrivacyClient {
  constructor(private readonly client: CredenceClient) {}

  /** Store a dataset (one item per line) on the node, in ordered parts when it is large. */
  async putDataset(name: string, data: Uint8Array, o: UploadOptions = {}): Promise<JsonValue> {
    const partBytes = o.partBytes ?? DATASET_PART_BYTES;
    if (!Number.isInteger(partBytes) || partBytes < PART_BYTES_MIN) {
      throw new CredenceError(Codes.MALFORMED, `part size must be an integer of at least ${PART_BYTES_MIN} bytes`);
    }
    const path = `/v1/privacy/datasets/${encodeURIComponent(name)}`;
    const parts = splitLines(data, partBytes);
    if (parts.length === 1) return this.client.request('PUT', path, data);
    let result: JsonValue = null;
    let sent = 0;
    for (const [i, part] of parts.entries()) {
      result = await this.client.request('PUT', `${path}?part=${i}&parts=${parts.length}`, part);
      sent += part.byteLength;
      o.onProgress?.(sent, data.byteLength);
    }
    return result;
  }

  startPsi(s: PsiStart): Promise<{ id: string }> {
    return this.client.request('POST', '/v1/privacy/psi', s as unknown as JsonValue);
  }

  startAggregate(s: AggregateStart): Promise<{ id: string }> {
    return this.client.request('POST', '/v1/privacy/aggregate', s as unknown as JsonValue);
  }

  startModel(s: ModelStart): Promise<{ id: string }> {
    return this.client.request('POST', '/v1/privacy/model', s as unknown as JsonValue);
  }

  job(id: string): Promise<PrivacyJobStatus> {
    return this.client.request('GET', jobPath(id));
  }

  /** Poll a job until it is no longer running here; the last status is returned, done or failed. */
  async waitForJob(id: string, o: WatchOptions = {}): Promise<PrivacyJobStatus> {
    for (;;) {
      const s = await this.job(id);
      if (s.local !== null) o.onProgress?.(Math.min(s.local.done, s.local.total), s.local.total);
      if (s.local === null || s.local.status !== 'running') return s;
      if (o.signal?.aborted === true) throw new CredenceError(Codes.UNAVAILABLE, 'stopped watching the job');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** (verifier) Register a zero-knowledge threshold job; its id is the proof's context. */
  zkJob(threshold: number, purpose = 'CREDIT_CHECK'): Promise<{ jobId: string }> {
    return this.client.request('POST', '/v1/privacy/zk/jobs', { threshold, purpose });
  }

  /** (verifier) Submit {statement, proof}; the compute contract verifies it on chain. */
  zkVerify(jobId: string, statementAndProof: JsonValue): Promise<{ verified: boolean }> {
    return this.client.request('POST', `/v1/privacy/zk/jobs/${encodeURIComponent(jobId)}/proof`, statementAndProof);
  }
}
