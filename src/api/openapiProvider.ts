// OpenAPI entries of the provider routes of the data space (providerRoutes.ts): the schema
// catalog, import, recovery, the expiry sweep and vault statistics. Only members of the
// node's own organization may call the routes that change or reveal its vault.

const error = { $ref: '#/components/responses/Error' };
const member = [{ memberSignature: [] }];

function memberOp(summary: string, extra: Record<string, unknown> = {}) {
  return { summary, security: member, responses: { 200: { description: 'OK' }, default: error }, ...extra };
}

function jsonBody(properties: Record<string, unknown>, required: string[]) {
  return { requestBody: { content: { 'application/json': { schema: { type: 'object', required, properties } } } } };
}

const importResult =
  'Returns {anchored: count, errors: [{row, code, message}], pending: [row], batches: [{id, txId, root, records, outcome, rows: [[firstRow, count]...]}]} (record i of a batch, in the order of its row runs, has the id batch id ‖ i as 8 hex digits); bad rows are reported without quoting values, good rows are anchored, nothing is half-written';

export function providerPaths(importRowsMax: number) {
  return {
    '/v1/data/schemas': { get: memberOp('The built-in credit-data schemas and which of them are registered on chain') },
    '/v1/data/import': {
      post: memberOp(`Import up to ${importRowsMax} rows under a registered schema (own organization only). ${importResult}`, {
        ...jsonBody(
          {
            schema: { type: 'string', maxLength: 64 },
            rows: {
              type: 'array',
              minItems: 1,
              maxItems: importRowsMax,
              items: { type: 'object', description: '{uscc | residentId, ref?, action?, reason?, ...data}' },
            },
            rowNumbers: { type: 'array', items: { type: 'integer', minimum: 1 }, description: 'source row numbers for the error report' },
          },
          ['schema', 'rows'],
        ),
      }),
    },
    '/v1/data/import/jsonl': {
      post: memberOp(
        `Import JSONL bytes as they are (application/octet-stream; at most ${importRowsMax} non-blank lines, numbered from firstRow) under a registered schema (own organization only). ${importResult}`,
        {
          parameters: [
            { name: 'schema', in: 'query', required: true, schema: { type: 'string', maxLength: 64 } },
            { name: 'firstRow', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } },
          ],
          requestBody: { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
        },
      ),
    },
    '/v1/data/import/text': {
      post: memberOp(`Import a whole JSONL or CSV text (own organization only; at most ${importRowsMax} good rows). ${importResult}`, {
        ...jsonBody({ schema: { type: 'string', maxLength: 64 }, format: { enum: ['jsonl', 'csv'] }, content: { type: 'string' } }, [
          'schema',
          'format',
          'content',
        ]),
      }),
    },
    '/v1/data/recover': {
      post: memberOp(
        'Settle batches left pending by a crash or a timeout: finish, drop or resubmit (own organization only); returns {finished, dropped, waiting}',
      ),
    },
    '/v1/data/expiry/sweep': {
      post: memberOp(
        'Expire negative records past retention: destroy their vault keys and call records.expire (own organization only); now (ms) sweeps as of that time, block time still decides',
        {
          ...jsonBody({ now: { type: 'integer', minimum: 0 } }, []),
        },
      ),
    },
    '/v1/data/vault': { get: memberOp('Vault statistics: live, pending and destroyed records, pending batches (own organization only)') },
  };
}
