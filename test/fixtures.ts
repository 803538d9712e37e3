// Small helpers shared by unit tests: hex conversions, a predicate for coded errors, and a
// structurally valid placeholder transaction for tests that only need its shape.

import { canonicalJsonBytes } from '../src/codec/canonicalJson.js';
import type { Tx } from '../src/codec/tx.js';
import { CredenceError } from '../src/util/errors.js';

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
/** For assert.throws: the error is a CredenceError with this code. */
export const isCode = (code: string) => (e: unknown) => e instanceof CredenceError && e.code === code;

/** A placeholder kv.put transaction (fake signer and signature). */
export const PLACEHOLDER_TX: Tx = {
  chainId: 'credence-test',
  signer: new Uint8Array(32).fill(1),
  nonce: 0,
  expiresAt: 1,
  contract: 'kv',
  method: 'put',
  args: canonicalJsonBytes(null),
  signature: new Uint8Array(64),
};
