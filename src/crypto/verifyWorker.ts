// Worker thread for VerifyPool: unpacks one transferred batch buffer, verifies every item with
// the suite (whose per-thread KeyObject cache survives across batches) and transfers back 0/1
// bytes. In "measure" mode it instead times crypto.verify on one fixed key/message/signature.

import crypto from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../util/errors.js';
import { getSuite } from './suites.js';
import type { SuiteName } from './suite.js';

export interface VerifyWorkerData {
  readonly mode: 'verify' | 'measure';
  readonly suiteName: SuiteName;
  readonly seconds?: number;
}

/** main -> worker in verify mode. */
export interface VerifyRequest {
  readonly id: number;
  readonly buf: ArrayBuffer;
}

/** worker -> main in verify mode. */
export interface VerifyResponse {
  readonly id: number;
  readonly res: Uint8Array;
}

/** worker -> main in measure mode. */
export interface MeasureResponse {
  readonly verifications: number;
  readonly elapsedMs: number;
}

const WARMUP_MS = 200;

/**
 * Batch layout (native-endian u32s, then bytes):
 *   count | count x (publicKeyLen, digestLen, signatureLen) | publicKey digest signature ...
 */
export function unpackAndVerify(buf: ArrayBuffer, verify: (pk: Uint8Array, d: Uint8Array, s: Uint8Array) => boolean): Uint8Array {
  const count = new Uint32Array(buf, 0, 1)[0] ?? 0;
  const lens = new Uint32Array(buf, 4, count * 3);
  const out = new Uint8Array(count);
  let off = 4 + count * 12;
  for (let i = 0; i < count; i++) {
    const pkLen = lens[3 * i] ?? 0;
    const dLen = lens[3 * i + 1] ?? 0;
    const sLen = lens[3 * i + 2] ?? 0;
    const pk = new Uint8Array(buf, off, pkLen);
    const d = new Uint8Array(buf, off + pkLen, dLen);
    const s = new Uint8Array(buf, off + pkLen + dLen, sLen);
    off += pkLen + dLen + sLen;
    out[i] = verify(pk, d, s) ? 1 : 0;
  }
  return out;
}

/** A prepared key/message/signature and the exact node:crypto call the suite's verify makes. */
function prepared(suiteName: SuiteName): () => boolean {
  const suite = getSuite(suiteName);
  const digest = suite.hash(Buffer.from('credence verify limit'));
  if (suiteName === 'default') {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const sig = crypto.sign(null, digest, privateKey);
    return () => crypto.verify(null, digest, publicKey, sig);
  }
  // gm: keys must be PEM-loaded (SM2-type) for true SM2, exactly as gm.ts uses them.
  const k = suite.generateSigningKey();
  const priv = crypto.createPrivateKey(k.privateKeyPem);
  const pub = crypto.createPublicKey(k.publicKeyPem);
  const sig = crypto.sign('sm3', digest, priv);
  return () => crypto.verify('sm3', digest, pub, sig);
}

function measure(suiteName: SuiteName, seconds: number): MeasureResponse {
  const once = prepared(suiteName);
  assert(once(), 'prepared signature verifies');
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) once();
  const start = performance.now();
  const end = start + seconds * 1000;
  let verifications = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 32; i++) once();
    verifications += 32;
    now = performance.now();
  }
  return { verifications, elapsedMs: now - start };
}

const port = parentPort;
const data = workerData as VerifyWorkerData | undefined;
// Only act when started by VerifyPool/measureVerifyLimit, not when merely imported (tests, other workers).
if (port !== null && (data?.mode === 'verify' || data?.mode === 'measure')) {
  if (data.mode === 'measure') {
    port.once('message', () => {
      port.postMessage(measure(data.suiteName, data.seconds ?? 1));
    });
  } else {
    const suite = getSuite(data.suiteName);
    const verify = suite.verify.bind(suite);
    port.on('message', (msg: VerifyRequest) => {
      const res = unpackAndVerify(msg.buf, verify);
      const reply: VerifyResponse = { id: msg.id, res };
      port.postMessage(reply, [res.buffer as ArrayBuffer]);
    });
  }
}
