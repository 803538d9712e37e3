// The data-space commands: subject wallets, subject registration, consents, access,
// disputes and the subject view. Subject commands sign with the wallet (--wallet, --url of
// any node); member commands sign with a member key (--config or --url/--key).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { getSuite } from '../crypto/suites.js';
import { subjectIdOf } from '../dataspace/identifiers.js';
import { CredenceClient } from '../sdk/client.js';
import { SubjectClient, approveAccess, registerSubject, requestAccess, resolveDispute, setTwoPersonRule } from '../sdk/dataspace.js';
import { createWallet, loadWallet } from '../sdk/wallet.js';
import { fromHexStrict } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { run } from './commands.js';
import { type ConnectOpts, addConnectOptions, connect } from './connect.js';
import { printJson } from './output.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface WalletOpts {
  wallet: string;
  url: string;
}

function walletOptions(cmd: Command): Command {
  return cmd
    .option('-w, --wallet <file>', 'subject wallet file', 'wallet.json')
    .requiredOption('--url <url>', 'URL of a node (for disputes: the provider of the record)');
}

function subjectClient(o: WalletOpts): SubjectClient {
  const w = loadWallet(o.wallet, getSuite);
  const client = new CredenceClient({ url: o.url, suite: getSuite(w.suite), signer: w.signer });
  return new SubjectClient(client, w.signer);
}

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function registerDataspace(program: Command): void {
  registerWallet(program);
  registerSubjectCmds(program);
  registerConsent(program);
  registerAccess(program);
  registerDispute(program);
}

function registerWallet(program: Command): void {
  const wallet = program.command('wallet').description("a subject's key file (keep it private)");
  wallet
    .command('new')
    .description('create a wallet with a new signing key; give its public key to the registration authority')
    .option('-o, --out <file>', 'wallet file to create', 'wallet.json')
    .option('--suite <name>', 'crypto suite of the network: default or gm', 'default')
    .action(
      run((o: { out: string; suite: string }) => {
        const w = createWallet(resolve(o.out), getSuite(o.suite));
        process.stdout.write(
          `wrote ${w.file}\npublic key: ${w.publicKey}\nnext: ask the registration authority to run\n  credence subject register --public-key ${w.publicKey} ...\n`,
        );
      }),
    );
  wallet
    .command('show')
    .description("the wallet's public key, and with --url the subject id it is registered to")
    .option('-w, --wallet <file>', 'wallet file', 'wallet.json')
    .option('--url <url>', 'a node URL, to look up the registration')
    .action(
      run(async (o: { wallet: string; url?: string }) => {
        const w = loadWallet(o.wallet, getSuite);
        const me = o.url === undefined ? undefined : await subjectClient({ wallet: o.wallet, url: o.url }).me();
        printJson({ file: w.file, suite: w.suite, publicKey: w.publicKey, ...(me === undefined ? {} : { subject: me.subject, chainId: me.chainId }) });
      }),
    );
}

/** The network's pseudonym secret: a 32-byte file (raw or hex), by default next to the node config. */
function pseudonymSecret(o: ConnectOpts & { pseudonymKey?: string }): Uint8Array {
  const file = o.pseudonymKey ?? (o.config === undefined ? undefined : join(dirname(resolve(o.config)), 'pseudonym.key'));
  if (file === undefined || !existsSync(file)) throw new CredenceError('USAGE', 'a person needs the network pseudonym secret: --pseudonym-key <file>');
  const raw = readFileSync(file);
  const secret = raw.byteLength === 32 ? new Uint8Array(raw) : fromHexStrict(raw.toString('utf8').trim());
  if (secret === undefined || secret.byteLength !== 32) throw new CredenceError('CONFIG', `${file} is not a 32-byte pseudonym secret`);
  return secret;
}

function registerSubjectCmds(program: Command): void {
  const subject = program.command('subject').description('subjects: registration and the subject view');
  addConnectOptions(subject.command('register').description('bind a subject key to its subject id (registration authority only)'))
    .requiredOption('--public-key <hex>', 'the public key from `credence wallet new`')
    .option('--subject <id>', 'subject id, E:<USCC> or P:<pseudonym>')
    .option('--id-stdin', 'read the raw USCC or resident ID number from stdin (never from the command line)')
    .option('--pseudonym-key <file>', 'network pseudonym secret (default: pseudonym.key beside --config)')
    .option('--rebind', 'replace the keys already bound to this subject (lost key)')
    .action(
      run(async (o: ConnectOpts & { publicKey: string; subject?: string; idStdin?: boolean; pseudonymKey?: string; rebind?: boolean }) => {
        let subjectId = o.subject;
        if (o.idStdin === true) subjectId = subjectIdOf(pseudonymSecret(o), readFileSync(0, 'utf8').trim());
        if (subjectId === undefined) throw new CredenceError('USAGE', 'give --subject <id> or --id-stdin');
        const r = await registerSubject(connect(o), subjectId, o.publicKey, o.rebind === true);
        if (r.code !== 'OK') throw new CredenceError(r.code ?? 'REFUSED', 'the identity contract refused the registration');
        printJson({ subject: subjectId, publicKey: o.publicKey, txId: r.id, height: r.height });
      }),
    );
  walletOptions(
    subject
      .command('view')
      .description(
        'everything the chain holds about you: records, every access (including refusals), what each provider did with it (delivered or refused, or found forged by the consumer), consents, disputes',
      ),
  ).action(run(async (o: WalletOpts) => printJson(await subjectClient(o).view())));
}

