// A subject's wallet: one JSON file holding the subject's signing key (PKCS#8 PEM), written
// with mode 0600. The registration authority binds its public key to the subject id on
// chain; the subject then signs consents, revocations, disputes and view requests with it.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { CryptoSuite, Signer } from '../crypto/suite.js';
import type { SuiteName } from '../crypto/suite.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

export interface WalletFile {
  readonly kind: 'credence-wallet';
  readonly version: 1;
  readonly suite: SuiteName;
  readonly publicKey: string;
  readonly privateKeyPem: string;
  readonly createdAt: string;
}

export interface Wallet {
  readonly file: string;
  readonly suite: SuiteName;
  readonly publicKey: string;
  readonly signer: Signer;
}

export function createWallet(file: string, suite: CryptoSuite, overwrite = false): Wallet {
  if (existsSync(file) && !overwrite) throw new CredenceError('WALLET_EXISTS', `${file} exists; choose another path (a wallet is never overwritten)`);
  const key = suite.generateSigningKey();
  const w: WalletFile = {
    kind: 'credence-wallet',
    version: 1,
    suite: suite.name,
    publicKey: toHex(key.publicKey),
    privateKeyPem: key.privateKeyPem,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(w, null, 2)}\n`, { mode: 0o600, flag: overwrite ? 'w' : 'wx' });
  return { file, suite: suite.name, publicKey: w.publicKey, signer: suite.signerFromPem(w.privateKeyPem) };
}

export function loadWallet(file: string, suiteOf: (name: string) => CryptoSuite): Wallet {
  let w: WalletFile;
  try {
    w = JSON.parse(readFileSync(file, 'utf8')) as WalletFile;
  } catch (e) {
    throw new CredenceError(Codes.CONFIG, `cannot read wallet ${file}: ${(e as NodeJS.ErrnoException).code ?? 'not JSON'}`);
  }
  if (w?.kind !== 'credence-wallet' || typeof w.privateKeyPem !== 'string') throw new CredenceError(Codes.CONFIG, `${file} is not a credence wallet`);
  const suite = suiteOf(w.suite);
  const signer = suite.signerFromPem(w.privateKeyPem);
  if (toHex(signer.publicKey) !== w.publicKey) throw new CredenceError(Codes.CONFIG, `${file}: public key does not match the private key`);
  return { file, suite: suite.name, publicKey: w.publicKey, signer };
}
