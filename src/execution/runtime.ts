// The deterministic contract runtime. Contracts see only what the context gives them: the
// block's height and time (never the wall clock), the signer, the state (through a
// write-buffering overlay) and an event sink. No randomness, no I/O. A transaction either
// commits all its writes or none, and its outcome is a stable result code.

import { Writer } from '../codec/binary.js';
import type { ContractEvent, TxResult } from '../codec/block.js';
import { writeResultParts } from '../codec/block.js';
import { type JsonValue, canonicalJson, canonicalJsonBytes, parseStoredJson } from '../codec/canonicalJson.js';
import type { DecodedTx } from '../codec/tx.js';
import { REPLAYED_CODE } from '../ledger/store.js';
import { BLOCK_LIMITS } from '../codec/block.js';
import { TX_LIMITS } from '../codec/tx.js';
import { isStateKey } from '../ledger/stateProof.js';
import { CredenceError } from '../util/errors.js';

export const EXEC_LIMITS = {
  // A records.anchor batch writes at most 3 batch entries, a subject's index head and perhaps a
  // full page per subject (≤ 500), and two exception entries per new version (≤ 500): ≤ 2,003.
  writesPerTxMax: 2048,
  valueBytesMax: 64 * 1024,
  keyBytesMax: 256,
  eventsPerTxMax: BLOCK_LIMITS.eventsPerTxMax,
} as const;

/** A refusal by a contract: the transaction stays in its block with this code. */
export class ContractError extends CredenceError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'ContractError';
  }
}

export interface BlockInfo {
  readonly chainId: string;
  readonly height: number;
  /** Block time in ms since epoch: the only clock a contract may read. */
  readonly time: number;
}

export interface ContractContext {
  readonly block: BlockInfo;
  readonly txId: string;
  /** Signer's raw public key, hex. */
  readonly signer: string;
  get(key: string): JsonValue | undefined;
  put(key: string, value: JsonValue): void;
  del(key: string): void;
  emit(name: string, data: JsonValue): void;
}

export type Method = (ctx: ContractContext, args: JsonValue) => JsonValue | undefined;

export interface Contract {
  readonly name: string;
  readonly methods: Readonly<Record<string, Method>>;
}

export type StateReader = (key: string) => Uint8Array | undefined;

/** The writes of a block so far: key -> canonical JSON bytes, or undefined for a delete. */
export type WriteSet = Map<string, Uint8Array | undefined>;

export interface ExecutedBlock {
  readonly results: TxResult[];
  readonly resultBytes: Uint8Array[];
  readonly codes: string[];
  readonly writes: WriteSet;
}

/** Per-transaction admission rules that need block time (checked deterministically). */
export interface ExecRules {
  readonly txTtlMaxMs: number;
}

/** Rules may change by governance, so they are read from the state at each block. */
export type RulesOf = (read: StateReader) => ExecRules;

const OK = 'OK';
const NULL_JSON = 'null';
/** Room for a typical result, per transaction, in a block's result buffer (it grows if needed). */
const RESULT_BYTES_GUESS = 160;
/** Result code of a transaction whose id was already committed; it is not indexed again. */
export const REPLAYED = REPLAYED_CODE;

class TxContext implements ContractContext {
  readonly writes = new Map<string, Uint8Array | undefined>();
  readonly events: ContractEvent[] = [];
  /** Canonical JSON of each event's data, kept so the result is encoded without re-serializing. */
  readonly eventData: string[] = [];

  constructor(
    readonly block: BlockInfo,
    readonly txId: string,
    readonly signer: string,
    private readonly contract: string,
    private readonly read: StateReader,
    private readonly blockWrites: WriteSet,
  ) {}

  private raw(key: string): Uint8Array | undefined {
    if (this.writes.has(key)) return this.writes.get(key);
    if (this.blockWrites.has(key)) return this.blockWrites.get(key);
    return this.read(key);
  }

  get(key: string): JsonValue | undefined {
    const b = this.raw(key);
    return b === undefined ? undefined : parseStoredJson(b);
  }

  put(key: string, value: JsonValue): void {
    const bytes = canonicalJsonBytes(value);
    if (bytes.byteLength > EXEC_LIMITS.valueBytesMax) throw new ContractError('VALUE_TOO_LARGE', 'state value too large');
    this.write(key, bytes);
  }

  del(key: string): void {
    this.write(key, undefined);
  }

