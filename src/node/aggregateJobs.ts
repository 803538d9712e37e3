// Secure aggregation between nodes. The recipient's node registers the job on chain
// (participants: recipient, banks…, aggregators…), makes a fresh sealing key pair for the job
// and opens a session on each aggregator node with its public key; each aggregator makes its own
// fresh sealing key pair for the job (private key in memory only, dropped when the session ends)
// and answers with the public key signed by its node key. The recipient asks each bank node to
// contribute, relaying the signed aggregator keys; each bank checks every signature against the
// aggregator organization's member key on chain, looks up its amounts for the query set in a
// local dataset ("code,amount" lines), splits them into additive shares and posts each share,
// sealed to its aggregator's key, to that aggregator; the recipient collects every aggregator's
// partial sum, sealed to its own key, combines them and commits a salted result hash. Any
// failure marks the job failed on chain; an aggregator missing a bank's share releases nothing
// (PRIVACY_PARTY_DROPPED); a share that does not open fails the job (PRIVACY_BAD_MESSAGE).

import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue } from '../codec/canonicalJson.js';
import type { ComputeJob } from '../contracts/compute.js';
import type { GeneratedKey } from '../crypto/suite.js';
import { Aggregator, combine, splitShares, vecFromAmounts } from '../privacy/aggregate.js';
import { aggregatorKeyDigest, discardSealingKey, openShare, openSum, sealedShareHeader, sealShare, sealSum } from '../privacy/aggregateSeal.js';
import { PrivacyCodes } from '../privacy/codes.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
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

/** A sealing public key sent as hex: 1 to 256 bytes (the suite checks the point itself). */
function sealKeyOf(v: unknown, what: string): Uint8Array {
  const key = typeof v === 'string' ? fromHexStrict(v) : undefined;
  if (key === undefined || key.byteLength === 0 || key.byteLength > 256) throw bad(`${what} must be a hex sealing public key`);
  return key;
}

/** An aggregator's sealing key for the job, signed by its node key (as `open` answers it). */
export interface SignedSealKey {
  readonly sealKey: string;
  readonly signer: string;
  readonly signature: string;
}

interface Session {
  readonly agg: Aggregator;
  readonly done: Promise<void>;
  readonly release: () => void;
  readonly view: JobView;
  readonly timer: NodeJS.Timeout;
  readonly recipientKey: Uint8Array;
  /** This aggregator's sealing private key for the job; undefined once the session has ended. */
  keyPem: string | undefined;
  failure?: unknown;
}

/** Why a session's time ran out: banks missing, or the recipient never collected the sum. */
function timedOut(agg: Aggregator): CredenceError {
  if (agg.missing > 0) {
    try {
      agg.result();
    } catch (e) {
      if (e instanceof CredenceError) return e;
    }
  }
  return new CredenceError(PrivacyCodes.PARTY_DROPPED, 'the recipient did not collect the partial sum in time; it is not released');
}

/** Index of aggregator 0 in the job's participants (recipient, banks…, aggregators…). */
function firstAggregator(job: ComputeJob): number {
  return job.participants.length - (job.sizes.aggregators ?? 0);
}

