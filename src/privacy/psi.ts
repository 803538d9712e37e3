// ECDH-PSI (DH-OPRF) between a receiver (e.g. a bank with its applicants) and a sender (e.g. a
// court with its dishonest-debtor list), on curve25519 with RFC 9380 hash-to-curve:
//
//   receiver → sender : Q = [H(x)^a]           (its whole set, in chunks)
//   sender → receiver : R = [Q_i^b]            (same order; shuffled in size-only mode)
//   sender → receiver : S = shuffle[H(y)^b]    (its own set, in chunks)
//   receiver          : intersection = { i : R_i ∈ { S_j^a } }
//
// The receiver learns the intersection (or only its size) and the sender's set size; the sender
// learns only the receiver's set size. Semi-honest model; see docs/privacy.md.
// The transport carries frames (encodeFrame/FrameAssembler), which enforce job binding, order,
// replay refusal and the declared sizes.

import { randomBytes } from 'node:crypto';
import { bytesEqual } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { PrivacyCodes } from './codes.js';
import { PSI_DST } from './h2c25519.js';
import type { Progress, PsiPool } from './pool.js';
import { newBlindingKey } from './x25519.js';

export type PsiMode = 'set' | 'size';
/** Most items on either side of one PSI job. */
export const PSI_ITEMS_MAX = 2_000_000;
/** Most points in one frame. */
export const FRAME_POINTS_MAX = 65_536;

export interface PsiResult {
  readonly size: number;
  /** Indices into the receiver's set, ascending; absent in size-only mode. */
  readonly indices?: number[];
}

function checkSize(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > PSI_ITEMS_MAX) {
    throw new CredenceError(PrivacyCodes.SIZE_MISMATCH, `${what} must be an integer from 0 to ${PSI_ITEMS_MAX}`, { size: n });
  }
}

function sizeMismatch(what: string, expected: number, got: number): CredenceError {
  return new CredenceError(PrivacyCodes.SIZE_MISMATCH, `${what}: expected ${expected} points, received ${got}`, { expected, got });
}

/** Fisher–Yates over 32-byte records with 48 bits of randomness per draw. */
export function shufflePoints(points: Uint8Array): Uint8Array {
  const n = points.byteLength / 32;
  const out = points.slice();
  const rnd = randomBytes(6 * Math.max(1, n));
  const tmp = new Uint8Array(32);
  for (let i = n - 1; i > 0; i--) {
    const j = rnd.readUIntLE(6 * i, 6) % (i + 1);
    tmp.set(out.subarray(32 * i, 32 * i + 32));
    out.copyWithin(32 * i, 32 * j, 32 * j + 32);
    out.set(tmp, 32 * j);
  }
  return out;
}

export class PsiReceiver {
  private readonly key = newBlindingKey();
  private doubled: Uint8Array | undefined;
  private theirs: Uint8Array | undefined;

  constructor(
    private readonly pool: PsiPool,
    private readonly items: readonly Uint8Array[],
    readonly mode: PsiMode,
  ) {
    checkSize(items.length, 'the receiver set size');
  }

  get size(): number {
    return this.items.length;
  }

  /** Step 1: the blinded query H(x)^a, 32 bytes per item in set order. */
  query(onProgress?: Progress): Promise<Uint8Array> {
    return this.pool.hashBlind(this.key, PSI_DST, this.items, onProgress);
  }

  /** Step 2: the sender's answer to the query, H(x)^ab. */
  acceptReply(reply: Uint8Array): void {
    if (reply.byteLength !== 32 * this.items.length) throw sizeMismatch('the reply to the query', this.items.length, reply.byteLength / 32);
    this.doubled = reply;
  }

  /** Step 3: the sender's blinded set H(y)^b, blinded again (may run while the reply is pending). */
  async acceptSenderSet(senderSet: Uint8Array, declaredSenderSize: number, onProgress?: Progress): Promise<void> {
    checkSize(declaredSenderSize, 'the sender set size');
    if (senderSet.byteLength !== 32 * declaredSenderSize) throw sizeMismatch('the sender set', declaredSenderSize, senderSet.byteLength / 32);
    this.theirs = await this.pool.blind(this.key, senderSet, onProgress);
  }

  /** The result, once both the reply and the sender set are in. */
  result(): PsiResult {
    if (this.doubled === undefined || this.theirs === undefined)
      throw new CredenceError(PrivacyCodes.JOB_STATE, 'the reply or the sender set has not arrived yet');
    return intersect(this.doubled, this.theirs, this.mode);
  }

  /** Steps 3 and 4 in one call. */
  async finish(senderSet: Uint8Array, declaredSenderSize: number, onProgress?: Progress): Promise<PsiResult> {
    await this.acceptSenderSet(senderSet, declaredSenderSize, onProgress);
    return this.result();
  }
}

/**
 * Indices i with mine_i among theirs. theirs (the sender's set blinded by the receiver, not
 * chosen by the sender) is indexed by each point's first 48 bits, points with equal prefixes
 * chained; a hit is confirmed on all 32 bytes.
 */
export function intersect(mine: Uint8Array, theirs: Uint8Array, mode: PsiMode): PsiResult {
  const tb = Buffer.from(theirs.buffer, theirs.byteOffset, theirs.byteLength);
  const mb = Buffer.from(mine.buffer, mine.byteOffset, mine.byteLength);
  const n = theirs.byteLength / 32;
  const first = new Map<number, number>();
  const next = new Int32Array(n).fill(-1);
  for (let j = 0; j < n; j++) {
    const key = tb.readUIntLE(32 * j, 6);
    const head = first.get(key);
    if (head !== undefined) next[j] = head;
    first.set(key, j);
  }
  const indices: number[] = [];
  for (let i = 0; i < mine.byteLength / 32; i++) {
    for (let j = first.get(mb.readUIntLE(32 * i, 6)) ?? -1; j >= 0; j = next[j] as number) {
      if (mb.compare(tb, 32 * j, 32 * j + 32, 32 * i, 32 * i + 32) === 0) {
        indices.push(i);
        break;
      }
    }
  }
  return mode === 'size' ? { size: indices.length } : { size: indices.length, indices };
}

