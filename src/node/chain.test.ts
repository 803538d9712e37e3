// Chain over a real SQLite file (default suite): block 0 from the genesis once, a foreign genesis
// refused, the follower path (applyReceived) reproducing the leader's blocks exactly, and every
// kind of bad received block refused with CORRUPT leaving the follower's head and state untouched.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Block, BlockHeader } from '../codec/block.js';
import { canonicalJsonBytes, type JsonValue, parseStoredJson } from '../codec/canonicalJson.js';
import { type DecodedTx, decodeTx, encodeTx, txDigest } from '../codec/tx.js';
import { kvKey } from '../contracts/kv.js';
import type { Signer } from '../crypto/suite.js';
import { getSuite } from '../crypto/suites.js';
import { DEFAULT_ORDERING, DEFAULT_POLICIES, type Genesis, genesisHash, validateGenesis } from '../ledger/genesis.js';
import { merkleRoot } from '../ledger/merkle.js';
import { Chain } from './chain.js';
import { hex, isCode } from '../../test/fixtures.js';

const suite = getSuite('default');
const hash = (d: Uint8Array) => suite.hash(d);
const GENESIS_TIME = 1_763_700_000_000;

const dir = mkdtempSync(join(tmpdir(), 'credence-chain-'));
let dbs = 0;
const freshPath = () => join(dir, `chain${dbs++}.db`);
const open: Chain[] = [];
function openChain(path: string, g: Genesis = genesis): Chain {
  const c = Chain.open(path, g, suite);
  open.push(c);
  return c;
}
function close(c: Chain): void {
  c.close();
  open.splice(open.indexOf(c), 1);
}
after(() => {
  for (const c of open) c.close();
  rmSync(dir, { recursive: true, force: true });
});

let alpha: Signer;
let beta: Signer;
let outsider: Signer;
let genesis: Genesis;
let nonce = 0;

before(() => {
  [alpha, beta, outsider] = [0, 1, 2].map(() => suite.signerFromPem(suite.generateSigningKey().privateKeyPem)) as [Signer, Signer, Signer];
  genesis = validateGenesis({
    chainId: 'credence-test',
    suite: 'default',
    time: GENESIS_TIME,
    orgs: [
      { id: 'alpha', name: 'Alpha', roles: ['member', 'orderer'], keys: [hex(alpha.publicKey)] },
      { id: 'beta', name: 'Beta', roles: ['member'], keys: [hex(beta.publicKey)] },
    ],
    policies: DEFAULT_POLICIES,
    ordering: DEFAULT_ORDERING,
  });
});

async function tx(by: Signer, contract: string, method: string, args: JsonValue, expiresAt: number): Promise<DecodedTx> {
  const unsigned = { chainId: 'credence-test', signer: by.publicKey, nonce: ++nonce, expiresAt, contract, method, args: canonicalJsonBytes(args) };
  const signature = await by.sign(txDigest(hash, unsigned));
  return decodeTx(hash, encodeTx({ ...unsigned, signature }));
}

const T1 = GENESIS_TIME + 1000;
const T2 = GENESIS_TIME + 2000;
const T3 = GENESIS_TIME + 3000;

/** Three blocks of mixed work: kv writes, a governance change that passes, a replay, an expired tx. */
async function workload(): Promise<Array<{ height: number; time: number; txs: DecodedTx[] }>> {
  const put1 = await tx(alpha, 'kv', 'put', { key: 'a', value: 1 }, T1 + 60_000);
  const put2 = await tx(beta, 'kv', 'put', { key: 'b', value: [1, 2] }, T1 + 60_000);
  const propose = await tx(
    alpha,
    'gov',
    'propose',
    { kind: 'addOrg', org: { id: 'gamma', name: 'Gamma', roles: ['member'], keys: [hex(outsider.publicKey)] } },
    T2 + 60_000,
  );
  const vote = await tx(beta, 'gov', 'vote', { proposalId: 1, approve: true }, T2 + 60_000);
  const expired = await tx(alpha, 'kv', 'put', { key: 'late', value: 1 }, T2 - 1);
  const gammaPut = await tx(outsider, 'kv', 'put', { key: 'g', value: 'hello' }, T3 + 60_000);
  const stranger = await tx(outsider, 'kv', 'put', { key: 'early', value: 0 }, T1 + 60_000);
  return [
    { height: 1, time: T1, txs: [put1, put2, stranger] },
    { height: 2, time: T2, txs: [propose, vote, put1, expired] },
    { height: 3, time: T3, txs: [gammaPut] },
  ];
}

const decodedTxs = (b: Block): DecodedTx[] => b.txs.map((t) => decodeTx(hash, t));
const stateJson = (c: Chain, key: string): JsonValue | undefined => {
  const v = c.read(key);
  return v === undefined ? undefined : parseStoredJson(v);
};

