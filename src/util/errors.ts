// One error class for the whole code base: every failure a caller can act on carries a
// stable `code` (mapped to an HTTP status only at the API edge) and a message that says
// what went wrong and what to do. Messages never contain personal data or secrets.

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export class CredenceError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CredenceError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Broken invariant: a programmer error, never bad input. Crashes loudly. */
export function assert(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${what}`);
}

export function isCredenceError(e: unknown): e is CredenceError {
  return e instanceof CredenceError;
}

/** Stable codes used across layers. Contracts add their own (see contracts/codes.ts). */
export const Codes = {
  MALFORMED: 'MALFORMED',
  TOO_LARGE: 'TOO_LARGE',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  WRONG_CHAIN: 'WRONG_CHAIN',
  TX_EXPIRED: 'TX_EXPIRED',
  TX_EXPIRY_TOO_FAR: 'TX_EXPIRY_TOO_FAR',
  TX_REPLAYED: 'TX_REPLAYED',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  POOL_FULL: 'POOL_FULL',
  TIMEOUT: 'TIMEOUT',
  UNAVAILABLE: 'UNAVAILABLE',
  BAD_KEY: 'BAD_KEY',
  BAD_PROOF: 'BAD_PROOF',
  CORRUPT: 'CORRUPT',
  CONFIG: 'CONFIG',
  UNSUPPORTED_SUITE: 'UNSUPPORTED_SUITE',
  DECRYPT_FAILED: 'DECRYPT_FAILED',
  // credit data space, provider side (dataspace)
  INVALID_IDENTIFIER: 'INVALID_IDENTIFIER',
  SCHEMA_VIOLATION: 'SCHEMA_VIOLATION',
  UNKNOWN_SCHEMA: 'UNKNOWN_SCHEMA',
  RECORD_EXISTS: 'RECORD_EXISTS',
  KEY_DESTROYED: 'KEY_DESTROYED',
} as const;
