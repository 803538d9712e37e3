// Offline re-verification of a node's data directory, as an auditor would do it: read every
// stored block, check the hash chain, every signature, the transaction and results roots,
// and replay every block from genesis into a scratch state to re-derive each state root.
// Works on a live node's directory (SQLite WAL readers do not block the writer).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeBlock, encodeHeader, headerHash } from '../codec/block.js';
import { parseCanonicalJson } from '../codec/canonicalJson.js';
import { decodeTx } from '../codec/tx.js';
import { getSuite } from '../crypto/suites.js';
import { VerifyPool } from '../crypto/verifyPool.js';
import { type Genesis, validateGenesis } from '../ledger/genesis.js';
import { merkleRoot } from '../ledger/merkle.js';
import { decodeResultList } from '../ledger/store.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import { Chain } from './chain.js';

export interface VerifyReport {
  ok: boolean;
  /** Highest height checked. */
  height: number;
  blocks: number;
  txs: number;
  headHash?: string;
  firstBadHeight?: number;
  reason?: string;
}

export interface VerifyOptions {
  /** Pin the genesis (else the copy stored in the directory is used). */
  readonly genesis?: Genesis;
  readonly onProgress?: (done: number, total: number) => void;
  readonly threads?: number;
}

interface Row {
  height: number;
  hash: Uint8Array;
  header: Uint8Array;
  body: Uint8Array;
}

class BadBlock extends Error {
  constructor(
    readonly height: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function storedGenesis(db: Database.Database): Genesis {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'genesis'").pluck().get() as Uint8Array | undefined;
  if (row === undefined) throw new BadBlock(0, 'no genesis recorded in the data directory');
  try {
    return validateGenesis(parseCanonicalJson(new Uint8Array(row)) as unknown as Genesis);
  } catch {
    throw new BadBlock(0, 'stored genesis document is damaged');
  }
}

export async function verifyDataDir(dir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const file = join(dir, 'chain.db');
  if (!existsSync(file)) throw new CredenceError(Codes.NOT_FOUND, `no chain.db in ${dir}: is this a node data directory?`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const report: VerifyReport = { ok: true, height: -1, blocks: 0, txs: 0 };
  let pool: VerifyPool | undefined;
  let replay: Chain | undefined;
  try {
    const genesis = opts.genesis ?? storedGenesis(db);
    const suite = getSuite(genesis.suite);
    pool = new VerifyPool(suite.name, opts.threads === undefined ? {} : { threads: opts.threads });
    replay = Chain.open(':memory:', genesis, suite);
    const top = (db.prepare('SELECT MAX(height) FROM blocks').pluck().get() as number | null) ?? -1;
    const rowAt = db.prepare('SELECT height, hash, header, body FROM blocks WHERE height = ?');
    const resultsAt = db.prepare('SELECT body FROM results WHERE height = ?').pluck();
    for (let h = 0; h <= top; h++) {
      const row = readRow(rowAt, h);
      await checkBlock(replay, pool, row, resultsAt.get(h) as Uint8Array | undefined, report);
      report.height = h;
      report.blocks += 1;
      report.headHash = toHex(row.hash);
      opts.onProgress?.(h + 1, top + 1);
    }
  } catch (e) {
    report.ok = false;
    if (e instanceof BadBlock) {
      report.firstBadHeight = e.height;
      report.reason = e.reason;
    } else {
      report.firstBadHeight = report.height + 1;
      report.reason = isCredenceError(e) ? `${e.code}: ${e.message}` : `cannot read the store: ${(e as Error).message}`;
    }
  } finally {
    await pool?.close();
    await replay?.close();
    db.close();
  }
  return report;
}

function readRow(stmt: Database.Statement, h: number): Row {
  let row: Row | undefined;
  try {
    row = stmt.get(h) as Row | undefined;
  } catch (e) {
    throw new BadBlock(h, `block cannot be read: ${(e as Error).message}`);
  }
  if (row === undefined) throw new BadBlock(h, 'block is missing');
  return row;
}

async function checkBlock(replay: Chain, pool: VerifyPool, row: Row, storedResults: Uint8Array | undefined, report: VerifyReport): Promise<void> {
  const h = row.height;
  const fail = (reason: string): never => {
    throw new BadBlock(h, reason);
  };
  let block: ReturnType<typeof decodeBlock>;
  try {
    block = decodeBlock(new Uint8Array(row.body));
  } catch (e) {
    return fail(`block does not decode: ${(e as Error).message}`);
  }
  if (block.header.height !== h) fail('block height does not match its position');
  if (!bytesEqual(new Uint8Array(row.header), encodeHeader(block.header))) fail('stored header differs from the block body');
  if (!bytesEqual(headerHash(replay.hash, block.header), new Uint8Array(row.hash))) fail('stored block hash does not match the header');
  if (storedResults === undefined) fail('results are missing');
  let results: Uint8Array[] = [];
  try {
    results = decodeResultList(new Uint8Array(storedResults as Uint8Array));
  } catch {
    fail('results are damaged');
  }
  if (!bytesEqual(merkleRoot(replay.hash, results), block.header.resultsRoot)) fail('stored results do not match the results root');
  if (h === 0) {
    if (!bytesEqual(replay.head().hash, new Uint8Array(row.hash))) fail('block 0 does not match the genesis document');
    return;
  }
  const txs = block.txs.map((t, i) => {
    try {
      return decodeTx(replay.hash, t);
    } catch {
      return fail(`transaction ${i} does not decode`);
    }
  });
  const ok = await pool.verifyBatch(txs.map((d) => ({ publicKey: d.tx.signer, digest: d.id, signature: d.tx.signature })));
  const bad = ok.findIndex((v) => !v);
  if (bad >= 0) fail(`transaction ${bad} has a bad signature`);
  try {
    replay.applyReceived(block, txs);
  } catch (e) {
    fail(isCredenceError(e) ? e.message : `replay failed: ${(e as Error).message}`);
  }
  report.txs += txs.length;
}
