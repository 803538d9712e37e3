// Zero-knowledge threshold proofs on a signed credential, over ristretto255 (@noble/curves):
//
//   credential (from a scoring organization): Pedersen commitments C_s = s·G + r_s·H to a
//     score s ∈ [0, 1000] and C_o = o·G + r_o·H to an overdue count o, with an Ed25519 signature
//     binding them to the subject, the issue time and the expiry. The subject holds the openings.
//   proof of "s ≥ T and o = 0": s − T ∈ [0, 2^10) by bit decomposition — commitments B_i to the
//     bits with Σ 2^i·B_i = C_s − T·G, each with a Chaum–Pedersen/CDS OR-proof that it opens to 0
//     or 1 — and a Schnorr proof that C_o = r_o·H. Non-interactive by Fiat–Shamir over the whole
//     statement (credential, T, verifier context) and every first message.
//
// Verification is deterministic (no randomness; the batch weights are derived from the proof by
// hashing), so any node and a contract reach the same answer. It lives in the crypto layer so
// the compute contract can run it; the workflow around it is in src/privacy/.

import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';
import { ED25519_SPKI_PREFIX, publicKeyFromRaw, rawFromSpki } from './rawKeys.js';

const Point = ristretto255.Point;
type Pt = InstanceType<typeof Point>;
const L = Point.Fn.ORDER;
export const SCORE_MAX = 1000;
export const SCORE_BITS = 10;
const G = Point.BASE;
const H = ristretto255_hasher.hashToCurve(Buffer.from('credence-zk-v1 generator H'), { DST: 'credence-zk-v1-ristretto255_XMD:SHA-512_R255MAP_RO_' });
G.precompute(8);
H.precompute(8);

export interface Credential {
  readonly subject: string;
  readonly scoreCommitment: string;
  readonly overdueCommitment: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Issuer's raw Ed25519 public key, hex. */
  readonly issuer: string;
  readonly signature: string;
}

/** What only the subject holds: the openings of the two commitments. */
export interface CredentialSecrets {
  readonly score: number;
  readonly scoreBlind: string;
  readonly overdue: number;
  readonly overdueBlind: string;
}

export interface ThresholdProof {
  readonly bits: string[];
  readonly a0: string[];
  readonly a1: string[];
  readonly e0: string[];
  readonly z0: string[];
  readonly z1: string[];
  readonly overdueA: string;
  readonly overdueZ: string;
}

export interface ThresholdStatement {
  readonly credential: Credential;
  readonly threshold: number;
  /** Binds the proof to one verifier and purpose (e.g. a job id or a nonce); stops replay elsewhere. */
  readonly context: string;
}

function bad(message: string): CredenceError {
  return new CredenceError(Codes.BAD_PROOF, message);
}

const mod = (x: bigint) => ((x % L) + L) % L;
const randScalar = () => mod(BigInt(`0x${randomBytes(48).toString('hex')}`));

function scalarHex(x: bigint): string {
  const b = Buffer.alloc(32);
  let v = x;
  for (let i = 0; i < 32; i++) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b.toString('hex');
}

function parseScalar(h: unknown): bigint {
  if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw bad('a scalar must be 64 lowercase hex characters');
  const x = BigInt(`0x${Buffer.from(h, 'hex').reverse().toString('hex')}`);
  if (x >= L) throw bad('a scalar is not reduced');
  return x;
}

function parsePoint(h: unknown): Pt {
  if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw bad('a group element must be 64 lowercase hex characters');
  try {
    return Point.fromHex(h);
  } catch {
    throw bad('a group element is not a valid ristretto255 encoding');
  }
}

const ptHex = (p: Pt) => toHex(p.toBytes());

function credentialDigest(c: Omit<Credential, 'signature'>): Buffer {
  return createHash('sha256')
    .update('credence-credential-v1\0')
    .update(JSON.stringify([c.subject, c.scoreCommitment, c.overdueCommitment, c.issuedAt, c.expiresAt, c.issuer]))
    .digest();
}

export function newIssuerKey(): { privateKey: KeyObject; publicKeyHex: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawFromSpki(publicKey, ED25519_SPKI_PREFIX, 32);
  if (raw === undefined) throw new Error('ed25519 export failed');
  return { privateKey, publicKeyHex: toHex(raw) };
}

