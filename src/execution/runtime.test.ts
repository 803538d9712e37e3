// The contract runtime with a tiny test contract: per-tx atomicity, coded refusals (contract
// errors, faults, unknown contract/method, expiry against block time, replays, per-tx limits),
// what a contract sees in its context, and determinism of results and writes.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJsonBytes, type JsonValue } from '../codec/canonicalJson.js';
import { BLOCK_LIMITS, decodeResult } from '../codec/block.js';
import { type DecodedTx, TX_LIMITS, decodeTx, encodeTx, txDigest } from '../codec/tx.js';
import { getSuite } from '../crypto/suites.js';
import { type BlockInfo, type Contract, ContractError, EXEC_LIMITS, Executor, type ExecutedBlock, type StateReader } from './runtime.js';

const suite = getSuite('default');
const hash = (d: Uint8Array) => suite.hash(d);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const TIME = 1_763_700_000_000;
const TTL = 60_000;
const BLOCK: BlockInfo = { chainId: 'credence-test', height: 5, time: TIME };

type Args = Record<string, JsonValue>;
const arg = (a: JsonValue): Args => a as Args;

/** The test contract: each method exercises one part of the runtime. */
const test: Contract = {
  name: 'test',
  methods: {
    put: (ctx, a) => {
      for (const [k, v] of Object.entries(arg(a))) ctx.put(k, v);
      return 'ok';
    },
    del: (ctx, a) => {
      ctx.del(String(arg(a).key));
      return null;
    },
    get: (ctx, a) => ctx.get(String(arg(a).key)) ?? 'missing',
    putThenRefuse: (ctx) => {
      ctx.put('a', 1);
      ctx.emit('before', 1);
      throw new ContractError('NOPE', 'refused on purpose');
    },
    putThenCrash: (ctx) => {
      ctx.put('a', 2);
      throw new TypeError('a bug');
    },
    info: (ctx) => ({ chainId: ctx.block.chainId, height: ctx.block.height, time: ctx.block.time, txId: ctx.txId, signer: ctx.signer }),
    writeMany: (ctx, a) => {
      for (let i = 0; i < Number(arg(a).n); i++) ctx.put(`k${i}`, i);
      return null;
    },
    rewriteOne: (ctx, a) => {
      for (let i = 0; i < Number(arg(a).n); i++) ctx.put('same', i);
      return null;
    },
    bigValue: (ctx, a) => {
      // A string of n characters encodes to n + 2 bytes of canonical JSON.
      ctx.put('big', 'x'.repeat(Number(arg(a).bytes) - 2));
      return null;
    },
    longKey: (ctx, a) => {
      ctx.put(String(arg(a).key), 1);
      return null;
    },
    emitMany: (ctx, a) => {
      for (let i = 0; i < Number(arg(a).n); i++) ctx.emit('e', i);
      return Number(arg(a).n);
    },
    emitFloat: (ctx) => {
      ctx.emit('bad', 1.5 as JsonValue);
      return null;
    },
    returnFloat: () => 1.5,
    bigEvent: (ctx) => {
      ctx.emit('big', 'x'.repeat(BLOCK_LIMITS.eventBytesMax));
      return null;
    },
    longEventName: (ctx) => {
      ctx.emit('n'.repeat(TX_LIMITS.nameBytesMax + 1), null);
      return null;
    },
    bigReturn: () => 'x'.repeat(TX_LIMITS.argsBytesMax),
  },
};

const inherited = Object.create({ inherited: () => 'from the prototype' }) as Record<string, Contract['methods'][string]>;
const proto: Contract = { name: 'proto', methods: inherited };
const contracts = new Map<string, Contract>([
  ['test', test],
  ['proto', proto],
]);

const faults: string[] = [];
const executor = () =>
  new Executor(
    contracts,
    () => ({ txTtlMaxMs: TTL }),
    (_e, where) => faults.push(where),
  );

let signerPem = '';
let nonce = 0;

async function tx(method: string, args: JsonValue = null, opts: { contract?: string; expiresAt?: number } = {}): Promise<DecodedTx> {
  const signer = suite.signerFromPem(signerPem);
  const unsigned = {
    chainId: 'credence-test',
    signer: signer.publicKey,
    nonce: ++nonce,
    expiresAt: opts.expiresAt ?? TIME + 30_000,
    contract: opts.contract ?? 'test',
    method,
    args: canonicalJsonBytes(args),
  };
  const signature = await signer.sign(txDigest(hash, unsigned));
  return decodeTx(hash, encodeTx({ ...unsigned, signature }));
}

