// Schemas on chain. A schema is registered (or given a new version) only through a
// governance proposal of kind `registerSchema`; this module checks the definition and
// writes it. A schema naming a forbidden field (religion, genes, biometrics, blood type,
// disease; Regulation Art. 14) is refused at registration.

import type { JsonValue } from '../codec/canonicalJson.js';
import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import type { ContractContext, StateReader } from '../execution/runtime.js';
import { CATEGORY_RE, DsKeys, argsObject, refuse } from './dataspaceState.js';
import { readJson } from './members.js';
import { forbiddenFieldsIn } from './schemaRules.js';

export interface SchemaDef {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly category: string;
  readonly sensitivity: 'negative' | 'positive';
  readonly retention: { readonly years: number; readonly from: string } | null;
  readonly jsonSchema: JsonValue;
}

export interface SchemaEntry extends SchemaDef {
  readonly registeredAt: number;
}

export const SCHEMA_ID_RE = /^[a-z][a-z0-9._-]{0,63}$/;
export const JSON_SCHEMA_BYTES_MAX = 32 * 1024;
const SCHEMAS_MAX = 256;

function bad(message: string): never {
  refuse('BAD_SCHEMA', message);
}

function checkRetention(v: JsonValue | undefined): SchemaDef['retention'] {
  if (v === null || v === undefined) return null;
  const r = argsObject(v, 'BAD_SCHEMA', 'retention');
  if (typeof r.years !== 'number' || !Number.isInteger(r.years) || r.years < 1 || r.years > 100) bad('retention.years must be 1 to 100');
  if (typeof r.from !== 'string' || r.from.length === 0 || r.from.length > 64) bad('retention.from must name the conduct end date field');
  return { years: r.years, from: r.from };
}

/** Check a proposed schema definition against the rules and the schemas already on chain. */
export function checkSchemaDef(ctx: ContractContext, v: JsonValue | undefined): SchemaDef {
  const s = argsObject(v ?? null, 'BAD_SCHEMA', 'schema');
  if (typeof s.id !== 'string' || !SCHEMA_ID_RE.test(s.id)) bad(`schema id must match ${SCHEMA_ID_RE.source}`);
  if (typeof s.version !== 'number' || !Number.isSafeInteger(s.version) || s.version < 1) bad('version must be a positive integer');
  if (typeof s.title !== 'string' || s.title.length === 0 || s.title.length > 128) bad('title must be 1 to 128 characters');
  if (typeof s.category !== 'string' || !CATEGORY_RE.test(s.category)) bad(`category must match ${CATEGORY_RE.source}`);
  if (s.sensitivity !== 'negative' && s.sensitivity !== 'positive') bad('sensitivity must be negative or positive');
  const retention = checkRetention(s.retention);
  if (typeof s.jsonSchema !== 'object' || s.jsonSchema === null || Array.isArray(s.jsonSchema)) bad('jsonSchema must be a JSON Schema object');
  if (canonicalJsonBytes(s.jsonSchema).byteLength > JSON_SCHEMA_BYTES_MAX) bad(`jsonSchema must be at most ${JSON_SCHEMA_BYTES_MAX} bytes`);
  const forbidden = forbiddenFieldsIn(s.jsonSchema);
  if (forbidden.length > 0) refuse('FORBIDDEN_FIELD', `the schema contains fields that may not be collected: ${forbidden.join(', ')}`);
  const old = ctx.get(DsKeys.schema(s.id)) as unknown as SchemaEntry | undefined;
  if (old !== undefined && s.version <= old.version) refuse('SCHEMA_VERSION', `schema ${s.id} is at version ${old.version}; a new version must be higher`);
  const list = (ctx.get(DsKeys.schemaList) as string[] | undefined) ?? [];
  if (old === undefined && list.length >= SCHEMAS_MAX) refuse('TOO_MANY_SCHEMAS', `at most ${SCHEMAS_MAX} schemas`);
  return { id: s.id, version: s.version, title: s.title, category: s.category, sensitivity: s.sensitivity, retention, jsonSchema: s.jsonSchema };
}

export function putSchema(ctx: ContractContext, def: SchemaDef): void {
  const entry: SchemaEntry = { ...def, registeredAt: ctx.block.time };
  ctx.put(DsKeys.schema(def.id), entry as unknown as JsonValue);
  const list = (ctx.get(DsKeys.schemaList) as string[] | undefined) ?? [];
  if (!list.includes(def.id)) ctx.put(DsKeys.schemaList, [...list, def.id].sort());
}

export function readSchema(read: StateReader, id: string): SchemaEntry | undefined {
  return readJson(read, DsKeys.schema(id)) as unknown as SchemaEntry | undefined;
}

export function schemaOf(ctx: ContractContext, id: string): SchemaEntry | undefined {
  return ctx.get(DsKeys.schema(id)) as unknown as SchemaEntry | undefined;
}
