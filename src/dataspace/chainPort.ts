// What the provider-side data-space code needs from the chain, as an interface: the node
// implements it in-process (node/dataspace.ts) over its own chain and admission path.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { SchemaDefinition } from './schemas/catalog.js';

export type TxOutcome = { kind: 'ok' } | { kind: 'refused'; code: string; message: string } | { kind: 'unknown' };

export interface SignedTx {
  readonly id: string;
  readonly bytes: Uint8Array;
  /** The transaction can never commit after this time (ms since epoch). */
  readonly expiresAt: number;
}

export interface ChainRecord {
  readonly provider: string;
  readonly status: string;
  readonly version: number;
  readonly expiresAt?: number;
}

export interface ChainPort {
  /** This node's organization: the provider of what it anchors. */
  readonly orgId: string;
  /** A schema as registered on chain. */
  schema(id: string): SchemaDefinition | undefined;
  /** A record's entry on chain. */
  record(id: string): ChainRecord | undefined;
  /** Time of the newest block (a lower bound on the next block's time). */
  blockTime(): number;
  sign(contract: string, method: string, args: JsonValue): Promise<SignedTx>;
  /** Submit and wait up to `timeoutMs` for the commit. */
  submit(tx: SignedTx, timeoutMs: number): Promise<TxOutcome>;
  /** What the chain did with a transaction so far: 'unknown' while it is not committed. */
  outcome(txId: string): TxOutcome;
}
