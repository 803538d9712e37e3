import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isCredenceError } from '../util/errors.js';
import {
  USCC_ALPHABET,
  checkResidentId,
  checkUscc,
  enterpriseSubjectId,
  isSubjectId,
  personSubjectId,
  residentIdCheckChar,
  subjectIdOf,
  usccCheckChar,
} from './identifiers.js';

const SECRET = new Uint8Array(32).fill(7);

// Vectors from /work/shared/brief/domain.md.
const USCC_VALID = ['91110000600037341L', '91310115MA1K3CUM7M'];
const USCC_INVALID = '91110000600037341K';
const USCC_PILOT = '91350100M0001TGQXM';
const RID_VALID = ['11010519491231002X', '360426199101010071'];
const RID_INVALID = '110105194912310021';

const alnum = fc.constantFrom(...USCC_ALPHABET);
const digit = fc.constantFrom(...'0123456789');
const validUscc = fc
  .tuple(fc.constantFrom(...'123456789ANY'), alnum, fc.array(digit, { minLength: 6, maxLength: 6 }), fc.array(alnum, { minLength: 9, maxLength: 9 }))
  .map(([a, b, region, org]) => {
    const first = `${a}${b}${region.join('')}${org.join('')}`;
    return first + usccCheckChar(first);
  });
const validResidentId = fc
  .tuple(
    fc.integer({ min: 110000, max: 659999 }),
    fc.date({ min: new Date('1930-01-01'), max: new Date('2005-12-31'), noInvalidDate: true }),
    fc.integer({ min: 0, max: 999 }),
  )
  .map(([region, d, seq]) => {
    const first = `${region}${d.toISOString().slice(0, 10).replaceAll('-', '')}${String(seq).padStart(3, '0')}`;
    return first + residentIdCheckChar(first);
  });

function replaceAt(s: string, i: number, c: string): string {
  return s.slice(0, i) + c + s.slice(i + 1);
}

describe('Unified Social Credit Code (GB 32100-2015)', () => {
  it('known answers', () => {
    for (const c of USCC_VALID) assert.deepEqual(checkUscc(c), { valid: true, pilot: false }, c);
    assert.deepEqual(checkUscc(USCC_INVALID), { valid: false, reason: 'pilot-needs-flag' });
    assert.equal(usccCheckChar('91110000600037341'), 'L');
    assert.equal(usccCheckChar('91310115MA1K3CUM7'), 'M');
  });

  it('pilot-era codes only with the explicit flag', () => {
    assert.equal(checkUscc(USCC_PILOT).valid, false);
    assert.deepEqual(checkUscc(USCC_PILOT, { allowPilot: true }), { valid: true, pilot: true });
    // The flag does not excuse a malformed code.
    assert.equal(checkUscc('91350100M0001TGQXI', { allowPilot: true }).valid, false);
    assert.equal(checkUscc('9135010', { allowPilot: true }).valid, false);
    assert.equal(checkUscc('Z1350100M0001TGQXM', { allowPilot: true }).valid, false);
  });

  it('refuses wrong length, alphabet and structure', () => {
    assert.deepEqual(checkUscc('91110000600037341'), { valid: false, reason: 'length' });
    assert.deepEqual(checkUscc('91110000600037341O'), { valid: false, reason: 'alphabet' });
    assert.deepEqual(checkUscc('911100A0600037341L'), { valid: false, reason: 'structure' });
  });

  it('property: generated codes verify; any single-character change is caught', () => {
    fc.assert(
      fc.property(validUscc, fc.integer({ min: 0, max: 17 }), alnum, (code, i, c) => {
        assert.equal(checkUscc(code).valid, true);
        fc.pre(code[i] !== c);
        assert.equal(checkUscc(replaceAt(code, i, c)).valid, false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('resident ID number (GB 11643-1999, MOD 11-2)', () => {
  it('known answers', () => {
    for (const id of RID_VALID) assert.deepEqual(checkResidentId(id), { valid: true }, id);
    assert.deepEqual(checkResidentId(RID_INVALID), { valid: false, reason: 'check' });
    assert.deepEqual(checkResidentId('11010519491231002x'), { valid: true });
    assert.deepEqual(checkResidentId('110105194913310021'), { valid: false, reason: 'date' });
    assert.deepEqual(checkResidentId('1101051949123100'), { valid: false, reason: 'length' });
    assert.deepEqual(checkResidentId('1101051949123100X2'), { valid: false, reason: 'format' });
  });

  it('property: generated numbers verify; any single-character change is caught', () => {
    fc.assert(
      fc.property(validResidentId, fc.integer({ min: 0, max: 17 }), fc.constantFrom(...'0123456789X'), (id, i, c) => {
        assert.equal(checkResidentId(id).valid, true);
        fc.pre(id[i] !== c);
        assert.equal(checkResidentId(replaceAt(id, i, c)).valid, false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('subject ids', () => {
  it('a person is P:<HMAC-SHA-256(secret, id)>, the enterprise E:<USCC>', () => {
    const expected = createHmac('sha256', SECRET).update('11010519491231002X').digest('hex');
    assert.equal(personSubjectId(SECRET, '11010519491231002X'), `P:${expected}`);
    assert.equal(personSubjectId(SECRET, '11010519491231002x'), `P:${expected}`);
    assert.equal(enterpriseSubjectId('91110000600037341L'), 'E:91110000600037341L');
    assert.equal(subjectIdOf(SECRET, '360426199101010071'), personSubjectId(SECRET, '360426199101010071'));
    assert.equal(subjectIdOf(SECRET, '91310115MA1K3CUM7M'), 'E:91310115MA1K3CUM7M');
    assert.equal(isSubjectId(personSubjectId(SECRET, RID_VALID[1] as string)), true);
    assert.notEqual(personSubjectId(new Uint8Array(32).fill(8), '360426199101010071'), personSubjectId(SECRET, '360426199101010071'));
  });

  it('errors never carry the personal ID number', () => {
    for (const bad of [RID_INVALID, '110105194913310021']) {
      try {
        personSubjectId(SECRET, bad);
        assert.fail('accepted an invalid number');
      } catch (e) {
        assert.ok(isCredenceError(e));
        assert.equal(e.code, 'INVALID_IDENTIFIER');
        assert.ok(!JSON.stringify(e.toJSON()).includes(bad.slice(0, 14)));
        assert.ok(!String(e.stack).includes(bad.slice(0, 14)));
      }
    }
    assert.throws(() => personSubjectId(new Uint8Array(16), RID_VALID[0] as string), /32 bytes/);
  });
});
