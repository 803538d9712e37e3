// REST routes of the provider side of the data space (the subject side is dataspaceRoutes.ts): import (rows, JSONL
// bytes, or a whole JSONL/CSV text), recovery of half-done batches, the expiry sweep, the schema catalog and vault
// statistics. Only keys of this node's own organization may use the provider routes.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Keys } from '../contracts/members.js';
import { IMPORT_ROWS_MAX, type Importer, type Row, type RowError } from '../dataspace/importer.js';
import { BUILTIN_SCHEMAS } from '../dataspace/schemas/catalog.js';
import { type SourceFormat, parseSource } from '../dataspace/sources.js';
import type { DataspaceServices } from '../node/dataspace.js';
import type { CredenceNode } from '../node/node.js';
import { parseStoredJson } from '../codec/canonicalJson.js';
import { CredenceError, Codes } from '../util/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Hex public key that signed the request (set by authentication). */
    authKey?: string;
  }
}

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new CredenceError(Codes.MALFORMED, 'body must be a JSON object');
  return b as Record<string, unknown>;
}

/** The provider routes act for this node's organization: refuse members of other ones. */
function requireOwnOrg(node: CredenceNode, req: FastifyRequest): void {
  const key = req.authKey;
  const raw = key === undefined ? undefined : node.chain.read(Keys.key(key));
  const org = raw === undefined ? undefined : parseStoredJson(raw);
  if (org !== node.config.orgId) throw new CredenceError(Codes.FORBIDDEN, `only members of ${node.config.orgId} may use this node's provider routes`);
}

function importer(ds: DataspaceServices): Importer {
  if (ds.importer === undefined) throw new CredenceError(Codes.CONFIG, 'this node has no vault (vaultPath in its config): it cannot publish records');
  return ds.importer;
}

function schemaParam(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) throw new CredenceError(Codes.MALFORMED, 'schema must be a schema id');
  return v;
}

function rowNumbers(v: unknown, n: number): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isSafeInteger(x) && x >= 1)) {
    throw new CredenceError(Codes.MALFORMED, 'rowNumbers must give one positive integer per row');
  }
  return v as number[];
}

export function registerProviderRoutes(app: FastifyInstance, node: CredenceNode, ds: DataspaceServices): void {
  app.get('/v1/data/schemas', async () => ({
    builtin: BUILTIN_SCHEMAS,
    registered: BUILTIN_SCHEMAS.map((s) => s.id).filter((id) => ds.chain.schema(id) !== undefined),
  }));

  app.post('/v1/data/import', async (req) => {
    requireOwnOrg(node, req);
    const b = body(req);
    const rows = b.rows;
    if (!Array.isArray(rows) || rows.length === 0 || rows.length > IMPORT_ROWS_MAX)
      throw new CredenceError(Codes.MALFORMED, `rows must hold 1 to ${IMPORT_ROWS_MAX} objects`);
    const numbers = rowNumbers(b.rowNumbers, rows.length);
    return importer(ds).importNumbered(
      schemaParam(b.schema),
      (rows as Row[]).map((value, i) => ({ row: numbers?.[i] ?? i + 1, value })),
    );
  });

  app.post('/v1/data/import/jsonl', async (req) => {
    requireOwnOrg(node, req);
    const q = req.query as { schema?: unknown; firstRow?: unknown };
    const firstRow = typeof q.firstRow === 'string' && /^[1-9]\d{0,14}$/.test(q.firstRow) ? Number(q.firstRow) : q.firstRow === undefined ? 1 : 0;
    if (firstRow < 1) throw new CredenceError(Codes.MALFORMED, 'firstRow must be a positive integer');
    if (!(req.body instanceof Uint8Array)) throw new CredenceError(Codes.MALFORMED, 'send the JSONL bytes as application/octet-stream');
    return importer(ds).importJsonl(schemaParam(q.schema), req.body, firstRow);
  });

  app.post('/v1/data/import/text', async (req) => {
    requireOwnOrg(node, req);
    const b = body(req);
    const imp = importer(ds);
    const schema = schemaParam(b.schema);
    if (b.format !== 'jsonl' && b.format !== 'csv') throw new CredenceError(Codes.MALFORMED, 'format must be jsonl or csv');
    if (typeof b.content !== 'string') throw new CredenceError(Codes.MALFORMED, 'content must be the file text');
    const parsed = parseSource(b.format as SourceFormat, imp.schema(schema), b.content);
    const good = parsed.flatMap((r) => ('value' in r ? [r] : []));
    if (good.length > IMPORT_ROWS_MAX) throw new CredenceError(Codes.TOO_LARGE, `at most ${IMPORT_ROWS_MAX} rows per request; use the rows route in pieces`);
    const res = await imp.importNumbered(schema, good);
    const parseErrors: RowError[] = parsed.flatMap((r) => ('error' in r ? [{ row: r.row, ...r.error }] : []));
    return { ...res, errors: [...parseErrors, ...res.errors].sort((a, b) => a.row - b.row) };
  });

  app.post('/v1/data/recover', async (req) => {
    requireOwnOrg(node, req);
    return importer(ds).recover();
  });

  app.post('/v1/data/expiry/sweep', async (req) => {
    requireOwnOrg(node, req);
    if (ds.sweeper === undefined) throw new CredenceError(Codes.CONFIG, 'this node has no vault: nothing to sweep');
    // Tests and operators may sweep "as of" a time; the chain's block time still decides.
    const now = req.body !== null && typeof req.body === 'object' ? (req.body as { now?: unknown }).now : undefined;
    if (now !== undefined && !Number.isSafeInteger(now)) throw new CredenceError(Codes.MALFORMED, 'now must be ms since epoch');
    return ds.sweeper.sweep(now as number | undefined);
  });

  app.get('/v1/data/vault', async (req) => {
    requireOwnOrg(node, req);
    if (ds.vault === undefined) throw new CredenceError(Codes.CONFIG, 'this node has no vault');
    return { ...ds.vault.stats(), pendingBatches: ds.vault.pendingBatches().length };
  });
}
