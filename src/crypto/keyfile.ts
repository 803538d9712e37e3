// PEM key files on disk: `<name>.key.pem` (PKCS#8, mode 0600) and `<name>.pub.pem` (SPKI).
// Errors name the file and the problem, never the key material, so they are safe to print.

import fs from 'node:fs';
import path from 'node:path';
import { CredenceError, Codes, isCredenceError } from '../util/errors.js';
import type { CryptoSuite, GeneratedKey, Signer } from './suite.js';

const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** PEM key files are small; anything bigger is not a key. */
const KEY_FILE_BYTES_MAX = 64 * 1024;

export interface KeyFilePaths {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
}

/** The two paths `writeKeyFiles(dir, name, ...)` writes. */
export function keyFilePaths(dir: string, name: string): KeyFilePaths {
  if (!KEY_NAME_RE.test(name)) {
    throw new CredenceError(Codes.CONFIG, `key name "${name.slice(0, 64)}" must be 1-128 characters of A-Z a-z 0-9 . _ -`);
  }
  return { privateKeyPath: path.join(dir, `${name}.key.pem`), publicKeyPath: path.join(dir, `${name}.pub.pem`) };
}

/**
 * Writes `<dir>/<name>.key.pem` (mode 0600) and `<dir>/<name>.pub.pem`, creating `dir`.
 * @example writeKeyFiles('./keys', 'node1', suite.generateSigningKey())
 */
export function writeKeyFiles(dir: string, name: string, key: GeneratedKey): KeyFilePaths {
  const paths = keyFilePaths(dir, name);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(paths.privateKeyPath, key.privateKeyPem, { mode: 0o600 });
    fs.chmodSync(paths.privateKeyPath, 0o600); // mode above only applies when the file is created
    fs.writeFileSync(paths.publicKeyPath, key.publicKeyPem, { mode: 0o644 });
  } catch (e) {
    throw new CredenceError(Codes.CONFIG, `cannot write key files in ${dir}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {}, e);
  }
  return paths;
}

function readPem(file: string): string {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > KEY_FILE_BYTES_MAX) {
      throw new CredenceError(Codes.BAD_KEY, `key file ${file} is not a PEM key file (not a regular file or too large)`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (isCredenceError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CredenceError(Codes.BAD_KEY, `cannot read key file ${file}: ${code}`, { file }, e);
  }
  return text;
}

/** Runs a suite's PEM parser and restates its BAD_KEY with the file name (dropping the cause's detail). */
function parseIn<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    const why = isCredenceError(e) ? e.message : 'unreadable key';
    throw new CredenceError(Codes.BAD_KEY, `key file ${file}: ${why}`, { file });
  }
}

/**
 * Signer from a PKCS#8 PEM file; CredenceError BAD_KEY naming the file if it is missing or not
 * a key of this suite.
 */
export function loadSigner(suite: CryptoSuite, file: string): Signer {
  const pem = readPem(file);
  return parseIn(file, () => suite.signerFromPem(pem));
}

/** Raw public key from an SPKI PEM file; CredenceError BAD_KEY naming the file. */
export function loadPublicKey(suite: CryptoSuite, file: string): Uint8Array {
  const pem = readPem(file);
  return parseIn(file, () => suite.publicKeyFromPem(pem));
}
