// Subject identifiers of the credit data space ("Super ID").
//
// - Enterprises: the Unified Social Credit Code (统一社会信用代码, GB 32100-2015). The code is
//   public business data, so on chain an enterprise is `E:<USCC>`.
// - Persons: the resident ID number (GB 11643-1999, ISO 7064 MOD 11-2). It never leaves the
//   provider's node: on chain a person is `P:<hex HMAC-SHA-256(networkSecret, idNumber)>`,
//   a keyed pseudonym under the secret `credence network create` makes (pseudonym.key).
//
// Nothing here puts a resident ID number in an error message or a result.

import { createHmac } from 'node:crypto';
import { toHex } from '../util/bytes.js';
import { CredenceError, Codes } from '../util/errors.js';

// --- Unified Social Credit Code -----------------------------------------------------------

/** GB 32100-2015: the 31 symbols (no I, O, Z, S, V); a symbol's value is its index. */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** GB 32100-2015 weights w_i = 3^i mod 31 for positions 1..17. */
export const USCC_WEIGHTS: readonly number[] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/** Position 1, the registering authority (GB 32100-2015 Table 1). */
const USCC_AUTHORITIES = '123456789ANY';
const USCC_SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

export type UsccCheck = { valid: true; pilot: boolean } | { valid: false; reason: 'length' | 'alphabet' | 'structure' | 'check' | 'pilot-needs-flag' };

/** The check character for the first 17 characters of a code (which must be over the alphabet). */
export function usccCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i] ?? '');
    if (v < 0) throw new CredenceError(Codes.INVALID_IDENTIFIER, 'character outside the USCC alphabet');
    sum += v * (USCC_WEIGHTS[i] as number);
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31] as string;
}

/**
 * Checks a Unified Social Credit Code. Some pilot-era codes are legal but fail the check
 * character: they are accepted only with `allowPilot` (and flagged `pilot: true`), never
 * silently. A pilot code must still have the standard's shape.
 */
export function checkUscc(code: string, opts: { allowPilot?: boolean } = {}): UsccCheck {
  if (code.length !== 18) return { valid: false, reason: 'length' };
  for (const c of code) if (!USCC_ALPHABET.includes(c)) return { valid: false, reason: 'alphabet' };
  if (!USCC_SHAPE.test(code) || !USCC_AUTHORITIES.includes(code[0] as string)) return { valid: false, reason: 'structure' };
  if (usccCheckChar(code.slice(0, 17)) === code[17]) return { valid: true, pilot: false };
  return opts.allowPilot === true ? { valid: true, pilot: true } : { valid: false, reason: 'pilot-needs-flag' };
}

// --- Resident ID number -------------------------------------------------------------------

/** GB 11643-1999 weights for positions 1..17 (2^(18-i) mod 11). */
export const RESIDENT_ID_WEIGHTS: readonly number[] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** ISO 7064 MOD 11-2: the sum mod 11 indexes this string. */
const RESIDENT_ID_CHECK = '10X98765432';
const RESIDENT_ID_SHAPE = /^[1-9][0-9]{16}[0-9X]$/;

export type ResidentIdCheck = { valid: true } | { valid: false; reason: 'length' | 'format' | 'date' | 'check' };

/** The check character for the first 17 digits. */
export function residentIdCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (RESIDENT_ID_WEIGHTS[i] as number);
  return RESIDENT_ID_CHECK[sum % 11] as string;
}

function isRealDate(yyyymmdd: string): boolean {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1880 || m < 1 || m > 12 || d < 1) return false;
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCMonth() === m - 1 && t.getUTCDate() === d && t.getTime() <= Date.now();
}

/** Checks an 18-character resident ID number (lower-case x is accepted as X). */
export function checkResidentId(value: string): ResidentIdCheck {
  const id = value.toUpperCase();
  if (id.length !== 18) return { valid: false, reason: 'length' };
  if (!RESIDENT_ID_SHAPE.test(id)) return { valid: false, reason: 'format' };
  if (!isRealDate(id.slice(6, 14))) return { valid: false, reason: 'date' };
  return residentIdCheckChar(id.slice(0, 17)) === id[17] ? { valid: true } : { valid: false, reason: 'check' };
}

// --- Subject ids on chain -----------------------------------------------------------------

/** Bytes of the network's pseudonym secret (`pseudonym.key`). */
export const PSEUDONYM_SECRET_BYTES = 32;

export type SubjectId = `E:${string}` | `P:${string}`;

const SUBJECT_ID_RE = /^(?:E:[0-9A-HJ-NPQRTUWXY]{18}|P:[0-9a-f]{64})$/;

export function isSubjectId(s: unknown): s is SubjectId {
  return typeof s === 'string' && SUBJECT_ID_RE.test(s);
}

/** `E:<USCC>` for a valid code; throws INVALID_IDENTIFIER (the code is public, so it may be named). */
export function enterpriseSubjectId(uscc: string, opts: { allowPilot?: boolean } = {}): SubjectId {
  const r = checkUscc(uscc, opts);
  if (!r.valid) {
    throw new CredenceError(Codes.INVALID_IDENTIFIER, `not a valid Unified Social Credit Code (${r.reason})`, { reason: r.reason });
  }
  return `E:${uscc}`;
}

/**
 * `P:<hex HMAC-SHA-256(secret, idNumber)>` for a valid resident ID number. Throws
 * INVALID_IDENTIFIER without the number; BAD_KEY if the secret is not 32 bytes.
 */
export function personSubjectId(secret: Uint8Array, residentId: string): SubjectId {
  if (secret.byteLength !== PSEUDONYM_SECRET_BYTES) {
    throw new CredenceError(Codes.BAD_KEY, `pseudonym secret must be ${PSEUDONYM_SECRET_BYTES} bytes`);
  }
  const r = checkResidentId(residentId);
  if (!r.valid) throw new CredenceError(Codes.INVALID_IDENTIFIER, `not a valid resident ID number (${r.reason})`, { reason: r.reason });
  return `P:${toHex(createHmac('sha256', secret).update(residentId.toUpperCase(), 'utf8').digest())}`;
}

export type IdentifierKind = 'uscc' | 'resident';

/**
 * The subject id of a raw identifier of the given kind (or guessed: an 18-character value
 * that is a valid resident ID number is a person, anything else is tried as a USCC).
 */
export function subjectIdOf(secret: Uint8Array, value: string, kind?: IdentifierKind, opts: { allowPilot?: boolean } = {}): SubjectId {
  const k = kind ?? (checkResidentId(value).valid ? 'resident' : 'uscc');
  return k === 'resident' ? personSubjectId(secret, value) : enterpriseSubjectId(value, opts);
}
