// Privacy-computing jobs run between real nodes: a node keeps named local datasets (never on
// chain), registers each job it starts on chain (contract `compute`), runs the protocol with
// the peer node over its REST API (signed member requests), commits a salted result hash and a
// transcript hash, and marks the job failed on chain on any error (coded; no partial result).
// The peer side keeps a session per job, checked against the job registered on chain.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../codec/canonicalJson.js';
import { parseCanonicalJson } from '../codec/canonicalJson.js';
import type { ComputeJob } from '../contracts/compute.js';
import { computeKey } from '../contracts/compute.js';
import { orgOfKey } from '../contracts/members.js';
import type { CryptoSuite, Signer } from '../crypto/suite.js';
import { PrivacyCodes } from '../privacy/codes.js';
import { PsiPool } from '../privacy/pool.js';
import { decodeFrame, encodeFrame, FrameAssembler, type FrameKind, type PsiMode, PsiReceiver, PsiSender, toFrames } from '../privacy/psi.js';
import { CredenceClient } from '../sdk/client.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import type { CredenceNode } from './node.js';

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const DATASET_ITEMS_MAX = 2_000_000;
const ITEM_BYTES_MAX = 256;
/** Parts of one dataset upload, at most, and uploads in progress on a node, at most. */
const UPLOAD_PARTS_MAX = 4096;
const UPLOADS_MAX = 16;
const JOBS_MAX = 1000;
/** A peer session with no message for this long is dropped (and the job failed on chain). */
export const SESSION_IDLE_MS = Number(process.env.CREDENCE_PRIVACY_IDLE_MS ?? 60_000);
const FRAME_WAIT_MS = 120_000;

export interface JobView {
  readonly id: string;
  readonly protocol: 'psi' | 'aggregate' | 'model';
  readonly role: 'receiver' | 'sender' | 'bank' | 'aggregator' | 'recipient' | 'owner' | 'provider';
  status: 'running' | 'done' | 'failed';
  phase: string;
  done: number;
  total: number;
  result?: JsonValue;
  error?: { code: string; message: string };
}

export interface StartPsi {
  readonly peerUrl: string;
  readonly peerOrg: string;
  readonly dataset: string;
  readonly peerDataset: string;
  readonly mode: PsiMode;
  readonly purpose: string;
  readonly personal?: { categories: string[]; consents: string[] };
}

interface SenderSession {
  readonly job: Uint8Array;
  readonly sender: PsiSender;
  readonly query: FrameAssembler;
  readonly receiverSize: number;
  frames?: Promise<{ reply: Uint8Array[]; senderSet: Uint8Array[] }>;
  transcript: ReturnType<typeof createHash>;
  timer: NodeJS.Timeout;
  readonly view: JobView;
}

function parseItems(text: string): string[] {
  const items = text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length > DATASET_ITEMS_MAX) throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, `a dataset has at most ${DATASET_ITEMS_MAX} items`);
  if (items.some((s) => Buffer.byteLength(s) > ITEM_BYTES_MAX)) throw new CredenceError(Codes.MALFORMED, `dataset items are at most ${ITEM_BYTES_MAX} bytes`);
  return [...new Set(items)];
}

function checkName(name: string): string {
  if (!NAME_RE.test(name)) throw new CredenceError(Codes.MALFORMED, 'a dataset name is 1-64 characters of [a-z0-9_-]');
  return name;
}

function fromError(e: unknown): { code: string; message: string } {
  return isCredenceError(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: 'internal error in the privacy job' };
}

export class PrivacyService {
  private readonly jobs = new Map<string, JobView>();
  private readonly sessions = new Map<string, SenderSession>();
  private poolInstance: PsiPool | undefined;
  private readonly dir: string;

  constructor(
    private readonly node: CredenceNode,
    private readonly selfUrl: string,
  ) {
    this.dir = join(node.config.dataDir, 'privacy', 'datasets');
  }

  get orgId(): string {
    return this.node.config.orgId;
  }

  /** The chain's crypto suite and this node's signer (its member key). */
  get suite(): CryptoSuite {
    return this.node.suite;
  }