describe('Chain genesis', () => {
  it('creates block 0 from the genesis once; reopening gives the same head', () => {
    const path = freshPath();
    const c = openChain(path);
    const head = c.head();
    assert.equal(c.height(), 0);
    assert.equal(head.header.height, 0);
    assert.equal(head.header.chainId, 'credence-test');
    assert.deepEqual(head.header.prevHash, genesisHash(hash, genesis));
    assert.equal(head.header.time, GENESIS_TIME);
    assert.equal(head.header.txCount, 0);
    assert.deepEqual(head.header.txRoot, merkleRoot(hash, []));
    assert.deepEqual(head.header.resultsRoot, merkleRoot(hash, []));
    assert.deepEqual(head.header.stateRoot, c.store.state.root());
    assert.equal(c.blockHashHex(0), hex(head.hash));
    assert.deepEqual(stateJson(c, 'gov/orgs'), ['alpha', 'beta']);
    close(c);

    const again = openChain(path);
    assert.equal(again.height(), 0);
    assert.equal(hex(again.head().hash), hex(head.hash));
    assert.equal(again.blockHashHex(1), undefined);
    assert.deepEqual(again.store.state.root(), head.header.stateRoot);
    close(again);

    // Same genesis in a fresh directory: the same block 0.
    const other = openChain(freshPath());
    assert.equal(hex(other.head().hash), hex(head.hash));
    close(other);
  });

  it('refuses a different genesis on the same directory with CONFIG, and leaves it usable', () => {
    const path = freshPath();
    const c = openChain(path);
    const head = hex(c.head().hash);
    close(c);
    for (const g of [
      { ...genesis, time: GENESIS_TIME + 1 },
      { ...genesis, chainId: 'credence-other' },
      { ...genesis, policies: { ...genesis.policies, txTtlMaxMs: 5 } },
    ]) {
      assert.throws(() => Chain.open(path, g, suite), isCode('CONFIG'));
    }
    const back = openChain(path);
    assert.equal(hex(back.head().hash), head);
    close(back);
  });
});

describe('Chain: store format', () => {
  it('refuses, with CONFIG, a data directory written in another store format (or before formats were stamped)', async () => {
    const { default: Database } = await import('better-sqlite3');
    for (const tamper of ["UPDATE meta SET value = X'31' WHERE key = 'format'", "DELETE FROM meta WHERE key = 'format'"]) {
      const path = freshPath();
      close(openChain(path));
      const db = new Database(path);
      db.exec(tamper);
      db.close();
      assert.throws(() => Chain.open(path, genesis, suite), isCode('CONFIG'));
    }
  });
});

describe('Chain: leader and follower', () => {
  it('commitProposed then applyReceived on a second chain gives identical blocks, results and state', async () => {
    const leader = openChain(freshPath());
    const follower = openChain(freshPath());
    const codes: string[][] = [];
    for (const b of await workload()) {
      const mine = leader.commitProposed(b.height, b.time, b.txs);
      codes.push(mine.results.map((r) => r.code));
      const block = leader.store.block(b.height);
      assert.ok(block);
      const theirs = follower.applyReceived(block, decodedTxs(block));
      assert.equal(hex(theirs.head.hash), hex(mine.head.hash), `block ${b.height}`);
      assert.deepEqual(theirs.results, mine.results);
      assert.deepEqual(follower.store.results(b.height), leader.store.results(b.height));
      assert.deepEqual(follower.store.state.root(), leader.store.state.root());
    }
    assert.deepEqual(codes, [['OK', 'OK', 'NOT_MEMBER'], ['OK', 'OK', 'TX_REPLAYED', 'TX_EXPIRED'], ['OK']]);
    // What the workload did, as both nodes see it.
    for (const c of [leader, follower]) {
      assert.equal(c.height(), 3);
      assert.deepEqual(stateJson(c, kvKey('alpha', 'a')), 1);
      assert.deepEqual(stateJson(c, kvKey('beta', 'b')), [1, 2]);
      assert.deepEqual(stateJson(c, kvKey('gamma', 'g')), 'hello');
      assert.equal(stateJson(c, kvKey('alpha', 'late')), undefined);
      assert.deepEqual(stateJson(c, 'gov/orgs'), ['alpha', 'beta', 'gamma']);
    }
    // The follower's tx index: the replayed put at height 2 keeps its first (height 1) entry.
    const index = (h: number) =>
      (follower.store.block(h)?.txs ?? []).map((t) => {
        const at = follower.store.tx(decodeTx(hash, t).id);
        return at === undefined ? 'not indexed' : `${at.height}/${at.index}:${at.code}`;
      });
    assert.deepEqual(index(1), ['1/0:OK', '1/1:OK', '1/2:NOT_MEMBER']);
    assert.deepEqual(index(2), ['2/0:OK', '2/1:OK', '1/0:OK', '2/3:TX_EXPIRED']);
  });
});