/** The scoring organization issues a credential; the secrets go to the subject only. */
export function issueCredential(
  issuerKey: KeyObject,
  issuerHex: string,
  subject: string,
  score: number,
  overdue: number,
  issuedAt: number,
  expiresAt: number,
): { credential: Credential; secrets: CredentialSecrets } {
  if (!Number.isInteger(score) || score < 0 || score > SCORE_MAX) throw new CredenceError(Codes.MALFORMED, `score must be an integer from 0 to ${SCORE_MAX}`);
  if (!Number.isInteger(overdue) || overdue < 0 || overdue > 1_000_000) throw new CredenceError(Codes.MALFORMED, 'overdue must be a non-negative integer');
  const rs = randScalar();
  const ro = randScalar();
  const body = {
    subject,
    scoreCommitment: ptHex(commit(BigInt(score), rs)),
    overdueCommitment: ptHex(commit(BigInt(overdue), ro)),
    issuedAt,
    expiresAt,
    issuer: issuerHex,
  };
  const signature = toHex(sign(null, credentialDigest(body), issuerKey));
  return { credential: { ...body, signature }, secrets: { score, scoreBlind: scalarHex(rs), overdue, overdueBlind: scalarHex(ro) } };
}

function commit(v: bigint, r: bigint): Pt {
  const vg = v === 0n ? Point.ZERO : G.multiply(v);
  return vg.add(H.multiply(r));
}

/** Checks the issuer's signature; throws BAD_PROOF otherwise. */
export function checkCredential(c: Credential): void {
  const { signature, ...body } = c;
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) throw bad('credential signature must be 128 hex characters');
  if (typeof c.issuer !== 'string' || !/^[0-9a-f]{64}$/.test(c.issuer)) throw bad('credential issuer must be a raw Ed25519 key in hex');
  const key = publicKeyFromRaw(ED25519_SPKI_PREFIX, Buffer.from(c.issuer, 'hex'));
  if (!verify(null, credentialDigest(body), key, Buffer.from(signature, 'hex'))) throw bad('the credential signature does not verify');
}

/** Field order fixed here: objects arrive re-encoded (canonical JSON sorts keys). */
function credentialFields(c: Credential): unknown[] {
  return [c.subject, c.scoreCommitment, c.overdueCommitment, c.issuedAt, c.expiresAt, c.issuer, c.signature];
}

function proofFields(p: ThresholdProof): unknown[] {
  return [p.bits, p.a0, p.a1, p.e0, p.z0, p.z1, p.overdueA, p.overdueZ];
}

function challenge(st: ThresholdStatement, parts: readonly string[]): bigint {
  const h = createHash('sha512')
    .update('credence-zk-threshold-v1\0')
    .update(JSON.stringify([credentialFields(st.credential), st.threshold, st.context, parts]))
    .digest();
  return mod(BigInt(`0x${h.toString('hex')}`));
}

/** The subject proves s ≥ threshold and overdue = 0 without revealing either. */
export function proveThreshold(st: ThresholdStatement, secrets: CredentialSecrets): ThresholdProof {
  checkThreshold(st.threshold);
  const d = secrets.score - st.threshold;
  if (d < 0 || d >= 2 ** SCORE_BITS) throw new CredenceError(Codes.BAD_PROOF, 'the score is below the threshold: no proof exists');
  if (secrets.overdue !== 0) throw new CredenceError(Codes.BAD_PROOF, 'the overdue count is not zero: no proof exists');
  const rs = parseScalar(secrets.scoreBlind);
  const ro = parseScalar(secrets.overdueBlind);
  // Bit blinds ρ_i with Σ 2^i ρ_i = r_s, so Σ 2^i B_i = C_s − T·G exactly.
  const rho: bigint[] = [];
  let acc = 0n;
  for (let i = 0; i < SCORE_BITS - 1; i++) {
    const r = randScalar();
    rho.push(r);
    acc = mod(acc + (1n << BigInt(i)) * r);
  }
  rho.push(mod((rs - acc) * modInv(1n << BigInt(SCORE_BITS - 1))));
  const bits: Pt[] = [];
  const a0: Pt[] = [];
  const a1: Pt[] = [];
  const sim: { e: bigint; z: bigint; t: bigint; bit: number }[] = [];
  for (let i = 0; i < SCORE_BITS; i++) {
    const bit = (d >> i) & 1;
    const B = commit(BigInt(bit), rho[i] as bigint);
    bits.push(B);
    // Real branch: knowledge of ρ with B − bit·G = ρ·H. Simulated branch: pick e', z'.
    const t = randScalar();
    const eSim = randScalar();
    const zSim = randScalar();
    const other = bit === 0 ? B.subtract(G) : B;
    const simA = H.multiply(zSim).subtract(other.multiply(eSim));
    const realA = H.multiply(t);
    a0.push(bit === 0 ? realA : simA);
    a1.push(bit === 0 ? simA : realA);
    sim.push({ e: eSim, z: zSim, t, bit });
  }
  const to = randScalar();
  const overdueA = H.multiply(to);
  const e = challenge(st, [...bits, ...a0, ...a1, overdueA].map(ptHex));
  const e0: string[] = [];
  const z0: string[] = [];
  const z1: string[] = [];
  sim.forEach((s, i) => {
    const eReal = mod(e - s.e);
    const zReal = mod(s.t + eReal * (rho[i] as bigint));
    e0.push(scalarHex(s.bit === 0 ? eReal : s.e));
    z0.push(scalarHex(s.bit === 0 ? zReal : s.z));
    z1.push(scalarHex(s.bit === 0 ? s.z : zReal));
  });
  return { bits: bits.map(ptHex), a0: a0.map(ptHex), a1: a1.map(ptHex), e0, z0, z1, overdueA: ptHex(overdueA), overdueZ: scalarHex(mod(to + e * ro)) };
}