function registerConsent(program: Command): void {
  const consent = program.command('consent').description("a subject's consents, signed with its wallet");
  walletOptions(consent.command('grant').description('let a consumer organization use your records in some categories for one purpose'))
    .requiredOption('--consumer <org>', 'consumer organization id')
    .requiredOption('--categories <list>', 'comma-separated categories, e.g. tax,court')
    .requiredOption('--purpose <code>', 'purpose code, e.g. LOAN_APPROVAL')
    .option('--days <n>', 'days until the consent expires', '30')
    .option('--single-use', 'authorize a single access only')
    .action(
      run(async (o: WalletOpts & { consumer: string; categories: string; purpose: string; days: string; singleUse?: boolean }) => {
        const days = Number(o.days);
        if (!Number.isFinite(days) || days <= 0 || days > 366) throw new CredenceError('USAGE', '--days must be from 1 to 366');
        const r = await subjectClient(o).grantConsent({
          consumer: o.consumer,
          categories: list(o.categories),
          purpose: o.purpose,
          expiresAt: Date.now() + days * DAY_MS,
          singleUse: o.singleUse === true,
        });
        printJson({ consentId: r.consentId, txId: r.result.id, height: r.result.height });
      }),
    );
  walletOptions(consent.command('revoke <consentId>').description('revoke a consent (effective from the next block)')).action(
    run(async (consentId: string, o: WalletOpts) => printJson(await subjectClient(o).revokeConsent(consentId))),
  );
  walletOptions(consent.command('list').description('your consents and their state')).action(
    run(async (o: WalletOpts) => printJson((await subjectClient(o).view()).consents)),
  );
}

function registerAccess(program: Command): void {
  const access = program.command('access').description('a consumer asks for records under a consent');
  addConnectOptions(access.command('request').description('ask for access; the decision (authorized, pending or refused) is recorded on chain'))
    .requiredOption('--subject <id>', 'subject id')
    .requiredOption('--consent <id>', 'consent id')
    .requiredOption('--categories <list>', 'comma-separated categories')
    .requiredOption('--purpose <code>', 'purpose code')
    .action(
      run(async (o: ConnectOpts & { subject: string; consent: string; categories: string; purpose: string }) => {
        const d = await requestAccess(connect(o), { subject: o.subject, consentId: o.consent, categories: list(o.categories), purpose: o.purpose });
        printJson(d);
        if (d.status === 'refused') process.exitCode = 1;
      }),
    );
  addConnectOptions(access.command('approve <accessId>').description('second person: approve (or --deny) a pending request of your organization'))
    .option('--deny', 'refuse instead')
    .action(
      run(async (accessId: string, o: ConnectOpts & { deny?: boolean }) => {
        const d = await approveAccess(connect(o), accessId, o.deny !== true);
        printJson(d);
        if (d.status === 'refused') process.exitCode = 1;
      }),
    );
  addConnectOptions(access.command('policy').description("your organization's two-person rule"))
    .requiredOption('--two-person <on|off>', 'on or off (turning it off while on needs a second key)')
    .action(
      run(async (o: ConnectOpts & { twoPerson: string }) => {
        if (o.twoPerson !== 'on' && o.twoPerson !== 'off') throw new CredenceError('USAGE', '--two-person takes on or off');
        printJson(await setTwoPersonRule(connect(o), o.twoPerson === 'on'));
      }),
    );
}

function registerDispute(program: Command): void {
  const dispute = program.command('dispute').description('disputes about records');
  walletOptions(dispute.command('open').description("dispute a record about you, through its provider's node (--url)"))
    .requiredOption('--record <id>', 'record id (see `credence subject view`)')
    .option('--statement <text>', 'your statement')
    .option('--statement-file <file>', 'read your statement from a file')
    .action(
      run(async (o: WalletOpts & { record: string; statement?: string; statementFile?: string }) => {
        const text = o.statementFile === undefined ? o.statement : readFileSync(o.statementFile, 'utf8');
        if (text === undefined) throw new CredenceError('USAGE', 'give --statement or --statement-file');
        const r = await subjectClient(o).openDispute(o.record, text);
        printJson({ disputeId: r.disputeId, txId: r.result.id, value: r.result.value });
      }),
    );
  addConnectOptions(dispute.command('resolve <disputeId>').description('provider: resolve a dispute (within 20 days)'))
    .requiredOption('--outcome <outcome>', 'corrected or upheld')
    .option('--correction <recordId>', 'the new version that corrects the record (for corrected)')
    .action(
      run(async (id: string, o: ConnectOpts & { outcome: string; correction?: string }) => {
        if (o.outcome !== 'corrected' && o.outcome !== 'upheld') throw new CredenceError('USAGE', '--outcome must be corrected or upheld');
        const r = await resolveDispute(connect(o), id, o.outcome, o.correction);
        printJson(r);
        if (r.code !== 'OK') process.exitCode = 1;
      }),
    );
  walletOptions(dispute.command('list').description('your disputes, with overdue flags')).action(
    run(async (o: WalletOpts) => printJson((await subjectClient(o).view()).disputes)),
  );
}
