// A small client for etcd's v3 JSON gateway (HTTP on the client port: /v3/kv/put,
// /v3/kv/range, /v3/watch, /v3/kv/compaction, /v3/cluster/member/list,
// /v3/maintenance/status; keys and values are base64). It needs nothing beyond Node's fetch,
// which is why we use it instead of the gRPC `etcd3` package: no native or generated code,
// no dependency to pin, and the few calls we make are plain JSON. A call tries the endpoints
// in turn, starting with the last one that answered, so a dead member is skipped.

import { fromBase64Strict, toBase64, utf8 } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

/** The revision the caller asked for has been compacted away. */
export class EtcdCompactedError extends CredenceError {
  constructor(readonly compactRevision: number) {
    super(Codes.UNAVAILABLE, `the etcd log was compacted at revision ${compactRevision}`, { compactRevision });
  }
}

export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  readonly modRevision: number;
}

export interface EtcdMember {
  readonly id: string;
  readonly name: string;
  readonly clientUrls: readonly string[];
}

export interface EtcdStatus {
  readonly endpoint: string;
  readonly ok: boolean;
  readonly leader?: string;
  readonly memberId?: string;
  readonly revision?: number;
  readonly raftIndex?: number;
  readonly dbSize?: number;
  readonly error?: string;
}

interface RawKv {
  key?: string;
  value?: string;
  mod_revision?: string;
}

interface RawResponse {
  header?: { revision?: string; member_id?: string };
  error?: string;
  message?: string;
  code?: number;
  kvs?: RawKv[];
  members?: { ID?: string; name?: string; clientURLs?: string[] }[];
  leader?: string;
  raftIndex?: string;
  dbSize?: string;
  result?: { events?: { type?: string; kv?: RawKv }[]; canceled?: boolean; compact_revision?: string; cancel_reason?: string };
}

const b64 = (s: string | Uint8Array) => toBase64(typeof s === 'string' ? utf8(s) : s);

