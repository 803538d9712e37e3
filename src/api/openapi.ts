// The OpenAPI 3.1 document served at /openapi.json. A test checks that every route the
// server registers is described here, so the document cannot drift from the code.

import { IMPORT_ROWS_MAX } from '../dataspace/importer.js';
import type { NodeLimits } from '../node/config.js';
import { dataspacePaths, subjectSecurityScheme } from './openapiDataspace.js';
import { providerPaths } from './openapiProvider.js';

const error = { $ref: '#/components/responses/Error' };
const auth = [{ memberSignature: [] }];

function op(summary: string, extra: Record<string, unknown> = {}) {
  return { summary, security: auth, responses: { 200: { description: 'OK' }, default: error }, ...extra };
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } };

export function openApiDocument(limits: NodeLimits) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'credence node API',
      version: '1',
      description:
        'Member requests are signed: x-credence-key (hex public key of a member organization), x-credence-time (ms since epoch, within 5 minutes) and x-credence-signature (hex signature over the request digest; see codec/request.ts). Errors are JSON {code, message, details}.',
    },
    components: {
      securitySchemes: {
        memberSignature: { type: 'apiKey', in: 'header', name: 'x-credence-signature', description: 'With x-credence-key and x-credence-time' },
        ...subjectSecurityScheme,
      },
      responses: {
        Error: {
          description: 'A coded error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['code', 'message'],
                properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
              },
            },
          },
        },
      },
    },
    paths: {
      '/health': {
        get: { summary: 'Liveness and the reasons for any degradation', responses: { 200: { description: 'ok or degraded' }, 503: { description: 'halted' } } },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
      '/v1/info': { get: op("Chain id, suite, height, head hash, genesis hash and this node's role") },
      '/v1/transactions': {
        post: op(`Submit up to ${limits.batchTxMax} signed transactions (body at most ${limits.bodyBytesMax} bytes)`, {
          parameters: [
            { name: 'wait', in: 'query', schema: { type: 'boolean' }, description: 'wait until committed' },
            { name: 'timeoutMs', in: 'query', schema: { type: 'integer', minimum: 1, maximum: limits.waitMsMax } },
          ],
          requestBody: {
            content: {
              'application/octet-stream': {
                schema: { type: 'string', format: 'binary' },
                description: 'u32 count, then u32-length-prefixed encoded transactions',
              },
              'application/json': { schema: { type: 'object', properties: { transactions: { type: 'array', maxItems: limits.batchTxMax } } } },
            },
          },
        }),
      },
      '/v1/transactions/{id}': { get: op('Status and result of a transaction', { parameters: [idParam] }) },
      '/v1/transactions/{id}/proof': { get: op('Merkle inclusion proof of a committed transaction and its result', { parameters: [idParam] }) },
      '/v1/blocks': {
        get: op(`Blocks from a height, at most ${limits.rangeMax}`, {
          parameters: [
            { name: 'from', in: 'query', schema: { type: 'integer', minimum: 0 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: limits.rangeMax } },
          ],
        }),
      },
      '/v1/blocks/{ref}': {
        get: op('A block by height, hash or "latest"', { parameters: [{ name: 'ref', in: 'path', required: true, schema: { type: 'string' } }] }),
      },
      '/v1/state/{key}': {
        get: op('A state value, optionally with a proof against the head block', {
          parameters: [
            { name: 'key', in: 'path', required: true, schema: { type: 'string', maxLength: 256 } },
            { name: 'proof', in: 'query', schema: { type: 'boolean' } },
          ],
        }),
      },
      '/v1/events': {
        get: op('Server-sent events: blocks and contract events, replayed from a height then live', {
          parameters: [{ name: 'from', in: 'query', schema: { type: 'integer', minimum: 0 } }],
        }),
      },
      '/v1/stream/blocks': {
        get: op('Server-sent stream of encoded blocks (base64), for following nodes', {
          parameters: [{ name: 'from', in: 'query', schema: { type: 'integer', minimum: 0 } }],
        }),
      },
      ...dataspacePaths(),
      ...providerPaths(IMPORT_ROWS_MAX),
      ...privacyPaths(),
    },
  };
}

