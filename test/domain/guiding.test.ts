import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createRouter,
  type GuidingCondition,
  type GuidingRule,
  groupValuesOf,
  readField,
  routeRecord,
  ruleMatches,
} from '../../shared/domain/guiding.js';
import { streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import { toFieldIssues } from '../../shared/domain/validation.js';

const parse = (json: string): Record<string, unknown> =>
  JSON.parse(json) as Record<string, unknown>;

describe('readField', () => {
  const record = parse('{"a":{"b":{"c":3}},"n":0,"s":"x","nul":null,"arr":[1,2]}');

  it('reads top-level and dotted nested fields', () => {
    expect(readField(record, 's')).toBe('x');
    expect(readField(record, 'n')).toBe(0);
    expect(readField(record, 'a.b.c')).toBe(3);
    expect(readField(record, 'a.b')).toStrictEqual({ c: 3 });
    expect(readField(record, 'nul')).toBeNull();
  });

  it('is undefined for missing fields and for paths through scalars, null or arrays', () => {
    expect(readField(record, 'missing')).toBeUndefined();
    expect(readField(record, 'a.x.c')).toBeUndefined();
    expect(readField(record, 's.length')).toBeUndefined();
    expect(readField(record, 'nul.x')).toBeUndefined();
    expect(readField(record, 'arr.0')).toBeUndefined();
    expect(readField(record, 'arr.length')).toBeUndefined();
  });

  it('never reads through the prototype chain', () => {
    for (const path of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'a.constructor',
      'a.__proto__',
    ]) {
      expect(readField(record, path)).toBeUndefined();
    }
    expect(readField(record, 'constructor.name')).toBeUndefined();
  });

  it('reads prototype-like names when they are own JSON keys', () => {
    const own = parse('{"__proto__":{"x":1},"constructor":"c","toString":"t"}');
    expect(readField(own, '__proto__')).toStrictEqual({ x: 1 });
    expect(readField(own, '__proto__.x')).toBe(1);
    expect(readField(own, 'constructor')).toBe('c');
    expect(readField(own, 'toString')).toBe('t');
  });
});

describe('ruleMatches', () => {
  const record = parse(
    '{"service":"voice","zone":"EU","minutes":5,"roaming":true,"meta":{"tier":"gold"}}',
  );
  const rule = (extra: Partial<GuidingRule>): GuidingRule => ({
    name: 'r',
    category: 'C',
    ...extra,
  });

  it('a rule without conditions (absent or empty) always matches', () => {
    expect(ruleMatches(rule({}), record)).toBe(true);
    expect(ruleMatches(rule({ conditions: [] }), record)).toBe(true);
    expect(ruleMatches(rule({ conditions: [], operator: 'OR' }), record)).toBe(true);
  });

  it('AND (the default) needs every condition', () => {
    const conditions = [
      { field: 'service', type: 'string', value: 'voice' },
      { field: 'minutes', type: 'number', value: 5 },
      { field: 'roaming', type: 'boolean', value: true },
      { field: 'meta.tier', type: 'string', value: 'gold' },
    ] as const;
    expect(ruleMatches(rule({ conditions: [...conditions] }), record)).toBe(true);
    expect(ruleMatches(rule({ operator: 'AND', conditions: [...conditions] }), record)).toBe(true);
    expect(
      ruleMatches(
        rule({ conditions: [...conditions, { field: 'zone', type: 'string', value: 'US' }] }),
        record,
      ),
    ).toBe(false);
  });

  it('OR needs any condition', () => {
    const conditions = [
      { field: 'service', type: 'string', value: 'sms' },
      { field: 'zone', type: 'string', value: 'EU' },
    ] as const;
    expect(ruleMatches(rule({ operator: 'OR', conditions: [...conditions] }), record)).toBe(true);
    expect(ruleMatches(rule({ conditions: [...conditions] }), record)).toBe(false);
    expect(
      ruleMatches(
        rule({ operator: 'OR', conditions: [{ field: 'service', type: 'string', value: 'sms' }] }),
        record,
      ),
    ).toBe(false);
  });

  it('is case-sensitive', () => {
    expect(
      ruleMatches(rule({ conditions: [{ field: 'zone', type: 'string', value: 'eu' }] }), record),
    ).toBe(false);
  });

  it('needs the field to exist with exactly the condition type', () => {
    const cases: GuidingRule['conditions'][] = [
      [{ field: 'minutes', type: 'string', value: '5' }],
      [{ field: 'minutes', type: 'number', value: '5' }],
      [{ field: 'roaming', type: 'string', value: 'true' }],
      [{ field: 'missing', type: 'string', value: 'undefined' }],
      [{ field: 'service', type: 'number', value: 0 }],
    ];
    for (const conditions of cases) {
      expect(ruleMatches(rule({ conditions }), record)).toBe(false);
    }
    const numeric = parse('{"code":"5"}');
    expect(
      ruleMatches(rule({ conditions: [{ field: 'code', type: 'number', value: 5 }] }), numeric),
    ).toBe(false);
  });

  it('does not match conditions on prototype properties', () => {
    const conditions = [{ field: 'constructor.name', type: 'string', value: 'Object' }] as const;
    expect(ruleMatches(rule({ conditions: [...conditions] }), record)).toBe(false);
  });
});

