import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FORBIDDEN_FIELDS, forbiddenFieldsIn, forbiddenKindOf } from './schemaRules.js';

const obj = (properties: Record<string, unknown>) => ({ type: 'object', properties });

describe('schema rules (Reg Art 14 forbidden fields)', () => {
  it('refuses each banned kind in English, pinyin and Chinese', () => {
    const banned: [string, string][] = [
      ['religion', 'religion'],
      ['religiousAffiliation', 'religion'],
      ['zongjiao', 'religion'],
      ['宗教信仰', 'religion'],
      ['geneticTestResult', 'genetic'],
      ['dna', 'genetic'],
      ['gene_markers', 'genetic'],
      ['基因', 'genetic'],
      ['fingerprint', 'biometric'],
      ['FingerPrintHash', 'biometric'],
      ['biometricTemplate', 'biometric'],
      ['zhiwen', 'biometric'],
      ['指纹', 'biometric'],
      ['irisScan', 'biometric'],
      ['bloodType', 'bloodType'],
      ['blood_group', 'bloodType'],
      ['xuexing', 'bloodType'],
      ['血型', 'bloodType'],
      ['disease', 'medical'],
      ['chronicDiseases', 'medical'],
      ['medicalHistory', 'medical'],
      ['diagnosisCode', 'medical'],
      ['jibing', 'medical'],
      ['疾病史', 'medical'],
      ['health_status', 'medical'],
    ];
    for (const [name, kind] of banned) assert.equal(forbiddenKindOf(name), kind, name);
  });

  it('allows ordinary credit fields, including look-alikes', () => {
    const allowed = [
      'amount',
      'taxPeriod',
      'generatedAt',
      'general',
      'genesisHeight',
      'degree',
      'faceValue',
      'loanId',
      'grade',
      'creditor',
      'judgmentDate',
      'licenceType',
      'penaltyAmountCents',
      'xinyong',
      '信用等级',
    ];
    for (const name of allowed) assert.equal(forbiddenKindOf(name), undefined, name);
  });

  it('walks nested properties, items, combinators, definitions and required', () => {
    const schema = {
      type: 'object',
      required: ['applicant', 'religion'],
      properties: {
        applicant: obj({ name: { type: 'string' }, bloodType: { type: 'string' } }),
        history: { type: 'array', items: obj({ diagnosis: { type: 'string' } }) },
        extra: { anyOf: [obj({ ok: { type: 'string' } }), obj({ fingerprint: { type: 'string' } })] },
      },
      $defs: { p: obj({ genome: { type: 'string' } }) },
    };
    assert.deepEqual(forbiddenFieldsIn(schema), ['$defs.p.genome', 'applicant.bloodType', 'extra.fingerprint', 'history.diagnosis', 'religion']);
  });

  it('returns nothing for a clean schema and for non-schemas', () => {
    assert.deepEqual(forbiddenFieldsIn(obj({ amountCents: { type: 'integer' }, period: { type: 'string' } })), []);
    for (const v of [null, 1, 'x', [], {}]) assert.deepEqual(forbiddenFieldsIn(v), []);
  });

  it('a schema too large to walk is refused, not let through', () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) properties[`f${i}`] = { type: 'string' };
    assert.deepEqual(forbiddenFieldsIn(obj(properties)), ['(schema too large to check)']);
  });

  it('property: a forbidden name anywhere in a nested schema is found', () => {
    const bannedNames = Object.values(FORBIDDEN_FIELDS).flatMap((r) => r.substrings.filter((s) => !/^[a-z]+$/.test(s) || s.length > 4));
    fc.assert(
      fc.property(fc.array(fc.constantFrom('order', 'party', 'detail', 'item'), { maxLength: 5 }), fc.constantFrom(...bannedNames), (nesting, banned) => {
        let schema: unknown = obj({ [banned]: { type: 'string' }, amount: { type: 'integer' } });
        for (const n of nesting) schema = obj({ [n]: schema });
        const found = forbiddenFieldsIn(schema);
        assert.equal(found.length, 1);
        assert.equal(found[0], [...nesting.slice().reverse(), banned].join('.'));
      }),
    );
  });
});