  get signer(): Signer {
    return this.node.signer;
  }

  private get pool(): PsiPool {
    this.poolInstance ??= new PsiPool();
    return this.poolInstance;
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) clearTimeout(s.timer);
    await this.poolInstance?.close();
  }

  // ---- datasets (local, off chain) ----

  /**
   * Store a dataset sent in `part.count` parts (whole lines each, in order from 0): the parts
   * are gathered in memory and the dataset appears, atomically, only when the last arrives.
   * A part out of order is refused and the upload stays where it was; part 0 always starts
   * the upload afresh; a bad part drops the upload.
   */
  putDatasetPart(name: string, body: Uint8Array, part: { index: number; count: number }): { name: string; size?: number; received?: number; parts: number } {
    checkName(name);
    const { index, count } = part;
    if (!Number.isInteger(count) || count < 1 || count > UPLOAD_PARTS_MAX || !Number.isInteger(index) || index < 0 || index >= count) {
      throw new CredenceError(Codes.MALFORMED, `part must be an integer in 0..parts-1 and parts in 1..${UPLOAD_PARTS_MAX}`);
    }
    if (index === 0) {
      this.uploads.delete(name);
      if (this.uploads.size >= UPLOADS_MAX) throw new CredenceError(Codes.POOL_FULL, 'too many dataset uploads in progress; finish or restart one');
      this.uploads.set(name, { next: 0, count, items: new Set() });
    }
    const up = this.uploads.get(name);
    if (up === undefined || up.next !== index || up.count !== count) {
      throw new CredenceError(
        PrivacyCodes.BAD_MESSAGE,
        `expected part ${up?.next ?? 0} of ${up?.count ?? count} for dataset ${name}; restart the upload from part 0`,
      );
    }
    try {
      for (const it of parseItems(Buffer.from(body).toString('utf8'))) up.items.add(it);
      if (up.items.size > DATASET_ITEMS_MAX) throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, `a dataset has at most ${DATASET_ITEMS_MAX} items`);
    } catch (e) {
      this.uploads.delete(name);
      throw e;
    }
    up.next += 1;
    if (up.next < count) return { name, received: up.next, parts: count };
    this.uploads.delete(name);
    return { ...this.writeDataset(name, [...up.items]), parts: count };
  }

  private readonly uploads = new Map<string, { next: number; count: number; items: Set<string> }>();

  putDataset(name: string, body: Uint8Array): { name: string; size: number } {
    return this.writeDataset(name, parseItems(Buffer.from(body).toString('utf8')));
  }

  private writeDataset(name: string, items: readonly string[]): { name: string; size: number } {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${checkName(name)}.txt`);
    writeFileSync(`${file}.tmp`, items.join('\n'), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    return { name, size: items.length };
  }

  dataset(name: string): string[] {
    const file = join(this.dir, `${checkName(name)}.txt`);
    if (!existsSync(file)) throw new CredenceError(Codes.NOT_FOUND, `no dataset named ${name} on this node`);
    return parseItems(readFileSync(file, 'utf8'));
  }

  // ---- jobs ----

  /** This node's view of a job, if it has one. */
  findJob(id: string): JobView | undefined {
    return this.jobs.get(id);
  }

  job(id: string): JobView {
    const j = this.findJob(id);
    if (j === undefined) throw new CredenceError(Codes.NOT_FOUND, 'no such privacy job on this node');
    return j;
  }

  addJob(v: JobView): JobView {
    if (this.jobs.size >= JOBS_MAX) {
      const oldest = [...this.jobs.values()].find((j) => j.status !== 'running');
      if (oldest === undefined) throw new CredenceError(Codes.POOL_FULL, 'too many privacy jobs running');
      this.jobs.delete(oldest.id);
    }
    this.jobs.set(v.id, v);
    return v;
  }

  selfClient(): CredenceClient {
    return new CredenceClient({ url: this.selfUrl, suite: this.node.suite, signer: this.node.signer, chainId: this.node.chain.genesis.chainId });
  }

  peerClient(url: string): CredenceClient {
    return new CredenceClient({ url, suite: this.node.suite, signer: this.node.signer, timeoutMs: FRAME_WAIT_MS });
  }

  async chainCall(method: string, args: JsonValue): Promise<void> {
    const r = await this.selfClient().call({ contract: 'compute', method, args });
    if (r.code !== undefined && r.code !== 'OK') throw new CredenceError(r.code, r.message ?? 'the compute contract refused');
  }

  chainJob(id: string): ComputeJob | undefined {
    const v = this.node.chain.store.state.get(computeKey(id));
    return v === undefined ? undefined : (parseCanonicalJson(v) as unknown as ComputeJob);
  }

  async markFailed(view: JobView, e: unknown): Promise<void> {
    view.status = 'failed';
    view.error = fromError(e);
    this.node.log.warn('privacy job failed', { job: view.id, code: view.error.code });
    try {
      if (this.chainJob(view.id)?.status === 'registered')
        await this.chainCall('fail', { jobId: view.id, code: view.error.code.replace(/[^A-Z0-9_]/g, '_').slice(0, 64) || 'FAILED' });
    } catch (err) {
      this.node.log.warn('could not mark the privacy job failed on chain', { job: view.id, code: fromError(err).code });
    }
  }

  /** Receiver side: registers the job on chain and runs it with the peer in the background. */
  async startPsi(o: StartPsi): Promise<JobView> {
    const items = this.dataset(o.dataset);
    const id = toHex(randomBytes(32));
    const args: Record<string, JsonValue> = {
      jobId: id,
      protocol: 'psi',
      purpose: o.purpose,
      participants: [this.node.config.orgId, o.peerOrg],
      sizes: { receiver: items.length },
    };
    if (o.personal !== undefined) Object.assign(args, { personal: true, categories: o.personal.categories, consents: o.personal.consents });
    await this.chainCall('register', args);
    const view = this.addJob({ id, protocol: 'psi', role: 'receiver', status: 'running', phase: 'registered', done: 0, total: 4 * items.length });
    void this.runReceiver(view, items, o).catch((e) => this.markFailed(view, e));
    return view;
  }

  private async runReceiver(view: JobView, items: string[], o: StartPsi): Promise<void> {
    const job = Buffer.from(view.id, 'hex');
    const peer = this.peerClient(o.peerUrl);
    const transcript = createHash('sha256').update(job);
    const receiver = new PsiReceiver(
      this.pool,
      items.map((s) => Buffer.from(s, 'utf8')),
      o.mode,
    );
    view.phase = 'opening';
    const opened = await peer.request<{ senderSize: number }>('POST', `/v1/privacy/psi/${view.id}/open`, {
      dataset: o.peerDataset,
      mode: o.mode,
      receiverSize: items.length,
    });
    const senderSize = opened.senderSize;
    if (!Number.isSafeInteger(senderSize) || senderSize < 0) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'the peer sent a bad set size');
    view.total = 2 * items.length + 2 * senderSize + 2 * items.length;
    view.phase = 'query';
    const query = await receiver.query((d) => {
      view.done = d;
    });
    for (const f of toFrames(job, 'query', query)) {
      const bytes = encodeFrame(f);
      transcript.update(bytes);
      await peer.request('POST', `/v1/privacy/psi/${view.id}/frames`, bytes);
    }
    view.phase = 'waiting for the peer';
    const fetchStream = async (kind: FrameKind, total: number): Promise<Uint8Array> => {
      const asm = new FrameAssembler(job, kind, total);
      for (let seq = 0; !asm.complete; seq++) {
        const bytes = await peer.requestBytes('GET', `/v1/privacy/psi/${view.id}/frames/${kind}/${seq}`);
        transcript.update(bytes);
        asm.add(decodeFrame(bytes));
      }
      return asm.points();
    };
    receiver.acceptReply(await fetchStream('reply', items.length));
    view.done = 3 * items.length;
    const senderSet = await fetchStream('senderSet', senderSize);
    view.phase = 'intersecting';
    const result = await receiver.finish(senderSet, senderSize, (d) => {
      view.done = 3 * items.length + d;
    });
    const salt = randomBytes(32);
    const resultHash = createHash('sha256').update(salt).update(JSON.stringify(result)).digest('hex');
    await this.chainCall('complete', { jobId: view.id, resultHash, transcriptHash: transcript.digest('hex'), sizes: { sender: senderSize } });
    view.result = { ...result, senderSize } as unknown as JsonValue;
    view.done = view.total;
    view.phase = 'committed';
    view.status = 'done';
  }

  // ---- sender side (called by the API on requests from the receiver's node) ----

  callerOrg(keyHex: string): string {
    const org = this.memberOrg(keyHex);
    if (org === undefined) throw new CredenceError(Codes.FORBIDDEN, 'the caller is not a member');
    return org;
  }

  /** The organization whose current member key this is, on this node's chain state. */
  memberOrg(keyHex: string): string | undefined {
    return orgOfKey((k) => this.node.chain.store.state.get(k), keyHex)?.id;
  }

  /** The job as registered on chain, waiting briefly for this node to apply the block that registered it. */
  async registeredJob(jobId: string): Promise<ComputeJob | undefined> {
    for (let i = 0; i < 50; i++) {
      const j = this.chainJob(jobId);
      if (j !== undefined) return j;
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  }

  async psiOpen(jobId: string, callerKey: string, body: JsonValue): Promise<{ senderSize: number }> {
    const b = body as { dataset?: unknown; mode?: unknown; receiverSize?: unknown } | null;
    if (b === null || typeof b !== 'object' || typeof b.dataset !== 'string' || (b.mode !== 'set' && b.mode !== 'size') || typeof b.receiverSize !== 'number') {
      throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'open needs dataset, mode (set or size) and receiverSize');
    }
    const caller = this.callerOrg(callerKey);
    if (this.sessions.has(jobId) || this.jobs.has(jobId)) throw new CredenceError(PrivacyCodes.REPLAYED, 'this job was opened before');
    const onChain = await this.registeredJob(jobId);
    if (this.sessions.has(jobId) || this.jobs.has(jobId)) throw new CredenceError(PrivacyCodes.REPLAYED, 'this job was opened before');
    if (onChain === undefined || onChain.protocol !== 'psi' || onChain.status !== 'registered')
      throw new CredenceError(PrivacyCodes.JOB_STATE, 'no registered PSI job with this id on chain');
    if (onChain.participants[0] !== caller || onChain.participants[1] !== this.node.config.orgId)
      throw new CredenceError(Codes.FORBIDDEN, 'this node and the caller are not the job’s participants');
    if (onChain.sizes.receiver !== b.receiverSize)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, 'the receiver size differs from the one registered on chain');
    const items = this.dataset(b.dataset);
    const job = Buffer.from(jobId, 'hex');
    const view = this.addJob({ id: jobId, protocol: 'psi', role: 'sender', status: 'running', phase: 'query', done: 0, total: b.receiverSize + items.length });
    const session: SenderSession = {
      job,
      sender: new PsiSender(
        this.pool,
        items.map((s) => Buffer.from(s, 'utf8')),
        b.mode,
      ),
      query: new FrameAssembler(job, 'query', b.receiverSize),
      receiverSize: b.receiverSize,
      transcript: createHash('sha256').update(job),
      timer: setTimeout(() => this.dropSession(jobId, new CredenceError(PrivacyCodes.PARTY_DROPPED, 'the receiver stopped mid-protocol')), SESSION_IDLE_MS),
      view,
    };
    this.sessions.set(jobId, session);
    return { senderSize: items.length };
  }

  private session(jobId: string): SenderSession {
    const s = this.sessions.get(jobId);
    if (s === undefined) throw new CredenceError(PrivacyCodes.JOB_STATE, 'no open PSI session for this job on this node');
    s.timer.refresh();
    return s;
  }

  private dropSession(jobId: string, e: unknown): void {
    const s = this.sessions.get(jobId);
    if (s === undefined) return;
    clearTimeout(s.timer);
    this.sessions.delete(jobId);
    void this.markFailed(s.view, e);
  }

  /** A query frame from the receiver; once the query is complete the answer is computed. */
  psiFrame(jobId: string, bytes: Uint8Array): { received: boolean } {
    const s = this.session(jobId);
    try {
      s.query.add(decodeFrame(bytes));
      s.transcript.update(bytes);
    } catch (e) {
      this.dropSession(jobId, e);
      throw e;
    }
    if (s.query.complete && s.frames === undefined) {
      s.frames = this.answer(s);
      s.frames.catch((e) => this.dropSession(jobId, e));
    }
    return { received: true };
  }

  private async answer(s: SenderSession): Promise<{ reply: Uint8Array[]; senderSet: Uint8Array[] }> {
    s.view.phase = 'answering';
    const reply = await s.sender.answer(s.query.points(), s.receiverSize, (d) => {
      s.view.done = d;
    });
    const own = await s.sender.ownSet((d) => {
      s.view.done = s.receiverSize + d;
    });
    s.view.phase = 'sending';
    return { reply: toFrames(s.job, 'reply', reply).map(encodeFrame), senderSet: toFrames(s.job, 'senderSet', own).map(encodeFrame) };
  }

  /** A reply or sender-set frame, once computed (waits for it). */
  async psiFetch(jobId: string, kind: string, seq: number): Promise<Uint8Array> {
    const s = this.session(jobId);
    if (kind !== 'reply' && kind !== 'senderSet') throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'frames are reply or senderSet');
    if (s.frames === undefined) throw new CredenceError(PrivacyCodes.JOB_STATE, 'the query is not complete yet');
    const frames = await s.frames;
    const list = kind === 'reply' ? frames.reply : frames.senderSet;
    const bytes = list[seq];
    if (bytes === undefined) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'no frame with this sequence number');
    s.transcript.update(bytes);
    if (kind === 'senderSet' && seq === list.length - 1) this.finishSender(jobId, s);
    return bytes;
  }

  private finishSender(jobId: string, s: SenderSession): void {
    clearTimeout(s.timer);
    this.sessions.delete(jobId);
    s.view.status = 'done';
    s.view.phase = 'sent';
    s.view.done = s.view.total;
    const transcriptHash = s.transcript.digest('hex');
    // Attest once the receiver has committed (poll the chain briefly, in the background).
    void (async () => {
      for (let i = 0; i < 60; i++) {
        const j = this.chainJob(jobId);
        if (j?.status === 'done') return this.chainCall('attest', { jobId, transcriptHash });
        if (j?.status === 'failed') return;
        await new Promise((r) => setTimeout(r, 500));
      }
    })().catch((e) => this.node.log.warn('could not attest the privacy job', { job: jobId, code: fromError(e).code }));
  }

  // ---- zero-knowledge threshold proofs (verified by the compute contract) ----

  /** A verifier registers a zk job; its id is the context the subject must prove for. */
  async zkJob(threshold: number, purpose: string): Promise<{ jobId: string }> {
    const jobId = toHex(randomBytes(32));
    await this.chainCall('register', { jobId, protocol: 'zk', purpose, participants: [this.node.config.orgId], sizes: { threshold } });
    return { jobId };
  }

  /** Submits the subject's proof; the contract verifies it and marks the job done or failed. */
  async zkVerify(jobId: string, body: JsonValue): Promise<{ jobId: string; verified: boolean }> {
    const b = body as { statement?: JsonValue; proof?: JsonValue } | null;
    if (b === null || typeof b !== 'object' || b.statement === undefined || b.proof === undefined) {
      throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'submit {statement, proof}');
    }
    const r = await this.selfClient().call({ contract: 'compute', method: 'verifyThreshold', args: { jobId, statement: b.statement, proof: b.proof } });
    if (r.code !== undefined && r.code !== 'OK') throw new CredenceError(r.code, r.message ?? 'the compute contract refused');
    return r.value as unknown as { jobId: string; verified: boolean };
  }
}