describe('routeRecord', () => {
  interface Meter {
    id: string;
    category: string;
  }
  const voiceRule: GuidingRule = {
    name: 'voice',
    conditions: [{ field: 'service', type: 'string', value: 'voice' }],
    category: 'VOICE',
  };
  const premiumRule: GuidingRule = {
    name: 'premium',
    conditions: [{ field: 'tier', type: 'string', value: 'premium' }],
    category: 'PREMIUM',
  };
  const catchAll: GuidingRule = { name: 'default', category: 'DEFAULT' };
  const meters: Meter[] = [
    { id: 'm1', category: 'VOICE' },
    { id: 'm2', category: 'DEFAULT' },
    { id: 'm3', category: 'VOICE' },
  ];

  it('the first matching rule with a meter wins and updates every meter of its category', () => {
    const result = routeRecord([voiceRule, catchAll], { service: 'voice' }, meters);
    expect(result).toStrictEqual({ ok: true, rule: voiceRule, meters: [meters[0], meters[2]] });
  });

  it('a later rule is not used when an earlier one matches with a meter', () => {
    const result = routeRecord([catchAll, voiceRule], { service: 'voice' }, meters);
    expect(result).toMatchObject({ ok: true, rule: catchAll, meters: [{ id: 'm2' }] });
  });

  it('a rule that matches but finds no meter passes the record to the next rule', () => {
    const result = routeRecord(
      [premiumRule, voiceRule],
      { service: 'voice', tier: 'premium' },
      meters,
    );
    expect(result).toMatchObject({ ok: true, rule: voiceRule });
  });

  it('NO_MATCHING_RULE when no rule matched at all', () => {
    expect(routeRecord([voiceRule, premiumRule], { service: 'sms' }, meters)).toStrictEqual({
      ok: false,
      reason: 'NO_MATCHING_RULE',
    });
    expect(routeRecord([], { service: 'sms' }, meters)).toStrictEqual({
      ok: false,
      reason: 'NO_MATCHING_RULE',
    });
  });

  it('NO_METER when some rule matched but the user has no meter in its category', () => {
    expect(
      routeRecord([voiceRule, premiumRule], { service: 'voice', tier: 'premium' }, []),
    ).toStrictEqual({
      ok: false,
      reason: 'NO_METER',
    });
    expect(routeRecord([premiumRule, voiceRule], { tier: 'premium' }, meters)).toStrictEqual({
      ok: false,
      reason: 'NO_METER',
    });
  });
});

