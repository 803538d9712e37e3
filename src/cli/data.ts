// `credence data …`: the provider's commands. Import streams a JSONL or CSV file to the
// provider's own node in pieces (progress bar on a terminal), writes a row-level error
// report, and keeps the good rows; the node validates, encrypts into its vault and anchors.

import { createReadStream, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { JsonValue } from '../codec/canonicalJson.js';
import type { SchemaDefinition } from '../dataspace/schemas/catalog.js';
import { BUILTIN_SCHEMAS, builtinSchema } from '../dataspace/schemas/catalog.js';
import { SOURCE_LINE_BYTES_MAX, type SourceFormat, SourceParser, type SourceRow } from '../dataspace/sources.js';
import type { CredenceClient } from '../sdk/client.js';
import { type ImportResultJson, ProviderClient, type RowErrorJson } from '../sdk/provider.js';
import { CredenceError, Codes } from '../util/errors.js';
import { type ConnectOpts, addConnectOptions, connect } from './connect.js';
import { Progress, printJson, run } from './output.js';

/** Rows sent to the node per request while streaming a file. */
const ROWS_PER_REQUEST = 2000;

export interface ImportSummary {
  readonly rows: number;
  readonly anchored: number;
  readonly errors: number;
  readonly pending: number;
  readonly batches: number;
  readonly errorReport?: string;
}

async function registeredSchema(client: CredenceClient, id: string): Promise<SchemaDefinition> {
  const v = (await client.state(`schema/${encodeURIComponent(id)}`)).value;
  if (v === null)
    throw new CredenceError(Codes.UNKNOWN_SCHEMA, `schema "${id}" is not registered on chain: propose it with "credence data schemas register ${id}"`);
  return v as unknown as SchemaDefinition;
}

function formatOf(file: string, given: string | undefined): SourceFormat {
  const f = given ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  if (f !== 'csv' && f !== 'jsonl') throw new CredenceError('USAGE', '--format must be jsonl or csv');
  return f;
}

/** Pieces of a JSONL stream of at most `rows` non-blank lines each, with the number of the first. */
async function* jsonlPieces(chunks: AsyncIterable<string>, rows: number): AsyncGenerator<{ bytes: Uint8Array; firstRow: number; lines: number }> {
  let lines: string[] = [];
  let firstRow = 1;
  let pending = '';
  const piece = () => {
    const out = { bytes: Buffer.from(lines.join('\n'), 'utf8'), firstRow, lines: lines.length };
    firstRow += lines.length;
    lines = [];
    return out;
  };
  for await (const chunk of chunks) {
    const parts = (pending + chunk).split('\n');
    pending = parts.pop() ?? '';
    if (pending.length > SOURCE_LINE_BYTES_MAX) throw new CredenceError(Codes.TOO_LARGE, `a source line is longer than ${SOURCE_LINE_BYTES_MAX} bytes`);
    for (const line of parts) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length === rows) yield piece();
    }
  }
  if (pending.trim() !== '') lines.push(pending);
  if (lines.length > 0) yield piece();
}

/** Rows parsed here (CSV) go to the node as JSON rows with their source numbers. */
async function importParsed(
  provider: ProviderClient,
  schema: string,
  parser: SourceParser,
  chunks: AsyncIterable<string>,
  errors: RowErrorJson[],
  totals: { rows: number },
  count: (res: ImportResultJson) => void,
): Promise<void> {
  let buffer: { row: number; value: { [k: string]: JsonValue } }[] = [];
  const flush = async () => {
    if (buffer.length === 0) return;
    count(
      await provider.importRows(
        schema,
        buffer.map((r) => r.value),
        buffer.map((r) => r.row),
      ),
    );
    buffer = [];
  };
  const take = async (rows: SourceRow[]) => {
    for (const r of rows) {
      totals.rows++;
      if ('error' in r) errors.push({ row: r.row, ...r.error });
      else buffer.push(r);
      if (buffer.length >= ROWS_PER_REQUEST) await flush();
    }
  };
  for await (const chunk of chunks) await take(parser.push(chunk));
  await take(parser.end());
  await flush();
}

