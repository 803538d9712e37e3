// `credence privacy …`: local datasets, PSI jobs between nodes (with a progress bar), job
// status, and zero-knowledge threshold proofs (issue and prove locally; register and verify on
// chain through a node).

import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { JsonValue } from '../codec/canonicalJson.js';
import { ED25519_SPKI_PREFIX, privateKeyFromPem, rawFromSpki } from '../crypto/rawKeys.js';
import { type Credential, type CredentialSecrets, issueCredential, proveThreshold } from '../crypto/zkThreshold.js';
import { type AggregateStart, DATASET_PART_BYTES, type ModelStart, PrivacyClient, type PrivacyJobStatus, type PsiStart } from '../sdk/privacy.js';
import { toHex } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { type ConnectOpts, addConnectOptions, connect } from './connect.js';
import { Progress, printJson, run } from './output.js';

function readJson(file: string, what: string): JsonValue {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonValue;
  } catch {
    throw new CredenceError('USAGE', `${what}: cannot read JSON from ${file}`);
  }
}

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CredenceError('USAGE', `${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Watch a job with a progress bar until it is no longer running. */
async function watch(privacy: PrivacyClient, id: string, label: string): Promise<PrivacyJobStatus> {
  const bar = new Progress(label);
  return privacy.waitForJob(id, { onProgress: (done, total) => bar.update(done, total) });
}

export function registerPrivacy(program: Command): void {
  const p = program
    .command('privacy')
    .description('privacy computing between nodes: PSI, secure aggregation, private scorecard evaluation, zero-knowledge threshold proofs, job status');
  const ds = p.command('dataset').description('named item lists kept on a node (never on chain)');
  addConnectOptions(
    ds
      .command('put <name> <file>')
      .description('store a dataset (one item per line: enterprise codes or person pseudonyms) on the node; a large file goes in parts, with a progress bar')
      .option('--part-bytes <n>', 'most bytes per request', String(DATASET_PART_BYTES)),
  ).action(
    run(async (name: string, file: string, o: ConnectOpts & { partBytes: string }) => {
      const progress = new Progress(`upload ${name}`);
      const data = new Uint8Array(readFileSync(file));
      printJson(
        await new PrivacyClient(connect(o)).putDataset(name, data, {
          partBytes: Number(o.partBytes),
          onProgress: (sent, total) => progress.update(sent, total),
        }),
      );
    }),
  );

  addConnectOptions(
    p
      .command('psi')
      .description('private set intersection with a peer node: learn which of your dataset’s items are in the peer’s, registered and committed on chain')
      .requiredOption('--dataset <name>', 'your dataset on your node')
      .requiredOption('--peer-url <url>', 'the peer node’s API URL')
      .requiredOption('--peer-org <id>', 'the peer organization id')
      .requiredOption('--peer-dataset <name>', 'the dataset on the peer node')
      .option('--size-only', 'learn only the size of the intersection')
      .option('--purpose <code>', 'purpose code registered with the job', 'CREDIT_CHECK')
      .option('--no-wait', 'print the job id and return at once'),
  ).action(
    run(
      async (
        o: ConnectOpts & { dataset: string; peerUrl: string; peerOrg: string; peerDataset: string; sizeOnly?: boolean; purpose: string; wait: boolean },
      ) => {
        const body: PsiStart = {
          dataset: o.dataset,
          peerUrl: o.peerUrl,
          peerOrg: o.peerOrg,
          peerDataset: o.peerDataset,
          mode: o.sizeOnly ? 'size' : 'set',
          purpose: o.purpose,
        };
        const privacy = new PrivacyClient(connect(o));
        if (!o.wait) return printJson(await privacy.startPsi(body));
        await startAndWatch(privacy, () => privacy.startPsi(body), 'PSI');
      },
    ),
  );

  addConnectOptions(p.command('job <id>').description('a privacy job: this node’s view (progress, result) and the record on chain')).action(
    run(async (id: string, o: ConnectOpts) => printJson(await new PrivacyClient(connect(o)).job(id))),
  );

  registerAggregate(p);
  registerZk(p);
}

/** "org=url" or "org=url=dataset" → {org, url, dataset?} */
function partyOption(v: string, prev: { org: string; url: string; dataset?: string }[] = []) {
  const [org, url, dataset] = v.split('=');
  if (org === undefined || url === undefined || !/^https?:\/\//.test(url)) throw new CredenceError('USAGE', `"${v}" must be ORG=URL or ORG=URL=DATASET`);
  return [...prev, { org, url, ...(dataset === undefined ? {} : { dataset }) }];
}

async function startAndWatch(privacy: PrivacyClient, start: () => Promise<{ id: string }>, label: string): Promise<void> {
  const job = await start();
  const s = await watch(privacy, job.id, label);
  printJson({ jobId: job.id, ...s });
  if (s.local?.status !== 'done') throw new CredenceError(s.local?.error?.code ?? 'FAILED', s.local?.error?.message ?? 'the job failed');
}

function registerAggregate(p: Command): void {
  addConnectOptions(
    p
      .command('aggregate')
      .description('secure aggregation: per SME of your query dataset, the total outstanding loans across banks, no bank’s amount revealed')
      .requiredOption('--dataset <name>', 'your dataset of SME codes (one per line)')
      .requiredOption('--bank <org=url=dataset>', 'a bank node and its amounts dataset ("code,amount" lines); repeat', partyOption)
      .requiredOption('--aggregator <org=url>', 'an aggregator node; give 2 or 3', partyOption)
      .option('--purpose <code>', 'purpose code registered with the job', 'MULTI_LENDING'),
  ).action(
    run(async (o: ConnectOpts & { dataset: string; bank: AggregateStart['banks']; aggregator: AggregateStart['aggregators']; purpose: string }) => {
      const privacy = new PrivacyClient(connect(o));
      const body: AggregateStart = { dataset: o.dataset, banks: o.bank, aggregators: o.aggregator, purpose: o.purpose };
      await startAndWatch(privacy, () => privacy.startAggregate(body), 'aggregation');
    }),
  );
  addConnectOptions(
    p
      .command('model')
      .description('evaluate your confidential linear scorecard on a provider’s confidential features (Paillier): you learn only the score')
      .requiredOption('--scorecard <file>', 'JSON {weights: integers, bias: integer}')
      .requiredOption('--subject <code>', 'the subject whose features the provider holds')
      .requiredOption('--peer-url <url>', 'the provider node’s API URL')
      .requiredOption('--peer-org <id>', 'the provider organization id')
      .requiredOption('--peer-dataset <name>', 'the provider’s features dataset ("code,f1,f2,…" lines)')
      .option('--purpose <code>', 'purpose code registered with the job', 'CREDIT_CHECK'),
  ).action(
    run(async (o: ConnectOpts & { scorecard: string; subject: string; peerUrl: string; peerOrg: string; peerDataset: string; purpose: string }) => {
      const body: ModelStart = {
        scorecard: readJson(o.scorecard, '--scorecard') as unknown as ModelStart['scorecard'],
        subject: o.subject,
        peerUrl: o.peerUrl,
        peerOrg: o.peerOrg,
        peerDataset: o.peerDataset,
        purpose: o.purpose,
      };
      const privacy = new PrivacyClient(connect(o));
      await startAndWatch(privacy, () => privacy.startModel(body), 'model evaluation');
    }),
  );
}

function registerZk(p: Command): void {
  const zk = p.command('zk').description('zero-knowledge proofs of "score ≥ T and no overdue payments" on a signed credential');
  zk.command('issue')
    .description('(scoring organization) issue a credential; the secrets file goes to the subject only')
    .requiredOption('--key <file>', 'issuer private key (Ed25519 PEM)')
    .requiredOption('--subject <id>', 'subject (enterprise code or pseudonym)')
    .requiredOption('--score <n>', 'score, 0-1000')
    .requiredOption('--overdue <n>', 'overdue payments in the last 24 months')
    .requiredOption('--credential <file>', 'where to write the credential (public)')
    .requiredOption('--secrets <file>', 'where to write the openings (private to the subject)')
    .option('--days <n>', 'validity in days', '90')
    .action(
      run((o: { key: string; subject: string; score: string; overdue: string; credential: string; secrets: string; days: string }) => {
        const key = privateKeyFromPem(readFileSync(o.key, 'utf8'), 'issuer key');
        const raw = rawFromSpki(createPublicKey(key), ED25519_SPKI_PREFIX, 32);
        if (raw === undefined) throw new CredenceError('USAGE', 'the issuer key must be an Ed25519 key');
        const now = Date.now();
        const days = int(o.days, '--days', 1, 3660);
        const { credential, secrets } = issueCredential(
          key,
          toHex(raw),
          o.subject,
          int(o.score, '--score', 0, 1000),
          int(o.overdue, '--overdue', 0, 1_000_000),
          now,
          now + days * 86_400_000,
        );
        writeFileSync(o.credential, `${JSON.stringify(credential, null, 2)}\n`);
        writeFileSync(o.secrets, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
        printJson({ credential: o.credential, secrets: o.secrets });
      }),
    );
  addConnectOptions(
    zk
      .command('job')
      .description('(verifier) register a zk job on chain; give its id to the subject as the proof context')
      .requiredOption('--threshold <n>', 'the score threshold T')
      .option('--purpose <code>', 'purpose code', 'CREDIT_CHECK'),
  ).action(
    run(async (o: ConnectOpts & { threshold: string; purpose: string }) => {
      printJson(await new PrivacyClient(connect(o)).zkJob(int(o.threshold, '--threshold', 0, 1000), o.purpose));
    }),
  );
  zk.command('prove')
    .description('(subject) prove score ≥ T and no overdue payments for a verifier’s job, without revealing the values')
    .requiredOption('--credential <file>', 'the credential')
    .requiredOption('--secrets <file>', 'its secrets')
    .requiredOption('--job <id>', 'the verifier’s job id')
    .requiredOption('--threshold <n>', 'the threshold T of the job')
    .requiredOption('--out <file>', 'where to write {statement, proof}')
    .action(
      run((o: { credential: string; secrets: string; job: string; threshold: string; out: string }) => {
        const statement = {
          credential: readJson(o.credential, '--credential') as unknown as Credential,
          threshold: int(o.threshold, '--threshold', 0, 1000),
          context: o.job,
        };
        const proof = proveThreshold(statement, readJson(o.secrets, '--secrets') as unknown as CredentialSecrets);
        writeFileSync(o.out, `${JSON.stringify({ statement, proof })}\n`);
        printJson({ proof: o.out });
      }),
    );
  addConnectOptions(
    zk
      .command('verify')
      .description('(verifier) submit a proof; the compute contract verifies it and records the outcome on chain')
      .requiredOption('--job <id>', 'the job id')
      .requiredOption('--proof <file>', 'the {statement, proof} file from zk prove'),
  ).action(
    run(async (o: ConnectOpts & { job: string; proof: string }) => {
      const r = await new PrivacyClient(connect(o)).zkVerify(o.job, readJson(o.proof, '--proof'));
      printJson(r);
      if (!r.verified) throw new CredenceError('PRIVACY_BAD_PROOF', 'the proof does not verify; the job is marked failed on chain');
    }),
  );
}