describe('groupValuesOf', () => {
  const record = parse(
    '{"region":"eu","tier":2,"vip":false,"nul":null,"meta":{"a":1},"list":[1,"x"],"deep":{"k":"v"}}',
  );

  it('is undefined without groupBy', () => {
    expect(groupValuesOf({ name: 'r', category: 'C' }, record)).toEqual({
      ok: true,
      values: undefined,
    });
    expect(groupValuesOf({ name: 'r', category: 'C', groupBy: [] }, record)).toEqual({
      ok: true,
      values: undefined,
    });
  });

  it('reads each group-by field; missing -> null; objects and arrays -> JSON', () => {
    const rule: GuidingRule = {
      name: 'r',
      category: 'C',
      groupBy: ['region', 'tier', 'vip', 'nul', 'missing', 'meta', 'list', 'deep.k', 'toString'],
    };
    const result = groupValuesOf(rule, record);
    expect(result.ok && result.values).toStrictEqual({
      region: 'eu',
      tier: 2,
      vip: false,
      nul: null,
      missing: null,
      meta: '{"a":1}',
      list: '[1,"x"]',
      'deep.k': 'v',
      toString: null,
    });
  });

  it('refuses a value a meter cannot keep, naming the field', () => {
    const rule: GuidingRule = { name: 'r', category: 'C', groupBy: ['region'] };
    expect(groupValuesOf(rule, { region: 'r'.repeat(257) })).toEqual({
      ok: false,
      message: 'region: must be at most 256 characters',
    });
    expect(groupValuesOf(rule, { region: 1e300 }).ok).toBe(false);
  });

  it('a group-by field named __proto__ becomes an own key, not a prototype', () => {
    const result = groupValuesOf(
      { name: 'r', category: 'C', groupBy: ['__proto__'] },
      parse('{"__proto__":"p"}'),
    );
    const values = result.ok ? result.values : undefined;
    expect(values === undefined ? false : Object.hasOwn(values, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(values, '__proto__')?.value).toBe('p');
  });
});

describe('createRouter', () => {
  it('routes records in rule order with fall-through, and reuses one result per rule', () => {
    const rules: GuidingRule[] = [
      {
        name: 'eu',
        category: 'EU',
        conditions: [{ field: 'region', type: 'string', value: 'eu' }],
      },
      {
        name: 'either',
        category: 'MISSING',
        operator: 'OR',
        conditions: [
          { field: 'tier', type: 'number', value: 1 },
          { field: 'tier', type: 'number', value: 2 },
        ],
      },
      { name: 'gold', category: 'GOLD', conditions: [{ field: 'tier', type: 'number', value: 2 }] },
      {
        name: 'rest',
        category: 'DEFAULT',
        conditions: [{ field: 'region', type: 'string', value: 'us' }],
      },
    ];
    const meters = [
      { id: 'a', category: 'EU' },
      { id: 'b', category: 'GOLD' },
      { id: 'c', category: 'DEFAULT' },
      { id: 'd', category: 'EU' },
    ];
    const route = createRouter(rules, meters);
    const [a, b, c, d] = meters;
    const routedTo = (rule: GuidingRule | undefined, to: unknown[]) => ({
      ok: true,
      rule,
      meters: to,
    });
    const expected: [Record<string, unknown>, unknown][] = [
      [{ region: 'eu' }, routedTo(rules[0], [a, d])],
      [{ region: 'eu', tier: 2 }, routedTo(rules[0], [a, d])],
      // `either` matches but the user has no MISSING meter: the record falls through to `gold`.
      [{ tier: 2 }, routedTo(rules[2], [b])],
      [{ tier: 1 }, { ok: false, reason: 'NO_METER' }],
      [{ region: 'us', tier: '2' }, routedTo(rules[3], [c])],
      [{ region: 'asia' }, { ok: false, reason: 'NO_MATCHING_RULE' }],
      [{}, { ok: false, reason: 'NO_MATCHING_RULE' }],
    ];
    for (const [record, result] of expected) {
      expect(route(record)).toStrictEqual(result);
      expect(routeRecord(rules, record, meters)).toStrictEqual(result);
    }
    expect(route({ region: 'eu' })).toBe(route({ region: 'eu', tier: 3 }));
  });
});

describe('conditions with op', () => {
  const record = parse(
    '{"service":"voice","zone":"EU-west","minutes":5,"roaming":true,"nul":null,"five":"5"}',
  );
  const matches = (condition: GuidingCondition) =>
    ruleMatches({ name: 'r', category: 'C', conditions: [condition] }, record);

  it('eq is the default; ne is its opposite on a present field of the named type', () => {
    expect(matches({ field: 'service', type: 'string', value: 'voice' })).toBe(true);
    expect(matches({ field: 'service', op: 'eq', type: 'string', value: 'voice' })).toBe(true);
    expect(matches({ field: 'service', op: 'ne', type: 'string', value: 'voice' })).toBe(false);
    expect(matches({ field: 'service', op: 'ne', type: 'string', value: 'sms' })).toBe(true);
  });

  it('ne is false on a missing field, a null, or a field of another type', () => {
    expect(matches({ field: 'missing', op: 'ne', type: 'string', value: 'x' })).toBe(false);
    expect(matches({ field: 'nul', op: 'ne', type: 'string', value: 'x' })).toBe(false);
    expect(matches({ field: 'five', op: 'ne', type: 'number', value: 5 })).toBe(false);
    expect(matches({ field: 'minutes', op: 'ne', type: 'string', value: '5' })).toBe(false);
  });

  it('in matches a value of the list, typed', () => {
    expect(matches({ field: 'service', op: 'in', type: 'string', value: ['sms', 'voice'] })).toBe(
      true,
    );
    expect(matches({ field: 'service', op: 'in', type: 'string', value: ['sms'] })).toBe(false);
    expect(matches({ field: 'minutes', op: 'in', type: 'number', value: [1, 5] })).toBe(true);
    expect(matches({ field: 'five', op: 'in', type: 'number', value: [5] })).toBe(false);
  });

  it('exists tells a missing (or null) field from a present one, of the type when named', () => {
    expect(matches({ field: 'service', op: 'exists' })).toBe(true);
    expect(matches({ field: 'missing', op: 'exists' })).toBe(false);
    expect(matches({ field: 'nul', op: 'exists' })).toBe(false);
    expect(matches({ field: 'roaming', op: 'exists', type: 'boolean' })).toBe(true);
    expect(matches({ field: 'five', op: 'exists', type: 'number' })).toBe(false);
  });

  it('prefix matches the start of a string, case-sensitive', () => {
    expect(matches({ field: 'zone', op: 'prefix', type: 'string', value: 'EU-' })).toBe(true);
    expect(matches({ field: 'zone', op: 'prefix', type: 'string', value: 'eu-' })).toBe(false);
    expect(matches({ field: 'zone', op: 'prefix', type: 'string', value: '' })).toBe(true);
    expect(matches({ field: 'missing', op: 'prefix', type: 'string', value: '' })).toBe(false);
  });

  it('gt, gte, lt, lte compare numbers, never strings that look like them', () => {
    const num = (op: 'gt' | 'gte' | 'lt' | 'lte', value: number, field = 'minutes') =>
      matches({ field, op, type: 'number', value });
    expect([num('gt', 4), num('gt', 5), num('gte', 5), num('gte', 6)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect([num('lt', 6), num('lt', 5), num('lte', 5), num('lte', 4)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(num('gte', 0, 'five')).toBe(false);
    expect(num('lt', 100, 'missing')).toBe(false);
  });

  it('ne is the negation of eq exactly when the field has the named type (property)', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean());
    fc.assert(
      fc.property(fc.option(value, { nil: undefined }), value, (actual, expected) => {
        const rec = actual === undefined ? {} : { f: actual };
        const type = typeof expected as 'string' | 'number' | 'boolean';
        const rule = (op: 'eq' | 'ne') => ({
          name: 'r',
          category: 'C',
          conditions: [{ field: 'f', op, type, value: expected }],
        });
        const eq = ruleMatches(rule('eq'), rec);
        const ne = ruleMatches(rule('ne'), rec);
        expect(eq && ne).toBe(false);
        expect(eq || ne).toBe(typeof actual === type);
      }),
    );
  });
});

describe('the condition schema', () => {
  const parseCondition = (condition: Record<string, unknown>) =>
    streamConfigSchema.safeParse({
      name: 's',
      meterKey: 'k',
      guidingRules: [{ name: 'r', category: 'C', conditions: [condition] }],
    });
  const issueOf = (condition: Record<string, unknown>) => {
    const result = parseCondition(condition);
    return result.success ? undefined : toFieldIssues(result.error)[0];
  };
  const at = (field: string) => `guidingRules.0.conditions.0.${field}`;

  it('defaults op to eq, and accepts each operator with what it needs', () => {
    const parsed = parseCondition({ field: 'f', type: 'string', value: 'x' });
    expect(parsed.success && parsed.data.guidingRules[0]?.conditions[0]).toEqual({
      field: 'f',
      op: 'eq',
      type: 'string',
      value: 'x',
    });
    for (const condition of [
      { field: 'f', op: 'ne', type: 'boolean', value: false },
      { field: 'f', op: 'in', type: 'number', value: [1, 2] },
      { field: 'f', op: 'exists' },
      { field: 'f', op: 'exists', type: 'string' },
      { field: 'f', op: 'prefix', type: 'string', value: 'a' },
      { field: 'f', op: 'lte', type: 'number', value: 2.5 },
    ]) {
      expect(parseCondition(condition).success, JSON.stringify(condition)).toBe(true);
    }
  });

  it('refuses what an operator cannot use, naming the field', () => {
    expect(issueOf({ field: 'f', op: 'like', type: 'string', value: 'a' })?.field).toBe(at('op'));
    expect(issueOf({ field: 'f', type: 'string', value: 5 })).toEqual({
      field: at('value'),
      message: 'must have the type the condition names',
    });
    expect(issueOf({ field: 'f', value: 'a' })).toEqual({
      field: at('type'),
      message: 'is required for eq',
    });
    expect(issueOf({ field: 'f', op: 'ne', type: 'string' })?.field).toBe(at('value'));
    expect(issueOf({ field: 'f', op: 'in', type: 'string', value: 'a' })).toEqual({
      field: at('value'),
      message: 'must be an array of string values for in',
    });
    expect(issueOf({ field: 'f', op: 'in', type: 'string', value: ['a', 1] })?.field).toBe(
      at('value'),
    );
    expect(issueOf({ field: 'f', type: 'string', value: ['a'] })?.field).toBe(at('value'));
    expect(issueOf({ field: 'f', op: 'exists', value: 'a' })).toEqual({
      field: at('value'),
      message: 'must be absent for exists',
    });
    expect(issueOf({ field: 'f', op: 'prefix', type: 'number', value: 1 })).toEqual({
      field: at('type'),
      message: 'must be string for prefix',
    });
    expect(issueOf({ field: 'f', op: 'gt', type: 'string', value: 'a' })).toEqual({
      field: at('type'),
      message: 'must be number for gt',
    });
  });
});
