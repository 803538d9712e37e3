// `credence verify` and `credence proof verify` through the real CLI: a live node's data
// directory verifies; changing one byte of one stored block makes verification fail and
// name that block's height; transaction and state proofs check offline against a header.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { type TestNetwork, cli, startNetwork } from './helpers.js';

describe('offline verification', () => {
  let net: TestNetwork;
  let ids: string[] = [];
  before(async () => {
    net = await startNetwork({ orgs: 2 });
    const c = net.client(0);
    for (let round = 0; round < 3; round++) {
      const txs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => c.signTx({ contract: 'kv', method: 'put', args: { key: `v-${round}-${i}`, value: i } })),
      );
      const res = await c.submit(txs, { wait: true });
      ids = ids.concat(res.map((r) => r.id ?? ''));
    }
  });
  after(async () => {
    await net?.close();
  });

  it('passes on a live node data directory', () => {
    const dataDir = net.layout.nodes[0]?.dataDir ?? '';
    const r = cli(['verify', dataDir, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; txs: number; height: number };
    assert.equal(report.ok, true);
    assert.ok(report.txs >= 60);
  });

  it('checks a transaction proof and a state proof offline, and refuses tampered ones', async () => {
    const dir = net.dir;
    const txFile = join(dir, 'tx-proof.json');
    const cfg = net.layout.nodes[1]?.config ?? '';
    assert.equal(cli(['tx', 'proof', ids[5] ?? '', '--config', cfg, '--out', txFile]).status, 0);
    const block = await net.client(0).block('latest');
    const good = cli(['proof', 'verify', txFile]);
    assert.equal(good.status, 0, good.stdout);
    assert.equal(JSON.parse(good.stdout).ok, true);
    const proof = JSON.parse(readFileSync(txFile, 'utf8')) as { tx: string };
    const flipped = proof.tx.slice(0, -2) + (proof.tx.endsWith('00') ? '01' : '00');
    writeFileSync(join(dir, 'bad-proof.json'), JSON.stringify({ ...proof, tx: flipped }));
    assert.equal(cli(['proof', 'verify', join(dir, 'bad-proof.json')]).status, 1);
    const wrongHash = cli(['proof', 'verify', txFile, '--block-hash', block.hash.replace(/^./, (c) => (c === '0' ? '1' : '0'))]);
    assert.equal(wrongHash.status, 1);

    const stateFile = join(dir, 'state-proof.json');
    assert.equal(cli(['state', 'kv/org1/v-1-3', '--config', cfg, '--out', stateFile]).status, 0);
    assert.equal(cli(['proof', 'verify', stateFile]).status, 0);
    const absent = join(dir, 'absent-proof.json');
    assert.equal(cli(['state', 'kv/org1/never-written', '--config', cfg, '--out', absent]).status, 0);
    assert.equal(cli(['proof', 'verify', absent]).status, 0);
    const sp = JSON.parse(readFileSync(stateFile, 'utf8')) as { value: string };
    writeFileSync(join(dir, 'bad-state.json'), JSON.stringify({ ...sp, value: Buffer.from('{"x":1}').toString('hex') }));
    assert.equal(cli(['proof', 'verify', join(dir, 'bad-state.json')]).status, 1);
  });

  it('fails naming the height when one byte of one stored block changes', async () => {
    await net.stop(1);
    const dataDir = net.layout.nodes[1]?.dataDir ?? '';
    const db = new Database(join(dataDir, 'chain.db'));
    const height = 2;
    const body = db.prepare('SELECT body FROM blocks WHERE height = ?').pluck().get(height) as Buffer;
    // Change one byte near the end of the block: inside the last transaction's signature.
    const altered = Buffer.from(body);
    const at = altered.length - 5;
    altered[at] = (altered[at] ?? 0) ^ 0x01;
    db.prepare('UPDATE blocks SET body = ? WHERE height = ?').run(altered, height);
    db.close();
    const r = cli(['verify', dataDir]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`FAILED at height ${height}:`));
  });

  it('fails naming the height when a byte of the database file itself changes', async () => {
    await net.stop(0);
    const dataDir = net.layout.nodes[0]?.dataDir ?? '';
    // Find a transaction's bytes in the file and flip one byte in place, as a disk-level edit would.
    const tx = await (async () => {
      const db = new Database(join(dataDir, 'chain.db'));
      db.pragma('wal_checkpoint(TRUNCATE)');
      const b = db.prepare('SELECT body FROM blocks WHERE height = 3').pluck().get() as Buffer;
      db.close();
      return b.subarray(b.length - 120, b.length - 40);
    })();
    const file = join(dataDir, 'chain.db');
    const bytes = readFileSync(file);
    const pos = bytes.indexOf(tx);
    assert.ok(pos > 0, 'found the block bytes in the database file');
    bytes[pos + 10] = (bytes[pos + 10] ?? 0) ^ 0x40;
    writeFileSync(file, bytes);
    const r = cli(['verify', dataDir]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /FAILED at height 3:/);
  });
});