/** Stream a source file into the provider node; returns the summary and writes the error report. */
export async function importFile(
  client: CredenceClient,
  file: string,
  schema: string,
  opts: { format?: string; errorsFile?: string; progress?: boolean } = {},
): Promise<ImportSummary> {
  const def = await registeredSchema(client, schema);
  const provider = new ProviderClient(client);
  const format = formatOf(file, opts.format);
  const size = statSync(file).size;
  const progress = opts.progress === false ? undefined : new Progress(`import ${schema}`);
  const errors: RowErrorJson[] = [];
  const totals = { rows: 0, anchored: 0, pending: 0, batches: 0 };
  const count = (res: ImportResultJson) => {
    totals.anchored += res.anchored;
    totals.pending += res.pending.length;
    totals.batches += res.batches.length;
    errors.push(...res.errors);
  };
  let read = 0;
  const chunks = async function* () {
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
      read += Buffer.byteLength(chunk as string);
      yield chunk as string;
      progress?.update(Math.min(read, size), size);
    }
  };
  if (format === 'jsonl') {
    // JSONL goes as it is: the node parses each line where it seals the rows (one copy of the bytes, no re-encoding).
    for await (const piece of jsonlPieces(chunks(), ROWS_PER_REQUEST)) {
      totals.rows += piece.lines;
      count(await provider.importJsonl(schema, piece.bytes, piece.firstRow));
    }
  } else {
    await importParsed(provider, schema, new SourceParser(format, def), chunks(), errors, totals, count);
  }
  if (read < size) progress?.update(size, size);
  errors.sort((a, b) => a.row - b.row);
  const report = opts.errorsFile ?? `${file}.errors.jsonl`;
  if (errors.length > 0)
    writeFileSync(
      report,
      errors
        .map((e) => JSON.stringify(e))
        .join('\n')
        .concat('\n'),
    );
  return { ...totals, errors: errors.length, ...(errors.length > 0 ? { errorReport: report } : {}) };
}

/** Propose the built-in schemas through governance and vote yes with each given client. */
export async function registerSchemas(proposer: CredenceClient, voters: readonly CredenceClient[], ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const schema = builtinSchema(id);
    if (schema === undefined) throw new CredenceError('USAGE', `no built-in schema "${id}" (have: ${BUILTIN_SCHEMAS.map((s) => s.id).join(', ')})`);
    const r = await proposer.call({ contract: 'gov', method: 'propose', args: { kind: 'registerSchema', schema: schema as unknown as JsonValue } });
    const proposal = r.value as { proposalId: number; status: string };
    for (const v of voters) {
      if (proposal.status !== 'open') break;
      const res = await v.call({ contract: 'gov', method: 'vote', args: { proposalId: proposal.proposalId, approve: true } });
      proposal.status = (res.value as { status: string }).status;
    }
  }
}

export function registerData(program: Command): void {
  const data = program.command('data').description("a provider's records: import, schemas, expiry");
  addConnectOptions(
    data
      .command('import <file>')
      .description('import a JSONL or CSV file of records: validated, encrypted into the vault, anchored on chain; bad rows go to an error report')
      .requiredOption('-s, --schema <id>', 'schema of the rows, e.g. tax-payment (see: credence data schemas list)')
      .option('-f, --format <format>', 'jsonl or csv (default: from the file name)')
      .option('-e, --errors <file>', 'where to write the row-level error report (default: FILE.errors.jsonl)'),
  ).action(
    run(async (file: string, o: ConnectOpts & { schema: string; format?: string; errors?: string }) => {
      const summary = await importFile(connect(o), file, o.schema, {
        ...(o.format ? { format: o.format } : {}),
        ...(o.errors ? { errorsFile: o.errors } : {}),
      });
      printJson(summary);
      if (summary.errors > 0) process.stderr.write(`${summary.errors} row(s) were not imported; see ${summary.errorReport}\n`);
      process.exitCode = summary.errors > 0 || summary.pending > 0 ? 1 : 0;
    }),
  );
  const schemas = data.command('schemas').description('the built-in credit-data schemas');
  addConnectOptions(schemas.command('list').description('built-in schemas and which are registered on chain')).action(
    run(async (o: ConnectOpts) => printJson(await new ProviderClient(connect(o)).schemas())),
  );
  addConnectOptions(
    schemas
      .command('register <ids...>')
      .description('propose built-in schemas for registration (a governance vote; other members vote with credence gov vote)'),
  ).action(run(async (ids: string[], o: ConnectOpts) => registerSchemas(connect(o), [], ids)));
  addConnectOptions(data.command('recover').description('settle import batches a crash left pending')).action(
    run(async (o: ConnectOpts) => printJson(await new ProviderClient(connect(o)).recover())),
  );
  addConnectOptions(
    data
      .command('sweep')
      .description('expire negative records past retention: chain marks them expired, the vault destroys their keys')
      .option('--now <iso>', 'sweep as of this time (the chain still decides by block time)'),
  ).action(
    run(async (o: ConnectOpts & { now?: string }) => {
      const now = o.now === undefined ? undefined : Date.parse(o.now);
      if (now !== undefined && Number.isNaN(now)) throw new CredenceError('USAGE', '--now must be an ISO date or time');
      printJson(await new ProviderClient(connect(o)).sweepExpired(now));
    }),
  );
  addConnectOptions(data.command('vault').description('how many records the vault holds (live, pending, destroyed)')).action(
    run(async (o: ConnectOpts) => printJson(await new ProviderClient(connect(o)).vaultStats())),
  );
}