export class PsiSender {
  private readonly key = newBlindingKey();

  constructor(
    private readonly pool: PsiPool,
    private readonly items: readonly Uint8Array[],
    readonly mode: PsiMode,
  ) {
    checkSize(items.length, 'the sender set size');
  }

  get size(): number {
    return this.items.length;
  }

  /** Answers the receiver's whole query (checked against its declared size). */
  async answer(query: Uint8Array, declaredReceiverSize: number, onProgress?: Progress): Promise<Uint8Array> {
    checkSize(declaredReceiverSize, 'the receiver set size');
    if (query.byteLength !== 32 * declaredReceiverSize) throw sizeMismatch('the query', declaredReceiverSize, query.byteLength / 32);
    const reply = await this.pool.blind(this.key, query, onProgress);
    return this.mode === 'size' ? shufflePoints(reply) : reply;
  }

  /** Its own set, hashed, blinded and shuffled. */
  async ownSet(onProgress?: Progress): Promise<Uint8Array> {
    return shufflePoints(await this.pool.hashBlind(this.key, PSI_DST, this.items, onProgress));
  }
}

// ---- frames: how points travel between nodes ----

export const FrameKinds = { query: 1, reply: 2, senderSet: 3 } as const;
export type FrameKind = keyof typeof FrameKinds;
const MAGIC = 0x43505331; // "CPS1"
const HEADER = 4 + 1 + 32 + 4 + 4 + 4;

export interface Frame {
  readonly job: Uint8Array;
  readonly kind: FrameKind;
  readonly seq: number;
  /** Total points of this stream, as declared by the sender of the frames. */
  readonly total: number;
  readonly points: Uint8Array;
}

export function encodeFrame(f: Frame): Uint8Array {
  const out = new Uint8Array(HEADER + f.points.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC);
  out[4] = FrameKinds[f.kind];
  out.set(f.job, 5);
  dv.setUint32(37, f.seq);
  dv.setUint32(41, f.total);
  dv.setUint32(45, f.points.byteLength / 32);
  out.set(f.points, HEADER);
  return out;
}

function malformed(what: string): CredenceError {
  return new CredenceError(PrivacyCodes.BAD_MESSAGE, `malformed PSI frame: ${what}`);
}

export function decodeFrame(b: Uint8Array): Frame {
  if (b.byteLength < HEADER) throw malformed('too short');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0) !== MAGIC) throw malformed('bad magic');
  const kind = (Object.keys(FrameKinds) as FrameKind[]).find((k) => FrameKinds[k] === b[4]);
  if (kind === undefined) throw malformed('unknown kind');
  const count = dv.getUint32(45);
  if (count > FRAME_POINTS_MAX) throw malformed('too many points');
  if (b.byteLength !== HEADER + 32 * count) throw malformed('length does not match the point count');
  return { job: b.slice(5, 37), kind, seq: dv.getUint32(37), total: dv.getUint32(41), points: b.slice(HEADER) };
}

/** Splits a stream of points into frames of at most FRAME_POINTS_MAX points. */
export function toFrames(job: Uint8Array, kind: FrameKind, points: Uint8Array, perFrame = FRAME_POINTS_MAX): Frame[] {
  const total = points.byteLength / 32;
  const frames: Frame[] = [];
  for (let lo = 0, seq = 0; lo < total || seq === 0; lo += perFrame, seq++) {
    frames.push({ job, kind, seq, total, points: points.subarray(32 * lo, 32 * Math.min(total, lo + perFrame)) });
  }
  return frames;
}

/**
 * Receives one stream of frames: checks job and kind, refuses a replayed or out-of-order
 * sequence number, holds the declared total to the expected size, and assembles the points.
 */
export class FrameAssembler {
  private nextSeq = 0;
  private received = 0;
  private readonly out: Uint8Array;

  constructor(
    private readonly job: Uint8Array,
    private readonly kind: FrameKind,
    private readonly expected: number,
  ) {
    checkSize(expected, 'the expected point count');
    this.out = new Uint8Array(32 * expected);
  }

  get complete(): boolean {
    return this.received === this.expected && this.nextSeq > 0;
  }

  add(f: Frame): void {
    if (!bytesEqual(f.job, this.job)) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'the frame belongs to another job');
    if (f.kind !== this.kind) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, `expected a ${this.kind} frame, got ${f.kind}`);
    if (f.seq < this.nextSeq) throw new CredenceError(PrivacyCodes.REPLAYED, 'this frame was received before', { seq: f.seq });
    if (f.seq > this.nextSeq) throw new CredenceError(PrivacyCodes.BAD_MESSAGE, 'a frame is missing (out of order)', { seq: f.seq, expected: this.nextSeq });
    if (f.total !== this.expected) throw sizeMismatch(`the ${this.kind} stream`, this.expected, f.total);
    const n = f.points.byteLength / 32;
    if (this.received + n > this.expected) throw sizeMismatch(`the ${this.kind} stream`, this.expected, this.received + n);
    this.out.set(f.points, 32 * this.received);
    this.received += n;
    this.nextSeq++;
  }

  points(): Uint8Array {
    if (!this.complete) throw sizeMismatch(`the ${this.kind} stream`, this.expected, this.received);
    return this.out;
  }
}
