// Record validation against a schema definition. We use Ajv (the standard JSON Schema
// validator for JavaScript, draft 2020-12): it compiles each schema once into a plain
// function, which keeps validation far below the import budget (≥ 50,000 records/s), and
// its error objects name the failing path and rule without copying the offending value,
// so a row-level error report never repeats personal data.

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { forbiddenFieldsIn } from '../contracts/schemaRules.js';
import { CredenceError, Codes } from '../util/errors.js';
import type { SchemaDefinition } from './schemas/catalog.js';

export interface FieldError {
  /** JSON pointer into the record data, e.g. `/amountCents`; empty for the whole object. */
  readonly path: string;
  readonly message: string;
}

const ERRORS_REPORTED_MAX = 5;

export class RecordValidator {
  private readonly ajv = new Ajv2020({ allErrors: false, strict: true, validateFormats: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  /** Checks a definition (forbidden fields, retention field, a compilable schema) and compiles it. */
  add(def: SchemaDefinition): void {
    checkDefinition(def);
    const key = `${def.id}@${def.version}`;
    if (this.compiled.has(key)) return;
    this.compiled.set(key, this.compile(def.jsonSchema, key, def.id));
  }

  /** Problems with `data` under the schema (empty when valid). Messages never quote the data. */
  errors(def: SchemaDefinition, data: unknown): FieldError[] {
    const key = `${def.id}@${def.version}`;
    let fn = this.compiled.get(key);
    if (fn === undefined) {
      this.add(def);
      fn = this.compiled.get(key) as ValidateFunction;
    }
    return report(fn, data);
  }

  /**
   * Problems with a whole import row whose `extra` fields (its subject, ref, action …) are not
   * data: the schema with those fields allowed, which gives the same verdict as `errors` on
   * the row without them, without copying the row.
   */
  rowErrors(def: SchemaDefinition, row: unknown, extra: readonly string[]): FieldError[] {
    const key = `${def.id}@${def.version}+${extra.join(',')}`;
    let fn = this.compiled.get(key);
    if (fn === undefined) {
      checkDefinition(def);
      const props = (def.jsonSchema.properties ?? {}) as Record<string, unknown>;
      const allowed = Object.fromEntries(extra.filter((k) => !(k in props)).map((k) => [k, true]));
      fn = this.compile({ ...def.jsonSchema, properties: { ...props, ...allowed } }, key, def.id);
      this.compiled.set(key, fn);
    }
    return report(fn, row);
  }

  private compile(schema: object, key: string, id: string): ValidateFunction {
    try {
      return this.ajv.compile({ ...schema, $id: `credence:${key}` });
    } catch (e) {
      throw new CredenceError(Codes.MALFORMED, `schema ${id} is not valid JSON Schema: ${(e as Error).message.slice(0, 200)}`);
    }
  }
}

/** Problems `fn` finds in `data` (empty when valid); messages never quote the data. */
function report(fn: ValidateFunction, data: unknown): FieldError[] {
  if (fn(data)) return [];
  return (fn.errors ?? []).slice(0, ERRORS_REPORTED_MAX).map((e) => ({
    path: e.instancePath,
    message:
      e.keyword === 'additionalProperties' ? `unknown field ${JSON.stringify(String(e.params.additionalProperty).slice(0, 64))}` : (e.message ?? e.keyword),
  }));
}

/** Throws MALFORMED (or FORBIDDEN_FIELD) unless a schema definition is acceptable. */
export function checkDefinition(def: SchemaDefinition): void {
  const bad = (m: string) => new CredenceError(Codes.MALFORMED, `schema ${String(def.id).slice(0, 64)}: ${m}`);
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(def.id)) throw bad('id must be lower-case letters, digits and dashes');
  if (!Number.isSafeInteger(def.version) || def.version < 1) throw bad('version must be a positive integer');
  if (def.sensitivity !== 'negative' && def.sensitivity !== 'positive') throw bad('sensitivity must be negative or positive');
  const forbidden = forbiddenFieldsIn(def.jsonSchema);
  if (forbidden.length > 0) {
    throw new CredenceError('FORBIDDEN_FIELD', `schema ${def.id} declares data the law forbids collecting (Reg Art 14): ${forbidden.join(', ')}`);
  }
  if (def.retention !== null) {
    const props = (def.jsonSchema.properties ?? {}) as Record<string, unknown>;
    if (!(def.retention.from in props)) throw bad(`retention.from names ${def.retention.from}, which is not a field`);
    if (!Number.isSafeInteger(def.retention.years) || def.retention.years < 1) throw bad('retention.years must be a positive integer');
  }
  if (def.sensitivity === 'negative' && def.retention === null) throw bad('negative information needs a retention rule (Reg Art 16)');
}
