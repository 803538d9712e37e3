// Error codes become HTTP statuses here, at the edge, and nowhere else.

import { PrivacyCodes } from '../privacy/codes.js';
import { Codes } from '../util/errors.js';

const STATUS: Record<string, number> = {
  [Codes.MALFORMED]: 400,
  [Codes.WRONG_CHAIN]: 400,
  [Codes.BAD_SIGNATURE]: 400,
  [Codes.BAD_PROOF]: 400,
  [Codes.TOO_LARGE]: 413,
  [Codes.UNAUTHENTICATED]: 401,
  [Codes.FORBIDDEN]: 403,
  [Codes.NOT_FOUND]: 404,
  [Codes.TX_REPLAYED]: 409,
  [Codes.POOL_FULL]: 503,
  [Codes.UNAVAILABLE]: 503,
  [Codes.TIMEOUT]: 504,
  INTERNAL: 500,
  NOT_AUTHORIZED: 403,
  ACCESS_REPLAYED: 409,
  FORGED_DELIVERY: 422,
  [PrivacyCodes.BAD_MESSAGE]: 400,
  [PrivacyCodes.BAD_POINT]: 400,
  [PrivacyCodes.BAD_PROOF]: 400,
  [PrivacyCodes.SIZE_MISMATCH]: 400,
  [PrivacyCodes.REPLAYED]: 409,
  [PrivacyCodes.JOB_STATE]: 409,
  [PrivacyCodes.PARTY_DROPPED]: 502,
};

export function statusOf(code: string): number {
  return STATUS[code] ?? 400;
}
