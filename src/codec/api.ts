// The JSON shapes of the REST API, shared by the server (api/) and the client (sdk/), so
// both sides agree at compile time. Binary values are lowercase hex.

import { toHex } from '../util/bytes.js';
import type { BlockHeader, ContractEvent, TxResult } from './block.js';
import type { JsonValue } from './canonicalJson.js';
import type { TxJson } from './tx.js';

export type SubmitStatus = 'accepted' | 'committed' | 'rejected' | 'dropped' | 'pending';

export interface SubmitResult {
  /** Transaction id (hex), when the transaction decoded. */
  id: string | null;
  status: SubmitStatus;
  /** Error code when rejected/dropped, or the contract's result code when committed. */
  code?: string;
  message?: string;
  height?: number;
  index?: number;
  value?: JsonValue;
  events?: ContractEvent[];
}

export interface TxStatusJson {
  id: string;
  status: 'committed' | 'pending';
  height?: number;
  index?: number;
  blockHash?: string;
  result?: TxResult;
  tx?: TxJson;
}

export interface HeaderJson {
  chainId: string;
  height: number;
  prevHash: string;
  time: number;
  txCount: number;
  txRoot: string;
  stateRoot: string;
  resultsRoot: string;
}

export interface BlockJson {
  hash: string;
  header: HeaderJson;
  /** Encoded header, hex: what proofs and light clients check against. */
  headerBytes: string;
  txIds: string[];
  results?: { code: string }[];
}

export interface StateJson {
  key: string;
  height: number;
  blockHash: string;
  value: JsonValue | null;
  /** Present with ?proof=true: a proof to check offline with `credence proof verify`. */
  proof?: JsonValue;
}

export type ServerEvent =
  | { type: 'block'; height: number; hash: string; time: number; txCount: number }
  | { type: 'contract'; height: number; txId: string; contract: string; name: string; data: JsonValue };

export function headerToJson(h: BlockHeader): HeaderJson {
  return {
    chainId: h.chainId,
    height: h.height,
    prevHash: toHex(h.prevHash),
    time: h.time,
    txCount: h.txCount,
    txRoot: toHex(h.txRoot),
    stateRoot: toHex(h.stateRoot),
    resultsRoot: toHex(h.resultsRoot),
  };
}
