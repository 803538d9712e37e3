// Authenticated HTTP requests between members: the client signs (method, path with query,
// time, body hash) with a member key; the server checks the key belongs to a member, the
// time is within a window, and the signature. Reads replayed inside the window are harmless;
// writes carry their own replay protection (transaction ids).

import { Writer } from './binary.js';
import { type HashFn, Tag } from './tx.js';

export const AuthHeaders = {
  key: 'x-credence-key',
  time: 'x-credence-time',
  signature: 'x-credence-signature',
} as const;

/** How far a request's time may be from the server's clock. */
export const REQUEST_SKEW_MS_MAX = 5 * 60 * 1000;

export function requestDigest(hash: HashFn, method: string, pathWithQuery: string, time: number, body: Uint8Array): Uint8Array {
  return hash(new Writer(128).u8(Tag.REQUEST).str(method.toUpperCase()).str(pathWithQuery).u64(time).raw(hash(body)).finish());
}