function modInv(x: bigint): bigint {
  let [a, b, u, v] = [mod(x), L, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b] = [b - q * a, a];
    [u, v] = [v - q * u, u];
  }
  return mod(v);
}

function checkThreshold(t: number): void {
  if (!Number.isInteger(t) || t < 0 || t > SCORE_MAX) throw new CredenceError(Codes.MALFORMED, `threshold must be an integer from 0 to ${SCORE_MAX}`);
}

function checkShape(p: ThresholdProof): void {
  const lists = [p.bits, p.a0, p.a1, p.e0, p.z0, p.z1];
  if (p === null || typeof p !== 'object' || !lists.every((l) => Array.isArray(l) && l.length === SCORE_BITS)) {
    throw bad(`a threshold proof has ${SCORE_BITS} entries in each of bits, a0, a1, e0, z0, z1`);
  }
}

/**
 * Verifies a threshold proof against its statement: the issuer's signature, then all
 * 2k+2 group equations at once as one multi-scalar multiplication with weights derived from
 * the proof (a random linear combination that the prover cannot steer). Throws BAD_PROOF.
 */
export function verifyThreshold(st: ThresholdStatement, p: ThresholdProof, now?: number): void {
  checkThreshold(st.threshold);
  checkShape(p);
  checkCredential(st.credential);
  if (now !== undefined && now > st.credential.expiresAt) throw bad('the credential has expired');
  const cs = parsePoint(st.credential.scoreCommitment);
  const co = parsePoint(st.credential.overdueCommitment);
  const bits = p.bits.map(parsePoint);
  const a0 = p.a0.map(parsePoint);
  const a1 = p.a1.map(parsePoint);
  const oA = parsePoint(p.overdueA);
  const e = challenge(st, [...p.bits, ...p.a0, ...p.a1, p.overdueA]);
  const e0 = p.e0.map(parseScalar);
  const z0 = p.z0.map(parseScalar);
  const z1 = p.z1.map(parseScalar);
  const oz = parseScalar(p.overdueZ);
  const w = weights(st, p, 2 * SCORE_BITS + 2);
  const wi = (i: number) => w[i] as bigint;
  // Σ_j w_j·(lhs_j − rhs_j) = 0 where each equation is lhs = rhs:
  //   bit i, branch 0: z0·H = A0 + e0·B        branch 1: z1·H = A1 + e1·(B − G)
  //   overdue:         oz·H = oA + e·C_o       sum:      Σ 2^i B_i = C_s − T·G
  let hCoef = 0n;
  let gCoef = 0n;
  const pts: Pt[] = [];
  const scs: bigint[] = [];
  const add = (pt: Pt, s: bigint) => {
    pts.push(pt);
    scs.push(mod(s));
  };
  const wSum = wi(2 * SCORE_BITS + 1);
  for (let i = 0; i < SCORE_BITS; i++) {
    const w0 = wi(2 * i);
    const w1 = wi(2 * i + 1);
    const ei0 = e0[i] as bigint;
    const ei1 = mod(e - ei0);
    hCoef += w0 * (z0[i] as bigint) + w1 * (z1[i] as bigint);
    add(a0[i] as Pt, -w0);
    add(a1[i] as Pt, -w1);
    add(bits[i] as Pt, -w0 * ei0 - w1 * ei1 + wSum * (1n << BigInt(i)));
    gCoef += w1 * ei1;
  }
  const wO = wi(2 * SCORE_BITS);
  hCoef += wO * oz;
  add(oA, -wO);
  add(co, -wO * e);
  add(cs, -wSum);
  gCoef += wSum * BigInt(st.threshold);
  add(H, hCoef);
  add(G, gCoef);
  if (!pippenger(Point, pts, scs).is0()) throw bad('the threshold proof does not verify');
}

function weights(st: ThresholdStatement, p: ThresholdProof, n: number): bigint[] {
  const seed = createHash('sha512')
    .update('credence-zk-batch-v1\0')
    .update(JSON.stringify([credentialFields(st.credential), st.threshold, st.context, proofFields(p)]))
    .digest();
  return Array.from({ length: n }, (_, i) => {
    const h = createHash('sha256').update(seed).update(String(i)).digest();
    return BigInt(`0x${h.toString('hex', 0, 16)}`) | 1n;
  });
}