function stateOf(entries: Record<string, JsonValue> = {}): StateReader {
  const m = new Map(Object.entries(entries).map(([k, v]) => [k, canonicalJsonBytes(v)]));
  return (k) => m.get(k);
}
const never = () => false;

function exec(txs: readonly DecodedTx[], read: StateReader = stateOf(), isCommitted: (id: Uint8Array) => boolean = never, block = BLOCK): ExecutedBlock {
  return executor().executeBlock(block, txs, read, isCommitted);
}

const writesOf = (e: ExecutedBlock) => [...e.writes].map(([k, v]) => [k, v === undefined ? null : Buffer.from(v).toString()]);

before(() => {
  signerPem = suite.generateSigningKey().privateKeyPem;
});

describe('Executor: atomicity and faults', () => {
  it('a successful tx commits its writes, events and return value', async () => {
    const e = exec([await tx('put', { a: 1, b: 'x' })]);
    assert.deepEqual(e.codes, ['OK']);
    assert.deepEqual(e.results[0], { code: 'OK', events: [], value: 'ok' });
    assert.deepEqual(writesOf(e), [
      ['a', '1'],
      ['b', '"x"'],
    ]);
  });

  it('a ContractError leaves no writes or events and records its code', async () => {
    const e = exec([await tx('put', { z: 0 }), await tx('putThenRefuse'), await tx('get', { key: 'a' })]);
    assert.deepEqual(e.codes, ['OK', 'NOPE', 'OK']);
    assert.deepEqual(e.results[1], { code: 'NOPE', events: [], value: null });
    assert.equal(e.results[2]?.value, 'missing', 'a later tx does not see the refused write');
    assert.deepEqual(writesOf(e), [['z', '0']]);
  });

  it('a non-CredenceError throw is CONTRACT_FAULT, reported to onFault, with no writes', async () => {
    faults.length = 0;
    const e = exec([await tx('putThenCrash')]);
    assert.deepEqual(e.codes, ['CONTRACT_FAULT']);
    assert.equal(e.writes.size, 0);
    assert.deepEqual(faults, ['test.putThenCrash']);
  });

  it('a later tx reads an earlier tx’s writes in the same block; deletes shadow the state', async () => {
    const read = stateOf({ old: 'v0' });
    const e = exec([await tx('put', { a: 7 }), await tx('get', { key: 'a' }), await tx('del', { key: 'old' }), await tx('get', { key: 'old' })], read);
    assert.deepEqual(
      e.results.map((r) => r.value),
      ['ok', 7, null, 'missing'],
    );
    assert.equal(e.writes.get('old'), undefined);
    assert.ok(e.writes.has('old'));
  });

  it('a non-canonical return value is refused MALFORMED with no writes', async () => {
    assert.deepEqual(exec([await tx('returnFloat')]).codes, ['MALFORMED']);
  });

  it('the context carries block info, the tx id and the signer (hex)', async () => {
    const t = await tx('info');
    const e = exec([t]);
    assert.deepEqual(e.results[0]?.value, { chainId: 'credence-test', height: 5, time: TIME, txId: t.idHex, signer: hex(t.tx.signer) });
  });
});