  private write(key: string, value: Uint8Array | undefined): void {
    if (Buffer.byteLength(key) > EXEC_LIMITS.keyBytesMax) throw new ContractError('KEY_TOO_LARGE', 'state key too long');
    if (!isStateKey(key)) throw new ContractError('BAD_STATE_KEY', 'state keys are 1-256 bytes of valid UTF-8 without NUL');
    if (!this.writes.has(key) && this.writes.size >= EXEC_LIMITS.writesPerTxMax) {
      throw new ContractError('TOO_MANY_WRITES', `a transaction may write at most ${EXEC_LIMITS.writesPerTxMax} keys`);
    }
    this.writes.set(key, value);
  }

  emit(name: string, data: JsonValue): void {
    if (this.events.length >= EXEC_LIMITS.eventsPerTxMax) throw new ContractError('TOO_MANY_EVENTS', 'too many events');
    // Checked here, per transaction, so a bad event refuses its transaction, not the block.
    if (Buffer.byteLength(name) > TX_LIMITS.nameBytesMax) throw new ContractError('EVENT_TOO_LARGE', 'event name too long');
    const json = canonicalJson(data);
    if (Buffer.byteLength(json) > BLOCK_LIMITS.eventBytesMax) throw new ContractError('EVENT_TOO_LARGE', 'event data too large');
    this.events.push({ contract: this.contract, name, data });
    this.eventData.push(json);
  }
}

export class Executor {
  constructor(
    private readonly contracts: ReadonlyMap<string, Contract>,
    private readonly rulesOf: RulesOf,
    private readonly onFault: (e: unknown, where: string) => void = () => {},
  ) {}

  /**
   * Execute a block's transactions in order against `read` (the state before the block).
   * `isCommitted` tells whether a transaction id is already in an earlier block: a replay is
   * refused with TX_REPLAYED, so each transaction takes effect at most once.
   */
  executeBlock(block: BlockInfo, txs: readonly DecodedTx[], read: StateReader, isCommitted: (id: Uint8Array) => boolean): ExecutedBlock {
    const writes: WriteSet = new Map();
    const results: TxResult[] = [];
    // Every result is encoded into one buffer; resultBytes are views of it.
    const out = new Writer(RESULT_BYTES_GUESS * Math.max(1, txs.length));
    const ends: number[] = [];
    const rules = this.rulesOf(read);
    const inBlock = new Set<string>();
    for (const t of txs) {
      const result = inBlock.has(t.idHex) || isCommitted(t.id) ? this.refusal(REPLAYED, out) : this.executeTx(block, rules, t, read, writes, out);
      inBlock.add(t.idHex);
      results.push(result);
      ends.push(out.length);
    }
    const all = out.finish();
    const resultBytes = ends.map((end, i) => all.subarray(i === 0 ? 0 : ends[i - 1], end));
    return { results, resultBytes, codes: results.map((r) => r.code), writes };
  }

  private refusal(code: string, out: Writer): TxResult {
    writeResultParts(out, code, [], NULL_JSON);
    return { code, events: [], value: null };
  }

  /** Run one transaction; its result is appended to `out` (and only once it is final). */
  private executeTx(block: BlockInfo, rules: ExecRules, t: DecodedTx, read: StateReader, blockWrites: WriteSet, out: Writer): TxResult {
    if (t.tx.expiresAt < block.time) return this.refusal('TX_EXPIRED', out);
    if (t.tx.expiresAt - block.time > rules.txTtlMaxMs) return this.refusal('TX_EXPIRY_TOO_FAR', out);
    const contract = this.contracts.get(t.tx.contract);
    if (contract === undefined) return this.refusal('UNKNOWN_CONTRACT', out);
    const method = Object.hasOwn(contract.methods, t.tx.method) ? contract.methods[t.tx.method] : undefined;
    if (method === undefined) return this.refusal('UNKNOWN_METHOD', out);
    const ctx = new TxContext(block, t.idHex, t.signerHex, contract.name, read, blockWrites);
    let value: JsonValue;
    let valueJson: string;
    try {
      value = method(ctx, t.args) ?? null;
      valueJson = canonicalJson(value);
      if (Buffer.byteLength(valueJson) > TX_LIMITS.argsBytesMax) throw new ContractError('VALUE_TOO_LARGE', 'return value too large');
    } catch (e) {
      if (e instanceof CredenceError) return this.refusal(e.code, out);
      // A bug in a contract is deterministic, so every node records the same code; the
      // operator still needs to hear about it.
      this.onFault(e, `${t.tx.contract}.${t.tx.method}`);
      return this.refusal('CONTRACT_FAULT', out);
    }
    for (const [k, v] of ctx.writes) blockWrites.set(k, v);
    const events = ctx.events.map((e, i) => ({ contract: e.contract, name: e.name, data: ctx.eventData[i] as string }));
    writeResultParts(out, OK, events, valueJson);
    return { code: OK, events: ctx.events, value };
  }
}
