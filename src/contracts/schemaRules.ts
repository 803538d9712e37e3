// Fields a credit-data schema may never declare. Reg Art 14 (Regulations on the
// Administration of the Credit Reporting Industry, 2013) bans collecting religious belief,
// genes, fingerprints, blood type, disease and medical history, and other personal
// information the law forbids; we add biometrics in general (PIPL Art 28 "sensitive").
// This is a pure function of a JSON Schema document: the `schemas` contract refuses a
// schema when `forbiddenFieldsIn` returns anything, and the provider's tools check the same
// rule before a schema is proposed.

/** The banned kinds of data, each with the words that name it (checked case-insensitively). */
export const FORBIDDEN_FIELDS: Readonly<Record<string, { substrings: readonly string[]; words: readonly string[] }>> = {
  religion: {
    substrings: ['religio', 'zongjiao', 'zongjiaoxinyang', '宗教', '信仰'],
    words: ['faith', 'creed', 'belief', 'beliefs', 'xinyang'],
  },
  genetic: {
    substrings: ['genetic', 'genome', 'genotype', 'dnasequence', 'jiyin', 'yichuan', '基因', '遗传'],
    words: ['gene', 'genes', 'dna', 'rna'],
  },
  biometric: {
    substrings: [
      'fingerprint',
      'biometric',
      'palmprint',
      'voiceprint',
      'faceprint',
      'facialfeature',
      'facerecognition',
      'facialimage',
      'faceimage',
      'retina',
      'zhiwen',
      'shengwutezheng',
      'hongmo',
      '指纹',
      '掌纹',
      '声纹',
      '生物特征',
      '生物识别',
      '虹膜',
      '人脸',
      '面部特征',
    ],
    words: ['iris'],
  },
  bloodType: {
    substrings: ['bloodtype', 'bloodgroup', 'xuexing', '血型'],
    words: ['blood', 'rh', 'abo'],
  },
  medical: {
    substrings: [
      'disease',
      'medical',
      'diagnos',
      'illness',
      'sickness',
      'healthcondition',
      'healthstatus',
      'jibing',
      'bingshi',
      'bingli',
      'yiliao',
      'zhenduan',
      '疾病',
      '病史',
      '病历',
      '诊断',
      '医疗',
      '健康状况',
    ],
    words: ['health', 'disability', 'hiv', 'aids', 'cancer', 'symptom', 'symptoms'],
  },
};

/** Keywords of JSON Schema whose value is a map from property name to sub-schema. */
const NAMED_CHILDREN = ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'] as const;
/** Keywords whose value is one sub-schema. */
const SINGLE_CHILD = [
  'items',
  'additionalProperties',
  'additionalItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
] as const;
/** Keywords whose value is a list of sub-schemas. */
const LIST_CHILDREN = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'] as const;

/** Bound on the walk, so a hostile schema cannot make the check (run in a contract) expensive. */
export const SCHEMA_WALK_NODES_MAX = 10_000;

/** Split a field name into lower-case words: camelCase, snake_case, kebab-case, digits. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z\u4e00-\u9fff]+|(?<=[a-zA-Z])(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])(?=[a-zA-Z])/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/** The kind of forbidden data a field name refers to, or undefined if it is allowed. */
export function forbiddenKindOf(name: string): string | undefined {
  const words = wordsOf(name);
  const squashed = words.join('');
  for (const [kind, rule] of Object.entries(FORBIDDEN_FIELDS)) {
    if (rule.substrings.some((s) => squashed.includes(s))) return kind;
    if (words.some((w) => rule.words.includes(w))) return kind;
  }
  return undefined;
}

/**
 * Paths of every declared field whose name names forbidden data (Reg Art 14), e.g.
 * `["applicant.bloodType"]`. Walks nested properties, array items, combinators and
 * definitions. Empty means the schema is allowed. A schema too large to walk is reported
 * as forbidden (`"(schema too large to check)"`) rather than let through.
 */
export function forbiddenFieldsIn(jsonSchema: unknown): string[] {
  const found = new Set<string>();
  let budget = SCHEMA_WALK_NODES_MAX;
  const visit = (node: unknown, path: string, depth: number): void => {
    if (budget-- <= 0 || depth > 64) {
      found.add('(schema too large to check)');
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return;
    const obj = node as Record<string, unknown>;
    for (const kw of NAMED_CHILDREN) {
      const children = obj[kw];
      if (children === null || typeof children !== 'object' || Array.isArray(children)) continue;
      for (const [name, child] of Object.entries(children as Record<string, unknown>)) {
        // Definition names are not fields; everything else here names a property.
        const isDef = kw === '$defs' || kw === 'definitions';
        const segment = isDef ? `${kw}.${name}` : name;
        const childPath = path === '' ? segment : `${path}.${segment}`;
        if (!isDef && forbiddenKindOf(name) !== undefined) found.add(childPath);
        visit(child, childPath, depth + 1);
      }
    }
    for (const kw of ['required', 'dependentRequired'] as const) {
      const names = kw === 'required' ? obj[kw] : Object.keys((obj[kw] as object | undefined) ?? {});
      if (!Array.isArray(names)) continue;
      for (const name of names) {
        if (typeof name === 'string' && forbiddenKindOf(name) !== undefined) found.add(path === '' ? name : `${path}.${name}`);
      }
    }
    for (const kw of SINGLE_CHILD) if (!Array.isArray(obj[kw])) visit(obj[kw], path, depth + 1);
    for (const kw of LIST_CHILDREN) {
      const list = obj[kw];
      if (Array.isArray(list)) for (const child of list) visit(child, path, depth + 1);
    }
  };
  visit(jsonSchema, '', 0);
  return [...found].sort();
}
