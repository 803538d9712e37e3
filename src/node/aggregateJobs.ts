// Secure aggregation between nodes. The recipient's node registers the job on chain
// (participants: recipient, banks…, aggregators…), opens a session on each aggregator node,
// asks each bank node to contribute; each bank node looks up its amounts for the query set in a
// local dataset ("code,amount" lines), splits them into additive shares and posts one share to
// each aggregator; the recipient collects every aggregator's partial sum, combines them and
// commits a salted result hash. Any failure marks the job failed on chain; an aggregator missing
// a bank's share releases nothing (PRIVACY_PARTY_DROPPED).

import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue } from '../codec/canonicalJson.js';
import { Aggregator, combine, decodeShare, encodeShare, splitShares, vecFromAmounts } from '../privacy/aggregate.js';
import { PrivacyCodes } from '../privacy/codes.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { JobView, PrivacyService } from './privacyJobs.js';

export interface Party {
  readonly org: string;
  readonly url: string;
}

export interface StartAggregate {
  readonly dataset: string;
  readonly banks: readonly (Party & { readonly dataset: string })[];
  readonly aggregators: readonly Party[];
  readonly purpose: string;
}

/** How long an aggregator waits for every bank's share before it refuses to release. */
const SUM_WAIT_MS = Number(process.env.CREDENCE_PRIVACY_IDLE_MS ?? 30_000);

function amountsOf(rows: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const row of rows) {
    const [code, amount] = row.split(',');
    const a = Number(amount);
    if (code === undefined || !Number.isSafeInteger(a) || a < 0)
      throw new CredenceError(Codes.MALFORMED, 'an amounts dataset has lines "code,amount" with amounts in fen');
    m.set(code.trim(), (m.get(code.trim()) ?? 0) + a);
  }
  return m;
}

function bad(message: string): CredenceError {
  return new CredenceError(PrivacyCodes.BAD_MESSAGE, message);
}

export class AggregateJobs {
  private readonly sessions = new Map<string, { agg: Aggregator; done: Promise<void>; release: () => void; view: JobView; timer: NodeJS.Timeout }>();

  constructor(private readonly svc: PrivacyService) {}

  close(): void {
    for (const s of this.sessions.values()) clearTimeout(s.timer);
  }

  /** Recipient: register and run the job in the background. */
  async start(o: StartAggregate): Promise<JobView> {
    const items = this.svc.dataset(o.dataset);
    if (o.banks.length < 1 || o.aggregators.length < 2 || o.aggregators.length > 3)
      throw new CredenceError(Codes.MALFORMED, 'an aggregation needs at least 1 bank and 2 or 3 aggregators');
    const id = toHex(randomBytes(32));
    const participants = [this.svc.orgId, ...o.banks.map((b) => b.org), ...o.aggregators.map((a) => a.org)];
    await this.svc.chainCall('register', {
      jobId: id,
      protocol: 'aggregate',
      purpose: o.purpose,
      participants,
      sizes: { items: items.length, banks: o.banks.length, aggregators: o.aggregators.length },
    });
    const view = this.svc.addJob({
      id,
      protocol: 'aggregate',
      role: 'recipient',
      status: 'running',
      phase: 'opening',
      done: 0,
      total: o.banks.length + o.aggregators.length,
    });
    void this.run(view, items, o).catch((e) => this.svc.markFailed(view, e));
    return view;
  }

