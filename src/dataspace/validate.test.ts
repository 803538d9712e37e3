import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forbiddenFieldsIn } from '../contracts/schemaRules.js';
import { BUILTIN_SCHEMAS, CATEGORIES, builtinSchema } from './schemas/catalog.js';
import { RecordValidator, checkDefinition } from './validate.js';

const v = new RecordValidator();
const schema = (id: string) => {
  const s = builtinSchema(id);
  assert.ok(s);
  return s;
};

describe('schema catalog and record validation', () => {
  it('ships the nine schemas of issue 3, all clean and compilable', () => {
    assert.deepEqual(
      BUILTIN_SCHEMAS.map((s) => s.id),
      [
        'tax-payment',
        'tax-credit-grade',
        'social-insurance',
        'utility-payment',
        'loan-repayment',
        'court-judgment',
        'dishonest-debtor',
        'administrative-penalty',
        'administrative-licence',
      ],
    );
    for (const s of BUILTIN_SCHEMAS) {
      assert.deepEqual(forbiddenFieldsIn(s.jsonSchema), [], s.id);
      assert.ok((CATEGORIES as readonly string[]).includes(s.category), s.id);
      v.add(s);
      assert.equal(s.sensitivity === 'negative', s.retention !== null, s.id);
    }
  });

  it('accepts valid data and reports what is wrong with bad data, without quoting it', () => {
    const grade = schema('tax-credit-grade');
    assert.deepEqual(v.errors(grade, { year: 2023, grade: 'A', points: 95, assessedBy: 'tax' }), []);
    const e1 = v.errors(grade, { year: 2023, grade: 'E', assessedBy: 'tax' });
    assert.equal(e1[0]?.path, '/grade');
    const e2 = v.errors(grade, { year: 2023, grade: 'A', assessedBy: 'tax', secretNote: '110105194912310021' });
    assert.match(e2[0]?.message ?? '', /unknown field "secretNote"/);
    assert.ok(!JSON.stringify(e2).includes('110105194912310021'));
    assert.equal(v.errors(schema('tax-payment'), { period: '2023-13', taxType: 'vat', amountCents: 1, dueOn: '2023-01-15', onTime: true })[0]?.path, '/period');
    assert.equal(
      v.errors(schema('tax-payment'), { period: '2023-01', taxType: 'vat', amountCents: -1, dueOn: '2023-01-15', onTime: true })[0]?.path,
      '/amountCents',
    );
    assert.equal(v.errors(schema('court-judgment'), null)[0]?.path, '');
  });

  it('refuses definitions with forbidden fields or a broken retention rule', () => {
    const base = schema('court-judgment');
    assert.throws(
      () =>
        checkDefinition({ ...base, id: 'x', jsonSchema: { type: 'object', properties: { bloodType: { type: 'string' }, performedOn: { type: 'string' } } } }),
      (e: { code?: string }) => e.code === 'FORBIDDEN_FIELD',
    );
    assert.throws(() => checkDefinition({ ...base, retention: { years: 5, from: 'nope' } }), /not a field/);
    assert.throws(() => checkDefinition({ ...base, retention: null }), /retention/);
    assert.throws(
      () => new RecordValidator().add({ ...base, id: 'y', jsonSchema: { type: 'object', properties: { performedOn: { type: 'nonsense' } } } }),
      /not valid JSON Schema/,
    );
  });
});
