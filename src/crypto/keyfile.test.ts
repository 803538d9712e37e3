// PEM key files: round trips for both suites, 0600 on the private key, and BAD_KEY errors that
// name the file without leaking key material.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CredenceError } from '../util/errors.js';
import { keyFilePaths, loadPublicKey, loadSigner, writeKeyFiles } from './keyfile.js';
import { getSuite, SUITE_NAMES } from './suites.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credence-keys-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('key files', () => {
  for (const name of SUITE_NAMES) {
    it(`${name}: write then load signer and public key`, async () => {
      const suite = getSuite(name);
      const key = suite.generateSigningKey();
      const paths = writeKeyFiles(path.join(dir, name), 'node1', key);
      assert.equal(fs.statSync(paths.privateKeyPath).mode & 0o777, 0o600);
      const signer = loadSigner(suite, paths.privateKeyPath);
      assert.deepEqual(signer.publicKey, key.publicKey);
      assert.deepEqual(loadPublicKey(suite, paths.publicKeyPath), key.publicKey);
      const d = suite.hash(new Uint8Array([1, 2, 3]));
      assert.equal(suite.verify(key.publicKey, d, await signer.sign(d)), true);
    });
  }

  it('errors are BAD_KEY, name the file and never print key material', () => {
    const gm = getSuite('gm');
    const key = getSuite('default').generateSigningKey();
    const paths = writeKeyFiles(dir, 'ed', key);
    const body = key.privateKeyPem.split('\n')[1] ?? '';
    const check = (fn: () => unknown, file: string) =>
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof CredenceError);
        assert.equal(e.code, 'BAD_KEY');
        assert.ok(e.message.includes(file), e.message);
        assert.ok(!e.message.includes(body.slice(0, 16)));
        return true;
      });
    check(() => loadSigner(gm, paths.privateKeyPath), paths.privateKeyPath);
    check(() => loadPublicKey(gm, paths.publicKeyPath), paths.publicKeyPath);
    check(() => loadSigner(getSuite('default'), path.join(dir, 'missing.key.pem')), 'missing.key.pem');
    fs.writeFileSync(path.join(dir, 'junk.pem'), 'hello');
    check(() => loadPublicKey(gm, path.join(dir, 'junk.pem')), 'junk.pem');
  });

  it('refuses key names that could escape the directory', () => {
    assert.throws(
      () => keyFilePaths(dir, '../x'),
      (e: unknown) => e instanceof CredenceError && e.code === 'CONFIG',
    );
  });
});
