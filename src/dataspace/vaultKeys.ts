// How the vault keeps the data keys of anchored batches: wrapped under the vault key in chunks
// of KEYS_PER_CHUNK consecutive records' keys, one AEAD seal per chunk (the suite's:
// AES-256-GCM, or SM4 with HMAC-SM3 for gm) with the chunk's place as AAD
// ("credence/vault/keys/v1:<batch>:<chunk>"). Each record still has its own fresh random data
// key; what is shared is the wrapping operation, which costs one cipher object per 64 records
// instead of one per record. Destroying one record's key re-seals its chunk with that slot
// zeroed under a fresh nonce, replacing the row (secure_delete overwrites the old bytes; the
// caller truncates the WAL), so the other records of the batch stay readable and the destroyed
// key is gone from the file. The record's own ciphertext is bound to its id (AAD), so a key
// moved to another slot opens nothing; a chunk moved to another place fails its AAD.

import type { CryptoSuite } from '../crypto/suite.js';
import { utf8 } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

/** Bytes of a record's data key. */
export const DATA_KEY_BYTES = 32;
export const KEYS_PER_CHUNK = 64;

function chunkAad(batch: string, chunk: number): Uint8Array {
  return utf8(`credence/vault/keys/v1:${batch}:${chunk}`);
}

/** Wrap a batch's data keys (32 bytes each, in record order) in chunks. */
export function wrapKeyChunks(suite: CryptoSuite, vaultKey: Uint8Array, batch: string, keys: Uint8Array): Uint8Array[] {
  const per = KEYS_PER_CHUNK * DATA_KEY_BYTES;
  return Array.from({ length: Math.ceil(keys.byteLength / per) }, (_, c) => suite.encrypt(vaultKey, keys.subarray(c * per, (c + 1) * per), chunkAad(batch, c)));
}

/** The chunk and slot of record `index` of a batch. */
export function keyPlace(index: number): { chunk: number; slot: number } {
  return { chunk: Math.floor(index / KEYS_PER_CHUNK), slot: index % KEYS_PER_CHUNK };
}

function openChunk(suite: CryptoSuite, vaultKey: Uint8Array, batch: string, chunk: number, wrapped: Uint8Array): Uint8Array {
  return suite.decrypt(vaultKey, wrapped, chunkAad(batch, chunk));
}

/** The data key of record `index` (undefined if it was destroyed). */
export function unwrapKey(suite: CryptoSuite, vaultKey: Uint8Array, batch: string, index: number, wrapped: Uint8Array): Uint8Array | undefined {
  const { chunk, slot } = keyPlace(index);
  const keys = openChunk(suite, vaultKey, batch, chunk, wrapped);
  const key = keys.slice(slot * DATA_KEY_BYTES, (slot + 1) * DATA_KEY_BYTES);
  keys.fill(0);
  if (key.byteLength !== DATA_KEY_BYTES) throw new CredenceError(Codes.CORRUPT, `vault key chunk ${chunk} of batch ${batch} has no slot ${slot}`);
  return key.every((b) => b === 0) ? undefined : key;
}

/** The chunk re-sealed (fresh nonce) with the key of record `index` zeroed. */
export function withoutKey(suite: CryptoSuite, vaultKey: Uint8Array, batch: string, index: number, wrapped: Uint8Array): Uint8Array {
  const { chunk, slot } = keyPlace(index);
  const keys = openChunk(suite, vaultKey, batch, chunk, wrapped);
  keys.fill(0, slot * DATA_KEY_BYTES, (slot + 1) * DATA_KEY_BYTES);
  const out = suite.encrypt(vaultKey, keys, chunkAad(batch, chunk));
  keys.fill(0);
  return out;
}
