// The nine credit-data schemas credence ships (issue 3): what a provider may publish, as
// JSON Schema (draft 2020-12) with a category (the unit consents are scoped to), a
// sensitivity and a retention rule. Negative information is kept 5 years from the end of the
// conduct (Reg Art 16); `retention.from` names the data field holding that date, and a
// record without it (a listing still in force) has no expiry yet. Amounts are integers in
// fen (cents): canonical JSON has no floats. Field names avoid everything Reg Art 14 bans
// (contracts/schemaRules.ts), which the tests check.

export type Sensitivity = 'negative' | 'positive';

export interface SchemaDefinition {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly category: string;
  readonly sensitivity: Sensitivity;
  readonly retention: { readonly years: number; readonly from: string } | null;
  readonly jsonSchema: { readonly [k: string]: unknown };
}

/** Categories a consent can name. */
export const CATEGORIES = ['tax', 'social-insurance', 'utility', 'loan', 'judicial', 'administrative'] as const;

const DATE = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$' } as const;
const MONTH = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' } as const;
const YEAR = { type: 'integer', minimum: 1949, maximum: 2200 } as const;
const CENTS = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const TEXT = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;

function object(properties: Record<string, unknown>, required: string[]): SchemaDefinition['jsonSchema'] {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false, properties, required };
}

const NEGATIVE_5Y = (from: string) => ({ years: 5, from });

export const BUILTIN_SCHEMAS: readonly SchemaDefinition[] = [
  {
    id: 'tax-payment',
    version: 1,
    title: 'Tax payment',
    category: 'tax',
    sensitivity: 'positive',
    retention: null,
    jsonSchema: object(
      {
        period: MONTH,
        taxType: { enum: ['vat', 'corporate-income', 'individual-income', 'stamp', 'property', 'other'] },
        amountCents: CENTS,
        dueOn: DATE,
        paidOn: DATE,
        onTime: { type: 'boolean' },
      },
      ['period', 'taxType', 'amountCents', 'dueOn', 'onTime'],
    ),
  },
  {
    id: 'tax-credit-grade',
    version: 1,
    title: 'Tax credit grade (A/B/M/C/D, set yearly)',
    category: 'tax',
    sensitivity: 'positive',
    retention: null,
    jsonSchema: object(
      {
        year: YEAR,
        // A >= 90 points, B 70-90, M new or no income (>= 70, "no history"), C 40-70, D < 40.
        grade: { enum: ['A', 'B', 'M', 'C', 'D'] },
        points: { type: 'integer', minimum: 0, maximum: 100 },
        assessedBy: TEXT(128),
      },
      ['year', 'grade', 'assessedBy'],
    ),
  },
  {
    id: 'social-insurance',
    version: 1,
    title: 'Social insurance and housing fund contributions',
    category: 'social-insurance',
    sensitivity: 'positive',
    retention: null,
    jsonSchema: object(
      {
        period: MONTH,
        scheme: { enum: ['pension', 'unemployment', 'work-injury', 'maternity', 'medical', 'housing-fund'] },
        insuredCount: { type: 'integer', minimum: 0, maximum: 10_000_000 },
        amountCents: CENTS,
        status: { enum: ['paid', 'arrears'] },
      },
      ['period', 'scheme', 'amountCents', 'status'],
    ),
  },
  {
    id: 'utility-payment',
    version: 1,
    title: 'Water, electricity and gas payment',
    category: 'utility',
    sensitivity: 'positive',
    retention: null,
    jsonSchema: object(
      {
        period: MONTH,
        utility: { enum: ['water', 'electricity', 'gas'] },
        billedCents: CENTS,
        paidCents: CENTS,
        status: { enum: ['paid', 'late', 'unpaid'] },
      },
      ['period', 'utility', 'billedCents', 'status'],
    ),
  },
  {
    id: 'loan-repayment',
    version: 1,
    title: 'Loan repayment history (monthly status)',
    category: 'loan',
    sensitivity: 'positive',
    retention: null,
    jsonSchema: object(
      {
        period: MONTH,
        loanRef: TEXT(64),
        loanType: { enum: ['working-capital', 'fixed-asset', 'trade-finance', 'mortgage', 'consumer', 'credit-card'] },
        balanceCents: CENTS,
        dueCents: CENTS,
        paidCents: CENTS,
        overdueDays: { type: 'integer', minimum: 0, maximum: 100_000 },
        status: { enum: ['current', 'overdue', 'settled'] },
      },
      ['period', 'loanRef', 'loanType', 'balanceCents', 'status'],
    ),
  },
  {
    id: 'court-judgment',
    version: 1,
    title: 'Court judgment against the subject',
    category: 'judicial',
    sensitivity: 'negative',
    retention: NEGATIVE_5Y('performedOn'),
    jsonSchema: object(
      {
        caseNumber: TEXT(64),
        court: TEXT(128),
        judgmentDate: DATE,
        causeOfAction: TEXT(256),
        amountCents: CENTS,
        performedOn: DATE,
      },
      ['caseNumber', 'court', 'judgmentDate', 'causeOfAction'],
    ),
  },
  {
    id: 'dishonest-debtor',
    version: 1,
    title: 'Dishonest judgment debtor listing (失信被执行人)',
    category: 'judicial',
    sensitivity: 'negative',
    retention: NEGATIVE_5Y('delistedOn'),
    jsonSchema: object(
      {
        caseNumber: TEXT(64),
        court: TEXT(128),
        listedOn: DATE,
        obligation: TEXT(256),
        unperformedCents: CENTS,
        delistedOn: DATE,
      },
      ['caseNumber', 'court', 'listedOn', 'obligation'],
    ),
  },
  {
    id: 'administrative-penalty',
    version: 1,
    title: 'Administrative penalty',
    category: 'administrative',
    sensitivity: 'negative',
    retention: NEGATIVE_5Y('performedOn'),
    jsonSchema: object(
      {
        decisionNumber: TEXT(64),
        authority: TEXT(128),
        decidedOn: DATE,
        violation: TEXT(256),
        penaltyType: { enum: ['warning', 'fine', 'confiscation', 'suspension', 'licence-revocation', 'detention'] },
        amountCents: CENTS,
        performedOn: DATE,
      },
      ['decisionNumber', 'authority', 'decidedOn', 'violation', 'penaltyType'],
    ),
  },
  {
    id: 'administrative-licence',
    version: 1,
    title: 'Administrative licence',
    category: 'administrative',
    sensitivity: 'positive',
    retention: null,
    jsonSchema: object(
      {
        licenceNumber: TEXT(64),
        authority: TEXT(128),
        licenceType: TEXT(128),
        issuedOn: DATE,
        validUntil: DATE,
        status: { enum: ['valid', 'suspended', 'revoked', 'expired'] },
      },
      ['licenceNumber', 'authority', 'licenceType', 'issuedOn', 'status'],
    ),
  },
];

export function builtinSchema(id: string): SchemaDefinition | undefined {
  return BUILTIN_SCHEMAS.find((s) => s.id === id);
}
