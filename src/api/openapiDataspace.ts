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
      get: subjectOp("The signing subject's records, every access decision about them (including refusals), its consents and its disputes"),
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
                    description: 'disputes.open: the text whose hash is statement.statementHash; kept off chain by this node',
                  },
                },
              },
            },
          },
        },
      }),
    },
  };
}