function privacyPaths() {
  const bin = { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
  const json = { content: { 'application/json': { schema: { type: 'object' } } } };
  return {
    '/v1/privacy/datasets/{name}': {
      put: op(
        'Store a named dataset on this node (one item per line; never on chain). A large one in parts: ?part=i&parts=n, whole lines, in order; it appears when the last part arrives',
        {
          parameters: [
            { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'part', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
            { name: 'parts', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 4096 } },
          ],
          requestBody: bin,
        },
      ),
    },
    '/v1/privacy/psi': {
      post: op('Start a PSI job with a peer node: {dataset, peerUrl, peerOrg, peerDataset, mode: set|size, purpose}; 202 with the job', { requestBody: json }),
    },
    '/v1/privacy/jobs/{id}': { get: op("A privacy job: this node's view (phase, progress, result) and the record on chain", { parameters: [idParam] }) },
    '/v1/privacy/psi/{id}/open': { post: op('(peer side) open a PSI session for a job registered on chain', { parameters: [idParam], requestBody: json }) },
    '/v1/privacy/psi/{id}/frames': { post: op('(peer side) one query frame', { parameters: [idParam], requestBody: bin }) },
    '/v1/privacy/psi/{id}/frames/{kind}/{seq}': {
      get: op('(peer side) one reply or senderSet frame, once computed', {
        parameters: [
          idParam,
          { name: 'kind', in: 'path', required: true, schema: { enum: ['reply', 'senderSet'] } },
          { name: 'seq', in: 'path', required: true, schema: { type: 'integer' } },
        ],
      }),
    },
    '/v1/privacy/zk/jobs': {
      post: op('Register a zero-knowledge threshold-proof job {threshold, purpose}; its id is the proof context', { requestBody: json }),
    },
    '/v1/privacy/zk/jobs/{id}/proof': {
      post: op('Submit {statement, proof}; the compute contract verifies it on chain', { parameters: [idParam], requestBody: json }),
    },
    '/v1/privacy/aggregate': {
      post: op(
        'Start a secure aggregation {dataset (query SME codes), banks: [{org, url, dataset}], aggregators: [{org, url}] (2 or 3), purpose}; 202 with the job',
        { requestBody: json },
      ),
    },
    '/v1/privacy/aggregate/{id}/open': {
      post: op(
        "(aggregator) open a session for a job registered on chain {index, banks, items, sealKey (the recipient's fresh sealing public key, hex)}; answers {sealKey, signer, signature}: this aggregator's fresh sealing public key for the job, signed by its node key",
        { parameters: [idParam], requestBody: json },
      ),
    },
    '/v1/privacy/aggregate/{id}/contribute': {
      post: op(
        "(bank) {bank, dataset, items, aggregators: [{url, index, sealKey, signer, signature}]}: check each aggregator's signed key against its member key on chain, split the amounts for the query set and send each share sealed to its aggregator",
        { parameters: [idParam], requestBody: json },
      ),
    },
    '/v1/privacy/aggregate/{id}/shares': {
      post: op('(aggregator) one bank\'s share, sealed to this aggregator\'s key for the job ("CAS1" header, then the seal)', {
        parameters: [idParam],
        requestBody: bin,
      }),
    },
    '/v1/privacy/aggregate/{id}/sum': {
      get: op("(aggregator) the partial sum sealed to the recipient's key, once every bank's share is in", { parameters: [idParam] }),
    },
    '/v1/privacy/model': {
      post: op('Start a private scorecard evaluation {scorecard: {weights, bias}, subject, peerUrl, peerOrg, peerDataset, purpose}; 202 with the job', {
        requestBody: json,
      }),
    },
    '/v1/privacy/model/{id}/evaluate': { post: op('(provider) evaluate an encrypted scorecard on a subject', { parameters: [idParam], requestBody: json }) },
  };
}