export class AggregateJobs {
  private readonly sessions = new Map<string, Session>();

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
    const mine = this.svc.suite.generateSealingKey();
    let got: { totals: number[]; transcriptHash: string };
    try {
      got = await this.collect(view, items, o, mine);
    } finally {
      discardSealingKey(this.svc.suite, mine.privateKeyPem);
    }
    const salt = randomBytes(32);
    const resultHash = createHash('sha256').update(salt).update(JSON.stringify(got.totals)).digest('hex');
    await this.svc.chainCall('complete', { jobId: view.id, resultHash, transcriptHash: got.transcriptHash });
    view.result = { totals: Object.fromEntries(items.map((code, i) => [code, got.totals[i] as number])) };
    view.done = view.total;
    view.phase = 'committed';
    view.status = 'done';
  }

  /** Recipient: open the aggregators' sessions, have every bank contribute, open and add the partial sums. */
  private async collect(view: JobView, items: string[], o: StartAggregate, mine: GeneratedKey): Promise<{ totals: number[]; transcriptHash: string }> {
    const suite = this.svc.suite;
    const job32 = Buffer.from(view.id, 'hex');
    const aggs = await Promise.all(
      o.aggregators.map(async (a, index) => {
        const k = await this.svc.peerClient(a.url).request<SignedSealKey>('POST', `/v1/privacy/aggregate/${view.id}/open`, {
          index,
          banks: o.banks.length,
          items: items.length,
          sealKey: toHex(mine.publicKey),
        });
        if (typeof k?.sealKey !== 'string' || typeof k.signer !== 'string' || typeof k.signature !== 'string')
          throw bad(`aggregator ${index} answered without a signed sealing key`);
        return { url: a.url, index, sealKey: k.sealKey, signer: k.signer, signature: k.signature };
      }),
    );
    view.phase = 'contributions';
    await Promise.all(
      o.banks.map(async (b, bank) => {
        await this.svc.peerClient(b.url).request('POST', `/v1/privacy/aggregate/${view.id}/contribute`, { bank, dataset: b.dataset, items, aggregators: aggs });
        view.done++;
      }),
    );
    view.phase = 'sums';
    const partials = await Promise.all(
      aggs.map(async (a) =>
        openSum(
          suite,
          mine.privateKeyPem,
          job32,
          a.index,
          items.length,
          await this.svc.peerClient(a.url).requestBytes('GET', `/v1/privacy/aggregate/${view.id}/sum`),
        ),
      ),
    );
    // The transcript names the sealing keys used, so the chain records which keys the job ran under.
    const transcript = createHash('sha256').update(view.id).update(String(items.length)).update(toHex(mine.publicKey));
    for (const a of aggs) transcript.update(a.sealKey);
    return { totals: combine(partials, aggs.length, items.length), transcriptHash: transcript.digest('hex') };
  }

  /**
   * Aggregator: a session for a job registered on chain that names this node and the caller.
   * Answers with a fresh sealing public key for the job, signed by this node's key.
   */
  async open(jobId: string, callerKey: string, body: JsonValue): Promise<SignedSealKey> {
    const b = body as { index?: unknown; banks?: unknown; items?: unknown; sealKey?: unknown } | null;
    if (b === null || typeof b !== 'object' || typeof b.index !== 'number' || typeof b.banks !== 'number' || typeof b.items !== 'number')
      throw bad('open needs index, banks, items and sealKey');
    const recipientKey = sealKeyOf(b.sealKey, 'sealKey');
    const caller = this.svc.callerOrg(callerKey);
    if (!Number.isInteger(b.index) || b.index < 0) throw bad('index must be a non-negative integer');
    if (this.sessions.has(jobId)) throw new CredenceError(PrivacyCodes.REPLAYED, 'this job was opened before');
    const job = await this.svc.registeredJob(jobId);
    if (job === undefined || job.protocol !== 'aggregate' || job.status !== 'registered')
      throw new CredenceError(PrivacyCodes.JOB_STATE, 'no registered aggregation job with this id on chain');
    if (job.participants[0] !== caller) throw new CredenceError(Codes.FORBIDDEN, 'only the job’s recipient opens it');
    if (b.index >= (job.sizes.aggregators ?? 0) || job.participants[firstAggregator(job) + b.index] !== this.svc.orgId)
      throw new CredenceError(Codes.FORBIDDEN, 'this node is not that aggregator of the job');
    if (job.sizes.banks !== b.banks || job.sizes.items !== b.items)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, 'the sizes differ from the ones registered on chain');
    const suite = this.svc.suite;
    suite.seal(recipientKey, new Uint8Array(0)); // BAD_KEY now rather than when the sum is ready
    const agg = new Aggregator(Buffer.from(jobId, 'hex'), b.index, b.banks, b.items);
    const key = suite.generateSealingKey();
    const signature = await this.svc.signer.sign(aggregatorKeyDigest(suite, jobId, b.index, key.publicKey));
    let release = () => {};
    const done = new Promise<void>((r) => {
      release = r;
    });
    const view = this.svc.addJob({ id: jobId, protocol: 'aggregate', role: 'aggregator', status: 'running', phase: 'collecting', done: 0, total: b.banks });
    const s: Session = {
      agg,
      done,
      release,
      view,
      recipientKey,
      keyPem: key.privateKeyPem,
      timer: setTimeout(() => this.fail(jobId, s, timedOut(s.agg)), SUM_WAIT_MS),
    };
    this.sessions.set(jobId, s);
    return { sealKey: toHex(key.publicKey), signer: toHex(this.svc.signer.publicKey), signature: toHex(signature) };
  }

  /** Ends a session: drops its sealing private key and wakes whoever waits for the sum. */
  private end(s: Session): void {
    clearTimeout(s.timer);
    if (s.keyPem !== undefined) discardSealingKey(this.svc.suite, s.keyPem);
    s.keyPem = undefined;
    s.release();
  }

  /**
   * Aggregator: one bank's sealed share (binary), from a bank node named in the job. A share
   * that does not open or does not fit ends the session and fails the job; a replay is refused
   * and the session goes on.
   */
  async share(jobId: string, callerKey: string, bytes: Uint8Array): Promise<{ missing: number }> {
    const s = this.sessions.get(jobId);
    if (s?.keyPem === undefined) throw new CredenceError(PrivacyCodes.JOB_STATE, 'no open aggregation session for this job on this node');
    const { bank } = sealedShareHeader(bytes);
    const job = this.svc.chainJob(jobId);
    if (job === undefined || bank >= (job.sizes.banks ?? 0) || job.participants[1 + bank] !== this.svc.callerOrg(callerKey))
      throw new CredenceError(Codes.FORBIDDEN, 'the share does not come from that bank of the job');
    try {
      s.agg.accept(openShare(this.svc.suite, s.keyPem, bytes));
    } catch (e) {
      if (!(e instanceof CredenceError && e.code === PrivacyCodes.REPLAYED)) this.fail(jobId, s, e);
      throw e;
    }
    s.view.done = s.agg.banks - s.agg.missing;
    if (s.agg.missing === 0) s.release();
    return { missing: s.agg.missing };
  }

  /** Aggregator: the partial sum sealed to the recipient, once every bank's share is in (PARTY_DROPPED after a wait). */
  async sum(jobId: string): Promise<Uint8Array> {
    const s = this.sessions.get(jobId);
    if (s === undefined) throw new CredenceError(PrivacyCodes.JOB_STATE, 'no open aggregation session for this job on this node');
    await s.done;
    if (s.failure !== undefined) throw s.failure;
    if (this.sessions.get(jobId) !== s) throw new CredenceError(PrivacyCodes.REPLAYED, 'the partial sum of this job was released before');
    this.end(s);
    this.sessions.delete(jobId);
    // Every bank's share is in (the session is released only then, or failed).
    const sealed = sealSum(this.svc.suite, s.recipientKey, Buffer.from(jobId, 'hex'), s.agg.index, s.agg.result());
    s.view.status = 'done';
    s.view.phase = 'released';
    return sealed;
  }

  /** Ends a session that cannot finish: no sum is released, and the job is marked failed on chain. */
  private fail(jobId: string, s: Session, e: unknown): void {
    if (this.sessions.get(jobId) !== s) return;
    s.failure = e;
    this.end(s);
    this.sessions.delete(jobId);
    void this.svc.markFailed(s.view, e);
  }

  /** Bank: the aggregators' sealing keys for the job, each checked against its organization's member key on chain. */
  private aggregatorKeys(jobId: string, job: ComputeJob, list: readonly unknown[]): { url: string; key: Uint8Array }[] {
    const suite = this.svc.suite;
    return list.map((v, j) => {
      const a = (v ?? {}) as { url?: unknown; index?: unknown } & Partial<Record<keyof SignedSealKey, unknown>>;
      if (typeof a.url !== 'string' || a.index !== j || typeof a.signer !== 'string')
        throw bad('each aggregator needs url, index (in order), sealKey, signer and signature');
      const key = sealKeyOf(a.sealKey, `aggregator ${j}'s sealKey`);
      const signer = fromHexStrict(a.signer);
      const signature = typeof a.signature === 'string' ? fromHexStrict(a.signature) : undefined;
      const org = job.participants[firstAggregator(job) + j];
      if (
        signer === undefined ||
        signature === undefined ||
        this.svc.memberOrg(toHex(signer)) !== org ||
        !suite.verify(signer, aggregatorKeyDigest(suite, jobId, j, key), signature)
      ) {
        throw new CredenceError(Codes.BAD_SIGNATURE, `the sealing key of aggregator ${j} is not signed by a member key of ${org}`);
      }
      return { url: a.url, key };
    });
  }

  /** Bank: look up its amounts for the query set and send one share, sealed to its aggregator, to each aggregator. */
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
    if (this.svc.findJob(jobId) !== undefined) throw new CredenceError(PrivacyCodes.REPLAYED, 'this node has contributed to this job before');
    // From here on a failure is this bank's to record on chain too: the recipient relays the
    // aggregator keys, so a recipient that substituted one would not report it.
    const view = this.svc.addJob({ id: jobId, protocol: 'aggregate', role: 'bank', status: 'running', phase: 'sharing', done: 0, total: b.aggregators.length });
    try {
      await this.sendShares(view, job, b.bank, b.dataset, b.items, b.aggregators);
    } catch (e) {
      await this.svc.markFailed(view, e);
      throw e;
    }
    view.status = 'done';
    view.phase = 'sent';
    return { sent: view.done };
  }

  private async sendShares(view: JobView, job: ComputeJob, bank: number, dataset: string, items: unknown[], aggregators: unknown[]): Promise<void> {
    const aggs = this.aggregatorKeys(view.id, job, aggregators);
    const book = amountsOf(this.svc.dataset(dataset));
    const amounts = items.map((code) => (typeof code === 'string' ? (book.get(code) ?? 0) : 0));
    const shares = splitShares(vecFromAmounts(amounts), aggs.length);
    const job32 = Buffer.from(view.id, 'hex');
    await Promise.all(
      aggs.map(async (a, j) => {
        const sealed = sealShare(this.svc.suite, a.key, { job: job32, bank, aggregator: j, share: shares[j] as Uint32Array });
        await this.svc.peerClient(a.url).request('POST', `/v1/privacy/aggregate/${view.id}/shares`, sealed);
        view.done++;
      }),
    );
  }
}
