// An in-memory chain for contract unit tests: genesis state, the real Executor with the
// system contracts, blocks of signed transactions at controlled block times.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TxResult } from '../src/codec/block.js';
import { type JsonValue, canonicalJsonBytes, parseStoredJson } from '../src/codec/canonicalJson.js';
import { decodeTx, encodeTx, txDigest } from '../src/codec/tx.js';
import { genesisWrites } from '../src/contracts/governance.js';
import { readPolicies } from '../src/contracts/members.js';
import { type AnchorArgs, type LinkKind, anchorArgsJson, batchIdOf, recordIdAt } from '../src/contracts/recordBatch.js';
import { systemContracts } from '../src/contracts/registry.js';
import type { CryptoSuite, Signer } from '../src/crypto/suite.js';
import { Executor } from '../src/execution/runtime.js';
import { DEFAULT_ORDERING, type Role, validateGenesis } from '../src/ledger/genesis.js';
import { merkleRoot } from '../src/ledger/merkle.js';
import { hex } from './fixtures.js';

export const SIM_CHAIN = 'credence-test';

/** A negative-record schema for tests. */
export const COURT_SCHEMA = {
  id: 'court-judgment',
  version: 1,
  title: 'Court judgment',
  category: 'court',
  sensitivity: 'negative',
  retention: { years: 5, from: 'conductEnd' },
  jsonSchema: { type: 'object', properties: { caseNo: { type: 'string' }, amount: { type: 'integer' } } },
};
export const SIM_GENESIS_TIME = 1_763_700_000_000;

export interface SimOrg {
  readonly id: string;
  readonly roles: Role[];
  readonly keys: Signer[];
}

export interface SimCall {
  readonly by: Signer;
  readonly contract: string;
  readonly method: string;
  readonly args: JsonValue;
}

export function newSigner(suite: CryptoSuite): Signer {
  return suite.signerFromPem(suite.generateSigningKey().privateKeyPem);
}

export class ContractSim {
  readonly state: Map<string, Uint8Array>;
  time = SIM_GENESIS_TIME;
  height = 0;
  private nonce = 0;
  private readonly executor: Executor;
  private readonly hash: (d: Uint8Array) => Uint8Array;

  constructor(
    readonly suite: CryptoSuite,
    orgs: readonly SimOrg[],
  ) {
    this.hash = (d) => suite.hash(d);
    this.executor = new Executor(systemContracts(suite), (read) => ({ txTtlMaxMs: readPolicies(read).txTtlMaxMs }));
    const genesis = validateGenesis({
      chainId: SIM_CHAIN,
      suite: suite.name,
      time: SIM_GENESIS_TIME,
      orgs: orgs.map((o, i) => ({ id: o.id, name: o.id, roles: i === 0 ? [...o.roles, 'orderer'] : o.roles, keys: o.keys.map((k) => hex(k.publicKey)) })),
      policies: { txTtlMaxMs: 3_600_000, proposalTtlMs: 100_000 },
      ordering: DEFAULT_ORDERING,
    });
    this.state = genesisWrites(genesis);
  }

  read = (k: string): Uint8Array | undefined => this.state.get(k);

  get<T = JsonValue>(k: string): T | undefined {
    const b = this.state.get(k);
    return b === undefined ? undefined : (parseStoredJson(b) as T);
  }

  /** Execute one block at the next block time and apply its writes. */
  async block(calls: readonly SimCall[], advanceMs = 1000): Promise<TxResult[]> {
    this.time += advanceMs;
    this.height += 1;
    const txs = [];
    for (const c of calls) {
      const unsigned = {
        chainId: SIM_CHAIN,
        signer: c.by.publicKey,
        nonce: ++this.nonce,
        expiresAt: this.time + 60_000,
        contract: c.contract,
        method: c.method,
        args: canonicalJsonBytes(c.args),
      };
      const signature = await c.by.sign(txDigest(this.hash, unsigned));
      txs.push(decodeTx(this.hash, encodeTx({ ...unsigned, signature })));
    }
    const out = this.executor.executeBlock({ chainId: SIM_CHAIN, height: this.height, time: this.time }, txs, this.read, () => false);
    for (const [k, v] of out.writes) {
      if (v === undefined) this.state.delete(k);
      else this.state.set(k, v);
    }
    return out.results;
  }

  async call(by: Signer, contract: string, method: string, args: JsonValue, advanceMs = 1000): Promise<TxResult> {
    const [r] = await this.block([{ by, contract, method, args }], advanceMs);
    assert.ok(r);
    return r;
  }
}

export interface SimRecord {
  readonly subject: string;
  /** Default: negative, with this conduct end (default 2024-01-31); `false` for a positive record. */
  readonly negative?: boolean;
  readonly conductEnd?: string;
  readonly supersedes?: string;
  readonly revokes?: string;
  /** Default: random. */
  readonly commitment?: Uint8Array;
}

/**
 * Anchor one batch of records in the given order (consecutive records about one subject form
 * its run) as `provider`; returns the result, the record ids and the root.
 */
export async function anchorRecords(sim: ContractSim, by: Signer, provider: string, schema: string, items: readonly SimRecord[], nonce = hex(randomBytes(16))) {
  const batch = batchIdOf(sim.suite.hash, provider, nonce);
  const commitments = items.map((i) => i.commitment ?? randomBytes(32));
  const root = hex(merkleRoot(sim.suite.hash, commitments));
  const subjects: [string, number][] = [];
  for (const i of items) {
    const last = subjects[subjects.length - 1];
    if (last?.[0] === i.subject) last[1]++;
    else subjects.push([i.subject, 1]);
  }
  const args: AnchorArgs = {
    schema,
    nonce,
    root,
    count: items.length,
    subjects,
    negatives: items.flatMap((i, n) => (i.negative === false ? [] : [[n, Date.parse(i.conductEnd ?? '2024-01-31')] as const])),
    links: items.flatMap((i, n): [number, LinkKind, string][] =>
      i.supersedes !== undefined ? [[n, 'supersedes', i.supersedes]] : i.revokes !== undefined ? [[n, 'revokes', i.revokes]] : [],
    ),
  };
  const r = await sim.call(by, 'records', 'anchor', anchorArgsJson(args));
  return { r, ids: items.map((_, n) => recordIdAt(batch, n)), root, batch };
}