  private async run(view: JobView, items: string[], o: StartAggregate): Promise<void> {
    const aggs = o.aggregators.map((a, index) => ({ ...a, index }));
    await Promise.all(
      aggs.map((a) =>
        this.svc.peerClient(a.url).request('POST', `/v1/privacy/aggregate/${view.id}/open`, { index: a.index, banks: o.banks.length, items: items.length }),
      ),
    );
    view.phase = 'contributions';
    await Promise.all(
      o.banks.map(async (b, bank) => {
        await this.svc.peerClient(b.url).request('POST', `/v1/privacy/aggregate/${view.id}/contribute`, {
          bank,
          dataset: b.dataset,
          items,
          aggregators: aggs.map((a) => ({ url: a.url, index: a.index })),
        });
        view.done++;
      }),
    );
    view.phase = 'sums';
    const partials = await Promise.all(aggs.map((a) => this.svc.peerClient(a.url).requestBytes('GET', `/v1/privacy/aggregate/${view.id}/sum`)));
    const totals = combine(
      partials.map((p) => new Uint32Array(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength))),
      aggs.length,
      items.length,
    );
    const salt = randomBytes(32);
    const resultHash = createHash('sha256').update(salt).update(JSON.stringify(totals)).digest('hex');
    const transcriptHash = createHash('sha256').update(view.id).update(String(items.length)).digest('hex');
    await this.svc.chainCall('complete', { jobId: view.id, resultHash, transcriptHash });
    view.result = { totals: Object.fromEntries(items.map((code, i) => [code, totals[i] as number])) };
    view.done = view.total;
    view.phase = 'committed';
    view.status = 'done';
  }

  /** Aggregator: a session for a job registered on chain that names this node and the caller. */
  async open(jobId: string, callerKey: string, body: JsonValue): Promise<{ ok: true }> {
    const b = body as { index?: unknown; banks?: unknown; items?: unknown } | null;
    if (b === null || typeof b !== 'object' || typeof b.index !== 'number' || typeof b.banks !== 'number' || typeof b.items !== 'number')
      throw bad('open needs index, banks and items');
    const caller = this.svc.callerOrg(callerKey);
    if (this.sessions.has(jobId)) throw new CredenceError(PrivacyCodes.REPLAYED, 'this job was opened before');
    const job = await this.svc.registeredJob(jobId);
    if (job === undefined || job.protocol !== 'aggregate' || job.status !== 'registered')
      throw new CredenceError(PrivacyCodes.JOB_STATE, 'no registered aggregation job with this id on chain');
    if (job.participants[0] !== caller) throw new CredenceError(Codes.FORBIDDEN, 'only the job’s recipient opens it');
    const aggIndex = job.participants.length - (job.sizes.aggregators ?? 0) + b.index;
    if (job.participants[aggIndex] !== this.svc.orgId) throw new CredenceError(Codes.FORBIDDEN, 'this node is not that aggregator of the job');
    if (job.sizes.banks !== b.banks || job.sizes.items !== b.items)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, 'the sizes differ from the ones registered on chain');
    let release = () => {};
    const done = new Promise<void>((r) => {
      release = r;
    });
    const view = this.svc.addJob({ id: jobId, protocol: 'aggregate', role: 'aggregator', status: 'running', phase: 'collecting', done: 0, total: b.banks });
    const timer = setTimeout(() => release(), SUM_WAIT_MS);
    this.sessions.set(jobId, { agg: new Aggregator(Buffer.from(jobId, 'hex'), b.index, b.banks, b.items), done, release, view, timer });
    return { ok: true };
  }

  /** Aggregator: one bank's share (binary), from a bank node named in the job. */
  async share(jobId: string, callerKey: string, bytes: Uint8Array): Promise<{ missing: number }> {
    const s = this.sessions.get(jobId);
    if (s === undefined) throw new CredenceError(PrivacyCodes.JOB_STATE, 'no open aggregation session for this job on this node');
    const m = decodeShare(bytes);
    const job = this.svc.chainJob(jobId);
    if (job?.participants[1 + m.bank] !== this.svc.callerOrg(callerKey))
      throw new CredenceError(Codes.FORBIDDEN, 'the share does not come from that bank of the job');
    s.agg.accept(m);
    s.view.done = s.agg.banks - s.agg.missing;
    if (s.agg.missing === 0) s.release();
    return { missing: s.agg.missing };
  }

  /** Aggregator: the partial sum, once every bank's share is in (PARTY_DROPPED after a wait). */
  async sum(jobId: string): Promise<Uint8Array> {
    const s = this.sessions.get(jobId);
    if (s === undefined) throw new CredenceError(PrivacyCodes.JOB_STATE, 'no open aggregation session for this job on this node');
    await s.done;
    clearTimeout(s.timer);
    this.sessions.delete(jobId);
    try {
      const sum = s.agg.result();
      s.view.status = 'done';
      s.view.phase = 'released';
      return new Uint8Array(sum.buffer, sum.byteOffset, sum.byteLength);
    } catch (e) {
      void this.svc.markFailed(s.view, e);
      throw e;
    }
  }

  /** Bank: look up its amounts for the query set and send one share to each aggregator. */
  async contribute(jobId: string, callerKey: string, body: JsonValue): Promise<{ sent: number }> {
    const b = body as { bank?: unknown; dataset?: unknown; items?: unknown; aggregators?: unknown } | null;
    if (
      b === null ||
      typeof b !== 'object' ||
      typeof b.bank !== 'number' ||
      typeof b.dataset !== 'string' ||
      !Array.isArray(b.items) ||
      !Array.isArray(b.aggregators)
    ) {
      throw bad('contribute needs bank, dataset, items and aggregators');
    }
    const job = await this.svc.registeredJob(jobId);
    if (job === undefined || job.protocol !== 'aggregate' || job.status !== 'registered')
      throw new CredenceError(PrivacyCodes.JOB_STATE, 'no registered aggregation job with this id on chain');
    if (job.participants[0] !== this.svc.callerOrg(callerKey) || job.participants[1 + b.bank] !== this.svc.orgId)
      throw new CredenceError(Codes.FORBIDDEN, 'this node is not that bank of the job');
    if (b.items.length !== job.sizes.items || b.aggregators.length !== job.sizes.aggregators)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, 'the sizes differ from the ones registered on chain');
    const book = amountsOf(this.svc.dataset(b.dataset));
    const amounts = b.items.map((code) => (typeof code === 'string' ? (book.get(code) ?? 0) : 0));
    const shares = splitShares(vecFromAmounts(amounts), b.aggregators.length);
    const job32 = Buffer.from(jobId, 'hex');
    await Promise.all(
      (b.aggregators as { url: string; index: number }[]).map((a, j) =>
        this.svc
          .peerClient(a.url)
          .request(
            'POST',
            `/v1/privacy/aggregate/${jobId}/shares`,
            encodeShare({ job: job32, bank: b.bank as number, aggregator: a.index, share: shares[j] as Uint32Array }),
          ),
      ),
    );
    return { sent: shares.length };
  }
}
