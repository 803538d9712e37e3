// The typed client for a credence node's REST API, used by the CLI, the benchmarks, the
// tests and by nodes to talk to peers. It signs requests and transactions with a Signer
// (a function, so the key may live anywhere) and parses errors into CredenceError codes.

import { randomInt } from 'node:crypto';
import type { BlockJson, ServerEvent, StateJson, SubmitResult, TxStatusJson } from '../codec/api.js';
import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { JsonValue } from '../codec/canonicalJson.js';
import { AuthHeaders, requestDigest } from '../codec/request.js';
import { encodeTxBatch, signTx } from '../codec/tx.js';
import type { CryptoSuite, Signer } from '../crypto/suite.js';
import type { ProofJson } from '../ledger/proofs.js';
import type { RecordEntry } from '../contracts/records.js';
import { fromBase64Strict, toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

export interface NodeInfo {
  chainId: string;
  suite: string;
  orgId: string;
  height: number;
  headHash: string;
  genesisHash: string;
  role: 'orderer' | 'follower';
}

export interface ClientOptions {
  /** Base URL, e.g. http://127.0.0.1:7001 */
  readonly url: string;
  readonly suite: CryptoSuite;
  /** Member key used to authenticate requests and sign transactions. */
  readonly signer?: Signer;
  readonly chainId?: string;
  /** Per-request timeout (default 30 s; waiting submits add their own wait). */
  readonly timeoutMs?: number;
}

export interface TxInput {
  readonly contract: string;
  readonly method: string;
  readonly args: JsonValue;
  /** Validity window from now (default 10 minutes). */
  readonly ttlMs?: number;
}

export interface SubmitOptions {
  /** Wait until every transaction is committed (or refused). */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
}

export class CredenceClient {
  private readonly base: string;
  private chainId: string | undefined;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.chainId = opts.chainId;
  }

  get suite(): CryptoSuite {
    return this.opts.suite;
  }

  private requireSigner(): Signer {
    if (this.opts.signer === undefined) throw new CredenceError(Codes.CONFIG, 'this call needs a signing key (--key)');
    return this.opts.signer;
  }

  private async authHeaders(method: string, path: string, body: Uint8Array): Promise<Record<string, string>> {
    const signer = this.opts.signer;
    if (signer === undefined) return {};
    const time = Date.now();
    const sig = await signer.sign(requestDigest((d) => this.opts.suite.hash(d), method, path, time, body));
    return { [AuthHeaders.key]: toHex(signer.publicKey), [AuthHeaders.time]: String(time), [AuthHeaders.signature]: toHex(sig) };
  }

  /** Low-level request: JSON (or raw bytes) in, parsed JSON out; errors become CredenceError. */
  async request<T>(method: string, path: string, body?: Uint8Array | JsonValue, extraTimeoutMs = 0, signal?: AbortSignal): Promise<T> {
    const res = await this.fetchRaw(method, path, body, extraTimeoutMs, signal);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? null : JSON.parse(text);
    } catch {
      throw new CredenceError(Codes.UNAVAILABLE, `node answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) throw errorOf(res.status, parsed);
    return parsed as T;
  }

  /** Like request, for a binary (application/octet-stream) answer. */
  async requestBytes(method: string, path: string, body?: Uint8Array | JsonValue): Promise<Uint8Array> {
    const res = await this.fetchRaw(method, path, body, 0);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.ok) return bytes;
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      // not JSON: reported by status below
    }
    throw errorOf(res.status, parsed);
  }

  private async fetchRaw(
    method: string,
    path: string,
    body: Uint8Array | JsonValue | undefined,
    extraTimeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Response> {
    const isBytes = body instanceof Uint8Array;
    const payload = body === undefined ? new Uint8Array(0) : isBytes ? body : canonicalJsonBytes(body);
    const headers: Record<string, string> = { ...(await this.authHeaders(method, path, payload)) };
    if (body !== undefined) headers['content-type'] = isBytes ? 'application/octet-stream' : 'application/json';
    const timeout = AbortSignal.timeout((this.opts.timeoutMs ?? 30_000) + extraTimeoutMs);
    try {
      return await fetch(this.base + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: payload }),
        signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
      });
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'TimeoutError') throw new CredenceError(Codes.TIMEOUT, `no answer from ${this.base} in time`);
      if (name === 'AbortError') throw new CredenceError(Codes.UNAVAILABLE, 'request aborted');
      throw new CredenceError(Codes.UNAVAILABLE, `cannot reach node at ${this.base}: is it running?`, {}, e);
    }
  }

  async info(): Promise<NodeInfo> {
    const info = await this.request<NodeInfo>('GET', '/v1/info');
    this.chainId ??= info.chainId;
    return info;
  }

  async health(): Promise<{ status: string; orgId: string; height: number; reasons: string[] }> {
    return this.request('GET', '/health');
  }

  /** Build and sign one transaction. */
  async signTx(input: TxInput): Promise<Uint8Array> {
    const signer = this.requireSigner();
    const chainId = this.chainId ?? (await this.info()).chainId;
    const unsigned = {
      chainId,
      signer: signer.publicKey,
      nonce: randomInt(0, 2 ** 48 - 1),
      expiresAt: Date.now() + (input.ttlMs ?? 10 * 60 * 1000),
      contract: input.contract,
      method: input.method,
      args: canonicalJsonBytes(input.args),
    };
    return signTx((d) => this.opts.suite.hash(d), signer, unsigned);
  }

  /** Submit signed transactions (binary batch). */
  async submit(txs: readonly Uint8Array[], opts: SubmitOptions = {}): Promise<SubmitResult[]> {
    const q = opts.wait ? `?wait=true&timeoutMs=${opts.timeoutMs ?? 30_000}` : '';
    const extra = opts.wait ? (opts.timeoutMs ?? 30_000) : 0;
    const res = await this.request<{ results: SubmitResult[] }>('POST', `/v1/transactions${q}`, encodeTxBatch(txs), extra);
    return res.results;
  }

  /** Sign, submit and wait for one transaction; throws its error code if it was refused. */
  async call(input: TxInput, timeoutMs = 30_000): Promise<SubmitResult> {
    const [r] = await this.submit([await this.signTx(input)], { wait: true, timeoutMs });
    if (r === undefined) throw new CredenceError(Codes.UNAVAILABLE, 'node returned no result');
    if (r.status === 'rejected' || r.status === 'dropped') throw new CredenceError(r.code ?? 'REJECTED', r.message ?? 'transaction refused');
    return r;
  }

  async tx(id: string): Promise<TxStatusJson> {
    return this.request('GET', `/v1/transactions/${encodeURIComponent(id)}`);
  }

  async txProof(id: string): Promise<ProofJson> {
    return this.request('GET', `/v1/transactions/${encodeURIComponent(id)}/proof`);
  }

  /** etcd networks: the proof with its block's checkpoints and the membership changes up to it. */
  async txFinalProof(id: string): Promise<ProofJson> {
    return this.request('GET', `/v1/transactions/${encodeURIComponent(id)}/final-proof`);
  }

  async block(ref: number | string | 'latest'): Promise<BlockJson> {
    return this.request('GET', `/v1/blocks/${encodeURIComponent(String(ref))}`);
  }

  async blocks(from: number, limit: number): Promise<BlockJson[]> {
    return (await this.request<{ blocks: BlockJson[] }>('GET', `/v1/blocks?from=${from}&limit=${limit}`)).blocks;
  }

  async state(key: string, withProof = false): Promise<StateJson> {
    return this.request('GET', `/v1/state/${encodeURIComponent(key)}${withProof ? '?proof=true' : ''}`);
  }

  /** A record's anchor and status on chain (NOT_FOUND if none). */
  async record(id: string): Promise<RecordEntry> {
    return this.request('GET', `/v1/records/${encodeURIComponent(id)}`);
  }

  /** Server-sent events: blocks and contract events, from a height (default: live only). */
  async *events(from?: number, signal?: AbortSignal): AsyncGenerator<ServerEvent> {
    const q = from === undefined ? '' : `?from=${from}`;
    for await (const { data } of this.sse(`/v1/events${q}`, signal)) yield JSON.parse(data) as ServerEvent;
  }

  /** Raw encoded blocks from `from` on, then live: the follower's feed. */
  async *streamBlocks(from: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    for await (const { event, data } of this.sse(`/v1/stream/blocks?from=${from}`, signal)) {
      if (event !== 'block') continue;
      const bytes = fromBase64Strict(data);
      if (bytes === undefined) throw new CredenceError(Codes.MALFORMED, 'block stream sent bad base64');
      yield bytes;
    }
  }

  private async *sse(path: string, signal?: AbortSignal): AsyncGenerator<{ event: string; data: string }> {
    const headers = await this.authHeaders('GET', path, new Uint8Array(0));
    let res: Response;
    try {
      res = await fetch(this.base + path, { headers, ...(signal === undefined ? {} : { signal }) });
    } catch (e) {
      throw new CredenceError(Codes.UNAVAILABLE, `cannot reach node at ${this.base}: is it running?`, {}, e);
    }
    if (!res.ok || res.body === null) {
      const e = (await res.json().catch(() => null)) as { code?: string; message?: string } | null;
      throw new CredenceError(e?.code ?? `HTTP_${res.status}`, e?.message ?? `stream refused with ${res.status}`);
    }
    yield* parseSse(res.body, signal);
  }
}

/** Parse a text/event-stream body into (event, data) pairs. */
export async function* parseSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buf = '';
  const reader = body.getReader();
  try {
    while (signal?.aborted !== true) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of chunk.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (data.length > 0) yield { event, data: data.join('\n') };
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

function errorOf(status: number, parsed: unknown): CredenceError {
  const e = parsed as { code?: string; message?: string; details?: Record<string, string | number | boolean | null> } | null;
  return new CredenceError(e?.code ?? `HTTP_${status}`, e?.message ?? `node answered ${status}`, e?.details ?? {});
}