/** The key just after every key with this prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const b = utf8(prefix);
  const end = new Uint8Array(b);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return toBase64(end);
}

function kvOf(raw: RawKv): KeyValue {
  return {
    key: Buffer.from(raw.key ?? '', 'base64').toString('utf8'),
    value: fromBase64Strict(raw.value ?? '') ?? new Uint8Array(0),
    modRevision: Number(raw.mod_revision ?? 0),
  };
}

const COMPACTED_GRPC = 11;

export class EtcdClient {
  private current = 0;

  constructor(
    readonly endpoints: readonly string[],
    private readonly timeoutMs = 5000,
  ) {
    if (endpoints.length === 0) throw new CredenceError(Codes.CONFIG, 'etcd needs at least one endpoint');
  }

  private async post(endpoint: string, path: string, body: unknown, timeoutMs: number): Promise<RawResponse> {
    const res = await fetch(endpoint + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const json = (await res.json()) as RawResponse;
    if (json.error !== undefined || !res.ok) {
      if (json.code === COMPACTED_GRPC) throw new EtcdCompactedError(0);
      throw new CredenceError(Codes.UNAVAILABLE, `etcd ${path}: ${json.message ?? json.error ?? res.status}`, { grpcCode: json.code ?? null });
    }
    return json;
  }

  /** One call, failing over across endpoints; compaction errors are not retried. */
  private async call(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<RawResponse> {
    let last: unknown;
    for (let k = 0; k < this.endpoints.length; k++) {
      const i = (this.current + k) % this.endpoints.length;
      try {
        const out = await this.post(this.endpoints[i] as string, path, body, timeoutMs);
        this.current = i;
        return out;
      } catch (e) {
        if (e instanceof EtcdCompactedError) throw e;
        last = e;
      }
    }
    throw last instanceof CredenceError
      ? last
      : new CredenceError(Codes.UNAVAILABLE, 'no etcd member answered; is the etcd cluster up and does it have a majority?');
  }

  /** Put a value; returns the revision it got. */
  async put(key: string, value: Uint8Array): Promise<number> {
    const r = await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
    return Number(r.header?.revision ?? 0);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const r = await this.call('/v3/kv/range', { key: b64(key) });
    const kv = r.kvs?.[0];
    return kv === undefined ? undefined : kvOf(kv);
  }

  async getPrefix(prefix: string): Promise<KeyValue[]> {
    const r = await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) });
    return (r.kvs ?? []).map(kvOf);
  }

  /** Compact history up to `revision`; a revision already compacted is not an error. */
  async compact(revision: number): Promise<void> {
    try {
      await this.call('/v3/kv/compaction', { revision: String(revision) });
    } catch (e) {
      if (!(e instanceof EtcdCompactedError)) throw e;
    }
  }

  async members(): Promise<EtcdMember[]> {
    const r = await this.call('/v3/cluster/member/list', {});
    return (r.members ?? []).map((m) => ({ id: m.ID ?? '', name: m.name ?? '', clientUrls: m.clientURLs ?? [] }));
  }

  /** Status of every endpoint (not failing over: this is what `network status` shows). */
  async statuses(): Promise<EtcdStatus[]> {
    return Promise.all(
      this.endpoints.map(async (endpoint) => {
        try {
          const r = await this.post(endpoint, '/v3/maintenance/status', {}, 1500);
          return {
            endpoint,
            ok: true,
            leader: r.leader ?? '',
            memberId: r.header?.member_id ?? '',
            revision: Number(r.header?.revision ?? 0),
            raftIndex: Number(r.raftIndex ?? 0),
            dbSize: Number(r.dbSize ?? 0),
          };
        } catch (e) {
          return { endpoint, ok: false, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
  }

  /**
   * Watch a key (or a prefix) from a revision: yields the puts in revision order, batch by
   * batch, until the signal aborts. Reconnects to another member when a stream breaks,
   * resuming after the last revision seen. Throws EtcdCompactedError when `startRevision`
   * is no longer held.
   */
  async *watch(key: string, startRevision: number, signal: AbortSignal, opts: { prefix?: boolean } = {}): AsyncGenerator<KeyValue[]> {
    let next = startRevision;
    let failures = 0;
    while (!signal.aborted) {
      const i = (this.current + failures) % this.endpoints.length;
      try {
        for await (const kvs of this.watchOnce(this.endpoints[i] as string, key, next, signal, opts.prefix === true)) {
          failures = 0;
          const last = kvs[kvs.length - 1];
          if (last !== undefined) next = last.modRevision + 1;
          yield kvs;
        }
      } catch (e) {
        if (e instanceof EtcdCompactedError || signal.aborted) throw e;
      }
      failures += 1;
      await new Promise((r) => setTimeout(r, Math.min(50 * failures, 500)));
    }
  }

  private async *watchOnce(endpoint: string, key: string, start: number, signal: AbortSignal, prefix: boolean): AsyncGenerator<KeyValue[]> {
    const create = { key: b64(key), start_revision: String(start), filters: ['NODELETE'], ...(prefix ? { range_end: prefixEnd(key) } : {}) };
    const res = await fetch(`${endpoint}/v3/watch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ create_request: create }),
      signal,
    });
    if (!res.ok || res.body === null) throw new CredenceError(Codes.UNAVAILABLE, `etcd watch refused with ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line.length === 0) continue;
          const msg = JSON.parse(line) as RawResponse;
          const r = msg.result;
          if (msg.error !== undefined) throw new CredenceError(Codes.UNAVAILABLE, `etcd watch: ${msg.error}`);
          if (r?.compact_revision !== undefined && Number(r.compact_revision) > 0) throw new EtcdCompactedError(Number(r.compact_revision));
          if (r?.canceled === true) throw new CredenceError(Codes.UNAVAILABLE, `etcd watch canceled: ${r.cancel_reason ?? ''}`);
          const kvs = (r?.events ?? []).filter((e) => e.type !== 'DELETE' && e.kv !== undefined).map((e) => kvOf(e.kv as RawKv));
          if (kvs.length > 0) yield kvs;
        }
      }
    } finally {
      reader.releaseLock();
      await res.body.cancel().catch(() => {});
    }
  }
}
