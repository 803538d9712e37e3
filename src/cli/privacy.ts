// `credence privacy …`: local datasets, PSI jobs between nodes (with a progress bar), job
// status, and zero-knowledge threshold proofs (issue and prove locally; register and verify on
// chain through a node).

import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { JsonValue } from '../codec/canonicalJson.js';
import { ED25519_SPKI_PREFIX, privateKeyFromPem, rawFromSpki } from '../crypto/rawKeys.js';
import { type Credential, type CredentialSecrets, issueCredential, proveThreshold } from '../crypto/zkThreshold.js';
import type { CredenceClient } from '../sdk/client.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
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

interface JobStatus {
  local: { status: string; phase: string; done: number; total: number; result?: JsonValue; error?: { code: string; message: string } } | null;
  chain: JsonValue;
}

async function watch(client: CredenceClient, id: string, label: string): Promise<JobStatus> {
  const bar = new Progress(label);
  for (;;) {
    const s = await client.request<JobStatus>('GET', `/v1/privacy/jobs/${id}`);
    if (s.local !== null) bar.update(Math.min(s.local.done, s.local.total), s.local.total);
    if (s.local === null || s.local.status !== 'running') return s;
    await new Promise((r) => setTimeout(r, 250));
  }
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
      .option('--part-bytes <n>', 'most bytes per request', String(UPLOAD_PART_BYTES)),
  ).action(
    run(async (name: string, file: string, o: ConnectOpts & { partBytes: string }) => {
      printJson(await uploadDataset(connect(o), name, new Uint8Array(readFileSync(file)), Number(o.partBytes)));
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
        const client = connect(o);
        const body = {
          dataset: o.dataset,
          peerUrl: o.peerUrl,
          peerOrg: o.peerOrg,
          peerDataset: o.peerDataset,
          mode: o.sizeOnly ? 'size' : 'set',
          purpose: o.purpose,
        };
        if (!o.wait) return printJson(await client.request<{ id: string }>('POST', '/v1/privacy/psi', body));
        await startAndWatch(o, '/v1/privacy/psi', body, 'PSI');
      },
    ),
  );

  addConnectOptions(p.command('job <id>').description('a privacy job: this node’s view (progress, result) and the record on chain')).action(
    run(async (id: string, o: ConnectOpts) => printJson(await connect(o).request('GET', `/v1/privacy/jobs/${encodeURIComponent(id)}`))),
  );

  registerAggregate(p);
  registerZk(p);
}

/** Below the node's default 16 MiB body limit, with room to spare. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;

/** Split at line ends into parts of at most `max` bytes (a single longer line is its own part). */
function splitLines(data: Uint8Array, max: number): Uint8Array[] {
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

async function uploadDataset(client: CredenceClient, name: string, data: Uint8Array, partBytes: number): Promise<JsonValue> {
  if (!Number.isInteger(partBytes) || partBytes < 1024) throw new CredenceError(Codes.MALFORMED, '--part-bytes must be an integer of at least 1024');
  const path = `/v1/privacy/datasets/${encodeURIComponent(name)}`;
  const parts = splitLines(data, partBytes);
  if (parts.length === 1) return client.request('PUT', path, data);
  const progress = new Progress(`upload ${name}`);
  let result: JsonValue = null;
  let sent = 0;
  for (const [i, part] of parts.entries()) {
    result = await client.request('PUT', `${path}?part=${i}&parts=${parts.length}`, part);
    sent += part.byteLength;
    progress.update(sent, data.byteLength);
  }
  return result;
}

/** "org=url" or "org=url=dataset" → {org, url, dataset?} */
function partyOption(v: string, prev: { org: string; url: string; dataset?: string }[] = []) {
  const [org, url, dataset] = v.split('=');
  if (org === undefined || url === undefined || !/^https?:\/\//.test(url)) throw new CredenceError('USAGE', `"${v}" must be ORG=URL or ORG=URL=DATASET`);
  return [...prev, { org, url, ...(dataset === undefined ? {} : { dataset }) }];
}

async function startAndWatch(o: ConnectOpts, path: string, body: JsonValue, label: string): Promise<void> {
  const client = connect(o);
  const job = await client.request<{ id: string }>('POST', path, body);
  const s = await watch(client, job.id, label);
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
    run(async (o: ConnectOpts & { dataset: string; bank: JsonValue; aggregator: JsonValue; purpose: string }) => {
      await startAndWatch(o, '/v1/privacy/aggregate', { dataset: o.dataset, banks: o.bank, aggregators: o.aggregator, purpose: o.purpose }, 'aggregation');
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
      const body = {
        scorecard: readJson(o.scorecard, '--scorecard'),
        subject: o.subject,
        peerUrl: o.peerUrl,
        peerOrg: o.peerOrg,
        peerDataset: o.peerDataset,
        purpose: o.purpose,
      };
      await startAndWatch(o, '/v1/privacy/model', body, 'model evaluation');
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
      printJson(await connect(o).request('POST', '/v1/privacy/zk/jobs', { threshold: int(o.threshold, '--threshold', 0, 1000), purpose: o.purpose }));
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
      const r = await connect(o).request<{ verified: boolean }>('POST', `/v1/privacy/zk/jobs/${encodeURIComponent(o.job)}/proof`, readJson(o.proof, '--proof'));
      printJson(r);
      if (!r.verified) throw new CredenceError('PRIVACY_BAD_PROOF', 'the proof does not verify; the job is marked failed on chain');
    }),
  );
}
