// Source files a provider imports: JSONL (one JSON object per line) and CSV (RFC 4180: a
// header row, comma-separated, double-quoted fields may hold commas, quotes and newlines).
// Both parse incrementally, chunk by chunk, so a file of any size streams through bounded
// memory; each data row gets its 1-based number for the error report.

import type { JsonValue } from '../codec/canonicalJson.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { Row } from './importer.js';
import type { SchemaDefinition } from './schemas/catalog.js';

export type SourceFormat = 'jsonl' | 'csv';

/** A parsed data row, or the reason it could not be parsed. */
export type SourceRow = { row: number; value: Row } | { row: number; error: { code: string; message: string } };

/** Longest line or CSV record accepted. */
export const SOURCE_LINE_BYTES_MAX = 1024 * 1024;

function tooLong(): never {
  throw new CredenceError(Codes.TOO_LARGE, `a source line is longer than ${SOURCE_LINE_BYTES_MAX} bytes`);
}

/** Incremental CSV record splitter (RFC 4180). */
class CsvSplitter {
  private field = '';
  private record: string[] = [];
  private quoted = false;
  private quoteSeen = false;
  private size = 0;

  push(text: string, out: string[][]): void {
    for (const ch of text) {
      if (++this.size > SOURCE_LINE_BYTES_MAX) tooLong();
      if (this.quoted) {
        if (ch === '"') {
          this.quoted = false;
          this.quoteSeen = true;
        } else this.field += ch;
        continue;
      }
      if (ch === '"') {
        if (this.quoteSeen) this.field += '"';
        this.quoted = true;
        this.quoteSeen = false;
      } else if (ch === ',') {
        this.endField();
      } else if (ch === '\n') {
        this.endRecord(out);
      } else if (ch !== '\r') {
        this.field += ch;
        this.quoteSeen = false;
      }
    }
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = '';
    this.quoteSeen = false;
  }

  private endRecord(out: string[][]): void {
    this.endField();
    if (!(this.record.length === 1 && this.record[0] === '')) out.push(this.record);
    this.record = [];
    this.size = 0;
  }

  end(out: string[][]): void {
    if (this.quoted) throw new CredenceError(Codes.MALFORMED, 'the CSV ends inside a quoted field');
    if (this.field !== '' || this.record.length > 0) this.endRecord(out);
  }
}

function coerce(def: SchemaDefinition, name: string, text: string): JsonValue {
  const prop = ((def.jsonSchema.properties ?? {}) as Record<string, { type?: string }>)[name];
  if (prop?.type === 'integer' && /^-?\d{1,16}$/.test(text)) return Number(text);
  if (prop?.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/** Turns chunks of a JSONL or CSV source into rows; CSV values are typed by the schema. */
export class SourceParser {
  private row = 0;
  private pending = '';
  private readonly csv = new CsvSplitter();
  private header: string[] | undefined;

  constructor(
    private readonly format: SourceFormat,
    private readonly def: SchemaDefinition,
  ) {}

  push(chunk: string): SourceRow[] {
    return this.format === 'jsonl' ? this.jsonl(chunk, false) : this.csvRows(chunk, false);
  }

  end(): SourceRow[] {
    return this.format === 'jsonl' ? this.jsonl('', true) : this.csvRows('', true);
  }

  private jsonl(chunk: string, last: boolean): SourceRow[] {
    const text = this.pending + chunk;
    const lines = text.split('\n');
    this.pending = last ? '' : (lines.pop() ?? '');
    if (this.pending.length > SOURCE_LINE_BYTES_MAX) tooLong();
    const out: SourceRow[] = [];
    for (const line of lines) {
      const t = line.trim();
      if (t === '') continue;
      const row = ++this.row;
      try {
        const v = JSON.parse(t) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v))
          out.push({ row, error: { code: Codes.MALFORMED, message: 'a JSONL line must be a JSON object' } });
        else out.push({ row, value: v as Row });
      } catch {
        out.push({ row, error: { code: Codes.MALFORMED, message: 'the line is not valid JSON' } });
      }
    }
    return out;
  }

  private csvRows(chunk: string, last: boolean): SourceRow[] {
    const records: string[][] = [];
    this.csv.push(chunk, records);
    if (last) this.csv.end(records);
    const out: SourceRow[] = [];
    for (const rec of records) {
      if (this.header === undefined) {
        this.header = rec.map((h) => h.trim());
        if (new Set(this.header).size !== this.header.length) throw new CredenceError(Codes.MALFORMED, 'the CSV header names a column twice');
        continue;
      }
      const row = ++this.row;
      if (rec.length !== this.header.length) {
        out.push({ row, error: { code: Codes.MALFORMED, message: `the row has ${rec.length} fields, the header ${this.header.length}` } });
        continue;
      }
      const value: Row = {};
      this.header.forEach((name, i) => {
        const text = rec[i] as string;
        if (text !== '') value[name] = coerce(this.def, name, text);
      });
      out.push({ row, value });
    }
    return out;
  }
}

/** Parse a whole source text at once (the REST endpoint's body). */
export function parseSource(format: SourceFormat, def: SchemaDefinition, text: string): SourceRow[] {
  const p = new SourceParser(format, def);
  return [...p.push(text), ...p.end()];
}
