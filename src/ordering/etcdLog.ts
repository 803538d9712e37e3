// Entries of the network's log in etcd. The log is the revision history of one key
// (`/credence/<chainId>/log`): every put is an entry and etcd's revision is its place in the
// total order, so compacting etcd at a revision truncates the log there. An entry is either
// a batch of signed transactions or a "cut block h" marker, each with the appender's clock.

import { Reader, Writer } from '../codec/binary.js';
import { decodeTxBatch, encodeTxBatch } from '../codec/tx.js';
import { CredenceError, Codes } from '../util/errors.js';

export type RawLogEntry =
  | { readonly kind: 'txs'; readonly time: number; readonly txs: readonly Uint8Array[] }
  | { readonly kind: 'cut'; readonly time: number; readonly height: number };

const KIND_TXS = 1;
const KIND_CUT = 2;
/** Most transactions in one log entry (a submit batch is split to fit). */
export const ENTRY_TXS_MAX = 5000;

export function logKey(chainId: string): string {
  return `/credence/${chainId}/log`;
}

export function encodeLogEntry(e: RawLogEntry): Uint8Array {
  if (e.kind === 'cut') return new Writer(32).u8(KIND_CUT).u64(e.time).u64(e.height).finish();
  return new Writer(64).u8(KIND_TXS).u64(e.time).bytes(encodeTxBatch(e.txs)).finish();
}

/** Decode an entry; throws MALFORMED (the caller skips it: every node skips the same). */
export function decodeLogEntry(bytes: Uint8Array): RawLogEntry {
  const r = new Reader(bytes);
  const kind = r.u8();
  const time = r.u64();
  if (kind === KIND_CUT) {
    const height = r.u64();
    r.end();
    return { kind: 'cut', time, height };
  }
  if (kind !== KIND_TXS) throw new CredenceError(Codes.MALFORMED, `unknown log entry kind ${kind}`);
  const txs = decodeTxBatch(r.bytes(bytes.byteLength), ENTRY_TXS_MAX);
  r.end();
  return { kind: 'txs', time, txs };
}

/** Kind, time and transaction count of an entry, without copying its transactions. */
export function decodeLogEntryHead(bytes: Uint8Array): { kind: 'txs' | 'other'; time: number; count: number } {
  try {
    const r = new Reader(bytes);
    const kind = r.u8();
    const time = r.u64();
    if (kind !== KIND_TXS) return { kind: 'other', time, count: 0 };
    return { kind: 'txs', time, count: new Reader(r.bytes(bytes.byteLength)).u32() };
  } catch {
    return { kind: 'other', time: 0, count: 0 };
  }
}
