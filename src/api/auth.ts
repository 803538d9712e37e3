// Member authentication for /v1: every request is signed by a key of a current member
// organization (see codec/request.ts for what is signed). Health, metrics and the OpenAPI
// document stay open so monitoring needs no keys.

import { AuthHeaders, REQUEST_SKEW_MS_MAX, requestDigest } from '../codec/request.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { fromHexStrict } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

export interface AuthInput {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Uint8Array;
}

function header(h: AuthInput['headers'], name: string): string | undefined {
  const v = h[name];
  return typeof v === 'string' ? v : undefined;
}

function unauthenticated(message: string): CredenceError {
  return new CredenceError(Codes.UNAUTHENTICATED, message);
}

/** Returns the signer's key (hex) or throws UNAUTHENTICATED / FORBIDDEN. */
export function authenticate(suite: CryptoSuite, isMember: (keyHex: string) => boolean, req: AuthInput, now: number): string {
  const keyHex = header(req.headers, AuthHeaders.key);
  const timeText = header(req.headers, AuthHeaders.time);
  const sigHex = header(req.headers, AuthHeaders.signature);
  if (keyHex === undefined || timeText === undefined || sigHex === undefined) {
    throw unauthenticated(`sign the request: headers ${Object.values(AuthHeaders).join(', ')} are required`);
  }
  const key = fromHexStrict(keyHex);
  const sig = fromHexStrict(sigHex);
  const time = /^\d{1,15}$/.test(timeText) ? Number(timeText) : Number.NaN;
  if (key === undefined || sig === undefined || Number.isNaN(time)) throw unauthenticated('authentication headers are malformed');
  if (Math.abs(now - time) > REQUEST_SKEW_MS_MAX) throw unauthenticated('request time is too far from the node clock; check your clock');
  const digest = requestDigest((d) => suite.hash(d), req.method, req.url, time, req.body);
  if (!suite.verify(key, digest, sig)) throw unauthenticated('request signature does not verify');
  if (!isMember(keyHex)) throw new CredenceError(Codes.FORBIDDEN, 'the key is not a key of a member organization');
  return keyHex;
}