describe('Executor: refusals before the contract runs', () => {
  it('UNKNOWN_CONTRACT and UNKNOWN_METHOD, including Object.prototype and inherited names', async () => {
    assert.deepEqual(exec([await tx('put', null, { contract: 'nope' })]).codes, ['UNKNOWN_CONTRACT']);
    const names = ['missing', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
    const e = exec(await Promise.all(names.map((m) => tx(m))));
    assert.deepEqual(
      e.codes,
      names.map(() => 'UNKNOWN_METHOD'),
    );
    assert.deepEqual(exec([await tx('inherited', null, { contract: 'proto' })]).codes, ['UNKNOWN_METHOD']);
  });

  it('__proto__ as a method name: MALFORMED at decode, UNKNOWN_METHOD if it reaches the executor', async () => {
    const good = await tx('put');
    assert.throws(
      () => decodeTx(hash, encodeTx({ ...good.tx, method: '__proto__' })),
      (e: unknown) => (e as { code?: string }).code === 'MALFORMED',
    );
    // Built by hand (decodeTx would refuse it), to check the executor on its own.
    const forged: DecodedTx = { ...good, tx: { ...good.tx, method: '__proto__' } };
    const ctorForged: DecodedTx = { ...good, id: new Uint8Array(32).fill(9), idHex: '09'.repeat(32), tx: { ...good.tx, contract: '__proto__' } };
    assert.deepEqual(exec([forged, ctorForged]).codes, ['UNKNOWN_METHOD', 'UNKNOWN_CONTRACT']);
  });

  it('TX_EXPIRED before block time; TX_EXPIRY_TOO_FAR beyond the TTL; both bounds inclusive', async () => {
    const e = exec([
      await tx('put', { a: 1 }, { expiresAt: TIME - 1 }),
      await tx('put', { b: 1 }, { expiresAt: TIME }),
      await tx('put', { c: 1 }, { expiresAt: TIME + TTL }),
      await tx('put', { d: 1 }, { expiresAt: TIME + TTL + 1 }),
    ]);
    assert.deepEqual(e.codes, ['TX_EXPIRED', 'OK', 'OK', 'TX_EXPIRY_TOO_FAR']);
    assert.deepEqual([...e.writes.keys()], ['b', 'c']);
  });

  it('TX_REPLAYED for a duplicate in the block and for an id already committed', async () => {
    const a = await tx('put', { a: 1 });
    const b = await tx('put', { b: 1 });
    const committed = new Set([b.idHex]);
    const e = exec([a, a, b], stateOf(), (id) => committed.has(hex(id)));
    assert.deepEqual(e.codes, ['OK', 'TX_REPLAYED', 'TX_REPLAYED']);
    assert.deepEqual(e.results[1], { code: 'TX_REPLAYED', events: [], value: null });
    assert.deepEqual([...e.writes.keys()], ['a']);
  });

  it('a re-signed copy (same id, other signature) is a replay', async () => {
    const a = await tx('put', { a: 1 });
    const copy = decodeTx(hash, encodeTx({ ...a.tx, signature: new Uint8Array(64).fill(7) }));
    assert.equal(copy.idHex, a.idHex);
    assert.deepEqual(exec([a, copy]).codes, ['OK', 'TX_REPLAYED']);
  });
});

describe('Executor: per-tx limits', () => {
  it(`writesPerTxMax (${EXEC_LIMITS.writesPerTxMax} distinct keys); rewriting one key does not count twice`, async () => {
    const e = exec([
      await tx('writeMany', { n: EXEC_LIMITS.writesPerTxMax }),
      await tx('writeMany', { n: EXEC_LIMITS.writesPerTxMax + 1 }),
      await tx('rewriteOne', { n: EXEC_LIMITS.writesPerTxMax + 10 }),
    ]);
    assert.deepEqual(e.codes, ['OK', 'TOO_MANY_WRITES', 'OK']);
    assert.equal(e.writes.size, EXEC_LIMITS.writesPerTxMax + 1);
  });

  it(`valueBytesMax (${EXEC_LIMITS.valueBytesMax} bytes of canonical JSON)`, async () => {
    const e = exec([await tx('bigValue', { bytes: EXEC_LIMITS.valueBytesMax + 1 }), await tx('bigValue', { bytes: EXEC_LIMITS.valueBytesMax })]);
    assert.deepEqual(e.codes, ['VALUE_TOO_LARGE', 'OK']);
    assert.equal(e.writes.get('big')?.byteLength, EXEC_LIMITS.valueBytesMax);
  });

  it(`keyBytesMax (${EXEC_LIMITS.keyBytesMax} UTF-8 bytes, not characters)`, async () => {
    const max = EXEC_LIMITS.keyBytesMax;
    const e = exec([
      await tx('longKey', { key: 'k'.repeat(max) }),
      await tx('longKey', { key: 'k'.repeat(max + 1) }),
      await tx('longKey', { key: 'é'.repeat(max / 2) }),
      await tx('longKey', { key: 'é'.repeat(max / 2 + 1) }),
    ]);
    assert.deepEqual(e.codes, ['OK', 'KEY_TOO_LARGE', 'OK', 'KEY_TOO_LARGE']);
  });

  it(`eventsPerTxMax (${EXEC_LIMITS.eventsPerTxMax})`, async () => {
    const e = exec([await tx('emitMany', { n: EXEC_LIMITS.eventsPerTxMax }), await tx('emitMany', { n: EXEC_LIMITS.eventsPerTxMax + 1 })]);
    assert.deepEqual(e.codes, ['OK', 'TOO_MANY_EVENTS']);
    assert.equal(e.results[0]?.events.length, EXEC_LIMITS.eventsPerTxMax);
    assert.deepEqual(e.results[0]?.events[3], { contract: 'test', name: 'e', data: 3 });
    assert.deepEqual(e.results[1]?.events, []);
  });

  it('non-canonical event data is a per-tx refusal, not a block failure', async () => {
    // Observed: executeBlock throws CredenceError MALFORMED from `results.map(encodeResult)`,
    // outside the per-tx try/catch, so one contract's event fails the whole block.
    const e = exec([await tx('put', { a: 1 }), await tx('emitFloat')]);
    assert.equal(e.codes[0], 'OK');
    assert.notEqual(e.codes[1], 'OK');
  });

  it('a key the state tree refuses (empty, NUL, lone surrogate) is a per-tx refusal', async () => {
    // Observed: code OK and a write for key "" in the block's write set; the store's
    // StateTree.applyWrites then throws MALFORMED when the block is committed.
    const e = exec([await tx('longKey', { key: '' }), await tx('longKey', { key: 'a\u0000b' }), await tx('longKey', { key: '\ud800' })]);
    assert.notEqual(e.codes[0], 'OK');
    assert.notEqual(e.codes[1], 'OK');
    assert.notEqual(e.codes[2], 'OK');
    assert.equal(e.writes.size, 0);
  });
});

describe('Executor: recorded results stay decodable', () => {
  it('within the codec limits, results decode with decodeResult', async () => {
    const e = exec([await tx('emitMany', { n: EXEC_LIMITS.eventsPerTxMax }), await tx('put', { a: 'x'.repeat(1000) })]);
    for (const b of e.resultBytes) assert.doesNotThrow(() => decodeResult(b));
  });

  it('a result the executor records as OK always decodes (event data, event name, return value sizes)', async () => {
    // Observed: all three are recorded with code OK, and decodeResult (used by the API to
    // serve stored results) then throws TOO_LARGE on each of them.
    const e = exec([await tx('bigEvent'), await tx('longEventName'), await tx('bigReturn')]);
    e.resultBytes.forEach((b, i) => {
      if (e.codes[i] === 'OK') assert.doesNotThrow(() => decodeResult(b), `tx ${i}`);
    });
  });
});

describe('Executor: determinism', () => {
  const methods = ['put', 'del', 'get', 'putThenRefuse', 'putThenCrash', 'writeMany', 'emitMany', 'info'] as const;
  const pool: DecodedTx[] = [];

  before(async () => {
    for (let i = 0; i < 24; i++) {
      const m = methods[i % methods.length] as string;
      const args: JsonValue =
        m === 'put' ? { [`k${i % 5}`]: i } : m === 'del' || m === 'get' ? { key: `k${i % 5}` } : m === 'writeMany' || m === 'emitMany' ? { n: i % 4 } : null;
      pool.push(await tx(m, args, { expiresAt: TIME + (i % 7 === 0 ? -1 : 1000) }));
    }
  });

  it('the same block on the same state twice gives byte-identical results and writes', () => {
    const base = stateOf({ k0: 'zero', k3: [1, 2] });
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 23 }), { maxLength: 20 }), fc.uniqueArray(fc.nat({ max: 23 }), { maxLength: 4 }), (picks, committedIdx) => {
        const txs = picks.map((i) => pool[i] as DecodedTx);
        const committed = new Set(committedIdx.map((i) => (pool[i] as DecodedTx).idHex));
        const isCommitted = (id: Uint8Array) => committed.has(hex(id));
        const a = exec(txs, base, isCommitted);
        const b = new Executor(
          new Map(contracts),
          () => ({ txTtlMaxMs: TTL }),
          () => {},
        ).executeBlock({ ...BLOCK }, [...txs], base, isCommitted);
        assert.deepEqual(a.codes, b.codes);
        assert.deepEqual(a.resultBytes.map(hex), b.resultBytes.map(hex));
        assert.deepEqual(writesOf(a), writesOf(b));
        assert.equal(a.codes.length, txs.length);
      }),
      { numRuns: 150, seed: 2024 },
    );
  });
});
