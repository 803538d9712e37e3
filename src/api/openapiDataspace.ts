// OpenAPI entries of the data-space routes (merged into openapi.ts).

const error = { $ref: '#/components/responses/Error' };
const subjectAuth = [{ subjectSignature: [] }];

function subjectOp(summary: string, extra: Record<string, unknown> = {}) {
  return { summary, security: subjectAuth, responses: { 200: { description: 'OK' }, default: error }, ...extra };
}

export const subjectSecurityScheme = {
  subjectSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'x-credence-signature',
    description: "As memberSignature, but x-credence-key is the subject's wallet key, bound to its subject id by the registration authority",
  },
};

export function dataspacePaths() {
  return {
    '/v1/subject/me': { get: subjectOp('The subject id bound to the signing key, and the chain id to sign statements for') },
    '/v1/subject/view': {
      get: subjectOp(
        "The signing subject's records, every access decision about them (including refusals), each provider's delivery outcomes under those accesses (and deliveries the consumer found forged), its consents and its disputes",
      ),
    },
    '/v1/subject/relay': {
      post: subjectOp('Relay a statement the subject signed (consents.grant, consents.revoke, disputes.open) in a transaction signed by this node', {
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['contract', 'method', 'statement', 'publicKey', 'signature'],
                properties: {
                  contract: { type: 'string', enum: ['consents', 'disputes'] },
                  method: { type: 'string', enum: ['grant', 'revoke', 'open'] },
                  statement: { type: 'object' },
                  publicKey: { type: 'string' },
                  signature: { type: 'string' },
                  statementText: {
                    type: 'string',
                    maxLength: 4000,
                    description:
                      "disputes.open: the text whose hash is statement.statementHash; kept encrypted in this node's vault (send it to the record's provider)",
                  },
                },
              },
            },
          },
        },
      }),
    },
    '/v1/records/{id}': {
      get: {
        summary:
          "A record's anchor on chain: its batch (root, size, index), provider, schema, subject, status, expiry, links and dispute mark (NOT_FOUND if none)",
        security: [{ memberSignature: [] }],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }],
        responses: { 200: { description: 'OK' }, default: error },
      },
    },
    ...deliveryPaths(),
  };
}

function memberOp(summary: string, properties: Record<string, unknown>, required: string[]) {
  const requestBody = { content: { 'application/json': { schema: { type: 'object', required, properties } } } };
  return { summary, security: [{ memberSignature: [] }], requestBody, responses: { 200: { description: 'OK' }, default: error } };
}

const accessIdProp = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'id of an access authorized on chain' };

function deliveryPaths() {
  return {
    '/v1/deliveries': {
      post: memberOp(
        'Provider: the records an access authorizes, sealed (HPKE) to sealKey and signed by this node; refused with NOT_AUTHORIZED (wrong consumer, refused or lapsed access, revoked or expired consent) or ACCESS_REPLAYED (served before)',
        {
          accessId: accessIdProp,
          sealKey: { type: 'string', description: "the consumer's sealing public key, hex (fresh per request)" },
          minHeight: {
            type: 'integer',
            minimum: 0,
            description: 'the height of the block that decided the access (or later): a provider behind it waits up to 5 s for it',
          },
        },
        ['accessId', 'sealKey'],
      ),
    },
    '/v1/reports': {
      post: memberOp(
        "Consumer (members of this node's organization): gather every provider's delivery for an access, verify each against this node's chain, and return the credit report (records, dispute marks and statements, provider outcomes, missing records)",
        {
          accessId: accessIdProp,
          subject: { type: 'string', description: 'refuse unless the access is about this subject' },
          providers: {
            type: 'object',
            additionalProperties: { type: 'string' },
            description: "providers' node URLs by organization id (etcd peers are discovered)",
          },
        },
        ['accessId'],
      ),
    },
  };
}