describe('Chain: applyReceived refuses bad blocks and writes nothing', () => {
  let leader: Chain;
  let follower: Chain;
  let followerPath: string;
  let good: Block;
  let goodTxs: DecodedTx[];

  before(async () => {
    leader = openChain(freshPath());
    followerPath = freshPath();
    follower = openChain(followerPath);
    const [b1, b2] = await workload();
    assert.ok(b1 && b2);
    leader.commitProposed(b1.height, b1.time, b1.txs);
    leader.commitProposed(b2.height, b2.time, b2.txs);
    const block1 = leader.store.block(1);
    assert.ok(block1);
    follower.applyReceived(block1, decodedTxs(block1));
    const block2 = leader.store.block(2);
    assert.ok(block2);
    good = block2;
    goodTxs = decodedTxs(block2);
  });

  /** The follower is exactly at block 1: head, state root, state, tx index, no block 2. */
  function assertUnchanged(): void {
    assert.equal(follower.height(), 1);
    assert.equal(hex(follower.head().hash), hex(leader.store.blockHash(1) ?? new Uint8Array(0)));
    assert.deepEqual(follower.store.state.root(), leader.store.header(1)?.stateRoot);
    assert.equal(follower.store.block(2), undefined);
    assert.deepEqual(stateJson(follower, 'gov/orgs'), ['alpha', 'beta']);
    assert.equal(stateJson(follower, 'gov/proposal-seq'), undefined);
    for (const t of goodTxs.slice(0, 2)) assert.equal(follower.store.hasTx(t.id), false);
  }

  const withHeader = (patch: Partial<BlockHeader>): Block => ({ header: { ...good.header, ...patch }, txs: good.txs });
  const flipped = (b: Uint8Array): Uint8Array => {
    const c = b.slice();
    c[0] = (c[0] as number) ^ 0x80;
    return c;
  };

  it('a block that does not link (wrong prevHash, skipped or repeated height) is CORRUPT', () => {
    assert.throws(() => follower.applyReceived(withHeader({ prevHash: flipped(good.header.prevHash) }), goodTxs), isCode('CORRUPT'));
    assert.throws(() => follower.applyReceived(withHeader({ height: 3 }), goodTxs), isCode('CORRUPT'));
    const block1 = leader.store.block(1) as Block;
    assert.throws(() => follower.applyReceived(block1, decodedTxs(block1)), isCode('CORRUPT'));
    assertUnchanged();
  });

  it('a block for another chain is WRONG_CHAIN', () => {
    assert.throws(() => follower.applyReceived(withHeader({ chainId: 'credence-other' }), goodTxs), isCode('WRONG_CHAIN'));
    assertUnchanged();
  });

  it('a wrong tx root, or txs that do not match the header, is CORRUPT', () => {
    assert.throws(() => follower.applyReceived(withHeader({ txRoot: flipped(good.header.txRoot) }), goodTxs), isCode('CORRUPT'));
    const reordered = [...good.txs].reverse();
    assert.throws(
      () =>
        follower.applyReceived(
          { header: good.header, txs: reordered },
          reordered.map((t) => decodeTx(hash, t)),
        ),
      isCode('CORRUPT'),
    );
    // The body matches the header but the decoded txs handed in for execution do not.
    assert.throws(() => follower.applyReceived(good, goodTxs.slice(1)), isCode('CORRUPT'));
    assertUnchanged();
  });

  it('a block that goes back in time is CORRUPT', () => {
    assert.throws(() => follower.applyReceived(withHeader({ time: T1 - 1 }), goodTxs), isCode('CORRUPT'));
    assertUnchanged();
  });

  it('a header claiming another state root (or results root, or time) is CORRUPT after re-execution, and nothing is half-written', () => {
    assert.throws(() => follower.applyReceived(withHeader({ stateRoot: flipped(good.header.stateRoot) }), goodTxs), isCode('CORRUPT'));
    assertUnchanged();
    assert.throws(() => follower.applyReceived(withHeader({ resultsRoot: flipped(good.header.resultsRoot) }), goodTxs), isCode('CORRUPT'));
    assertUnchanged();
    // Same time as the head is allowed by the link check, but then the header hash differs.
    assert.throws(() => follower.applyReceived(withHeader({ time: T1 }), goodTxs), isCode('CORRUPT'));
    assertUnchanged();
    // The same holds on disk: reopen and look again.
    close(follower);
    follower = openChain(followerPath);
    assertUnchanged();
  });

  it('after all the refusals the genuine block still applies and matches the leader', () => {
    const c = follower.applyReceived(good, goodTxs);
    assert.equal(hex(c.head.hash), hex(leader.store.blockHash(2) ?? new Uint8Array(0)));
    assert.deepEqual(follower.store.state.root(), leader.store.state.root());
    assert.deepEqual(stateJson(follower, 'gov/orgs'), ['alpha', 'beta', 'gamma']);
  });
});
