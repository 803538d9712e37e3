// Private scorecard evaluation between nodes. The bank's node (model owner) registers the job on
// chain, encrypts its scorecard under a fresh Paillier key and sends it to the provider's node,
// which evaluates it homomorphically on the subject's features from a local dataset
// ("code,f1,f2,…" lines) and answers with one re-randomized ciphertext; the bank decrypts the
// score and commits a salted result hash. The provider never sees the weights; the bank sees
// only the score. Failures are coded and mark the job failed on chain.

import { createHash, randomBytes } from 'node:crypto';
import type { JsonValue } from '../codec/canonicalJson.js';
import { PrivacyCodes } from '../privacy/codes.js';
import { decryptScore, type EncryptedModel, encryptModel, evaluateModel, paillierKeyGen } from '../privacy/paillier.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { JobView, PrivacyService } from './privacyJobs.js';

export interface Scorecard {
  readonly weights: number[];
  readonly bias: number;
}

export interface StartModel {
  readonly scorecard: Scorecard;
  readonly subject: string;
  readonly peerUrl: string;
  readonly peerOrg: string;
  readonly peerDataset: string;
  readonly purpose: string;
}

function featuresOf(rows: readonly string[], subject: string): number[] {
  for (const row of rows) {
    const [code, ...fs] = row.split(',');
    if (code?.trim() !== subject) continue;
    const xs = fs.map(Number);
    if (xs.length === 0 || !xs.every(Number.isSafeInteger)) throw new CredenceError(Codes.MALFORMED, 'a features dataset has lines "code,f1,f2,…" of integers');
    return xs;
  }
  throw new CredenceError(Codes.NOT_FOUND, 'the provider has no features for this subject');
}

export class ModelJobs {
  private readonly answered = new Set<string>();

  constructor(private readonly svc: PrivacyService) {}

  async start(o: StartModel): Promise<JobView> {
    const id = toHex(randomBytes(32));
    const k = o.scorecard.weights.length;
    await this.svc.chainCall('register', {
      jobId: id,
      protocol: 'model',
      purpose: o.purpose,
      participants: [this.svc.orgId, o.peerOrg],
      sizes: { features: k },
    });
    const view = this.svc.addJob({ id, protocol: 'model', role: 'owner', status: 'running', phase: 'encrypting', done: 0, total: 3 });
    void this.run(view, o).catch((e) => this.svc.markFailed(view, e));
    return view;
  }

  private async run(view: JobView, o: StartModel): Promise<void> {
    const key = paillierKeyGen();
    const model = encryptModel(key, o.scorecard.weights, o.scorecard.bias);
    view.phase = 'evaluating at the provider';
    view.done = 1;
    const r = await this.svc.peerClient(o.peerUrl).request<{ answer: string }>('POST', `/v1/privacy/model/${view.id}/evaluate`, {
      subject: o.subject,
      dataset: o.peerDataset,
      model: model as unknown as JsonValue,
    });
    view.done = 2;
    const score = decryptScore(key, r.answer);
    const resultHash = createHash('sha256').update(randomBytes(32)).update(score.toString()).digest('hex');
    const transcriptHash = createHash('sha256').update(JSON.stringify(model)).update(r.answer).digest('hex');
    await this.svc.chainCall('complete', { jobId: view.id, resultHash, transcriptHash });
    view.result = { score: score.toString() };
    view.done = 3;
    view.phase = 'committed';
    view.status = 'done';
  }

  /** Provider: evaluate the encrypted scorecard on the subject's features. */
  async evaluate(jobId: string, callerKey: string, body: JsonValue): Promise<{ answer: string }> {
    const b = body as { subject?: unknown; dataset?: unknown; model?: unknown } | null;
    if (
      b === null ||
      typeof b !== 'object' ||
      typeof b.subject !== 'string' ||
      typeof b.dataset !== 'string' ||
      b.model === null ||
      typeof b.model !== 'object'
    ) {
      throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'evaluate needs subject, dataset and model');
    }
    const caller = this.svc.callerOrg(callerKey);
    if (this.answered.has(jobId)) throw new CredenceError(PrivacyCodes.REPLAYED, 'this job was answered before');
    const job = await this.svc.registeredJob(jobId);
    if (job === undefined || job.protocol !== 'model' || job.status !== 'registered')
      throw new CredenceError(PrivacyCodes.JOB_STATE, 'no registered model job with this id on chain');
    if (job.participants[0] !== caller || job.participants[1] !== this.svc.orgId)
      throw new CredenceError(Codes.FORBIDDEN, 'this node and the caller are not the job’s participants');
    const model = b.model as unknown as EncryptedModel;
    if (!Array.isArray(model.weights) || model.weights.length !== job.sizes.features)
      throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, 'the model size differs from the one registered on chain');
    this.answered.add(jobId);
    const view = this.svc.addJob({ id: jobId, protocol: 'model', role: 'provider', status: 'running', phase: 'evaluating', done: 0, total: 1 });
    try {
      const answer = evaluateModel(model, featuresOf(this.svc.dataset(b.dataset), b.subject));
      view.status = 'done';
      view.done = 1;
      return { answer };
    } catch (e) {
      void this.svc.markFailed(view, e);
      throw e;
    }
  }
}
