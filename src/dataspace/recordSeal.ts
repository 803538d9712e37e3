// Sealing a message on its own (a dispute statement): encrypt under a fresh data key (the
// suite AEAD) and wrap that key under the vault key. Imported batches are sealed by
// batchSeal.ts, their keys wrapped in chunks.

import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { DATA_KEY_BYTES } from './vaultKeys.js';

export interface SealedRow {
  readonly wrapped: Uint8Array;
  readonly sealed: Uint8Array;
}

/** Encrypt under a new data key, and wrap the data key under the vault key. */
export function sealBytes(suite: CryptoSuite, vaultKey: Uint8Array, plain: Uint8Array, aad: Uint8Array): SealedRow {
  const dataKey = freshRandom(DATA_KEY_BYTES);
  const sealed = suite.encrypt(dataKey, plain, aad);
  const wrapped = suite.encrypt(vaultKey, dataKey, aad);
  dataKey.fill(0);
  return { wrapped, sealed };
}
