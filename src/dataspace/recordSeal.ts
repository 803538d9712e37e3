// Sealing one record on its own (a record outside any batch, a dispute statement): encrypt
// under a fresh data key (the suite AEAD, the record id as AAD) and wrap that key under the
// vault key. Imported batches are sealed by batchSeal.ts, their keys wrapped in chunks.

import { freshRandom } from '../crypto/randomPool.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { concatBytes, toHex, utf8 } from '../util/bytes.js';
import { DATA_KEY_BYTES } from './vaultKeys.js';
import type { RowColumns, StageRow } from './vaultStage.js';

export { DATA_KEY_BYTES } from './vaultKeys.js';

const RECORD_OPEN = utf8('{"record":');
const SALT_OPEN = utf8(',"salt":"');
const CLOSE = utf8('"}');

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

/** The vault row of a record given its canonical JSON: canonicalJson({record, salt}) ("record" sorts before "salt"). */
export function sealRecordJson(suite: CryptoSuite, vaultKey: Uint8Array, id: string, recordJson: Uint8Array, salt: Uint8Array): SealedRow {
  const plain = concatBytes([RECORD_OPEN, recordJson, SALT_OPEN, utf8(toHex(salt)), CLOSE]);
  return sealBytes(suite, vaultKey, plain, utf8(id));
}

/** The vault row of a record sealed on its own. */
export function stageRowOf(id: string, c: RowColumns, r: SealedRow): StageRow {
  return { id, ...c, wrapped: r.wrapped, sealed: r.sealed };
}
