import { describe, expect, it } from 'vitest';
import { applyValue } from '../../shared/domain/aggregated-value.js';
import {
  aggregateSample,
  aggregateSamples,
  emptyAggregate,
  groupKey,
  mergeAggregates,
  type UsageSample,
} from '../../shared/domain/aggregation.js';
import { canonicalDecimal } from '../../shared/domain/exact-decimal.js';
import type { AggregationType } from '../../shared/domain/types.js';

const sample = (
  value: string,
  usageTime: number,
  extra: Partial<UsageSample> = {},
): UsageSample => ({
  value,
  usageTime,
  ...extra,
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('canonicalDecimal', () => {
  it('writes plain decimal notation without trailing zeros or negative zero', () => {
    expect(canonicalDecimal('1.50')).toBe('1.5');
    expect(canonicalDecimal('-0')).toBe('0');
    expect(canonicalDecimal('1e21')).toBe('1000000000000000000000');
    expect(canonicalDecimal('1e-7')).toBe('0.0000001');
    expect(canonicalDecimal(0.1)).toBe('0.1');
  });

  it('throws on something that is not a decimal', () => {
    expect(() => canonicalDecimal('abc')).toThrow();
    expect(() => canonicalDecimal('')).toThrow();
  });
});

describe('emptyAggregate', () => {
  it.each<[AggregationType, string | null]>([
    ['sum', '0'],
    ['increment', '0'],
    ['min', null],
    ['max', null],
    ['last', null],
  ])('%s starts at %s with no records', (type, value) => {
    expect(emptyAggregate(type)).toStrictEqual({
      value,
      count: 0,
      firstUsageAt: null,
      lastUsageAt: null,
      valueAt: null,
      groups: {},
      carryFirst: {},
      carryLast: {},
    });
  });

  it('is the same as aggregating no samples', () => {
    for (const type of ['sum', 'increment', 'min', 'max', 'last'] as const) {
      expect(aggregateSamples(type, [])).toStrictEqual(emptyAggregate(type));
    }
  });
});

describe('aggregation types', () => {
  const samples = [sample('0.1', 10), sample('0.2', 30), sample('-0.05', 20), sample('0.1', 5)];

  it('sum adds exact decimals: 0.1 + 0.2 = 0.3, three times 0.1 = 0.3', () => {
    expect(aggregateSamples('sum', [sample('0.1', 1), sample('0.2', 2)]).value).toBe('0.3');
    expect(
      aggregateSamples('sum', [sample('0.1', 1), sample('0.1', 2), sample('0.1', 3)]).value,
    ).toBe('0.3');
    expect(aggregateSamples('sum', samples).value).toBe('0.35');
  });

  it('sum handles negative and very large values without losing digits', () => {
    const big = aggregateSamples('sum', [
      sample('99999999999999999999999.1', 1),
      sample('0.000000000000000001', 2),
      sample('-2', 3),
    ]);
    expect(big.value).toBe('99999999999999999999997.100000000000000001');
    expect(aggregateSamples('sum', [sample('-2', 1)]).value).toBe('-2');
    expect(aggregateSamples('sum', [sample('0.1', 1), sample('-0.1', 2)]).value).toBe('0');
  });

  it('increment counts records and ignores their values', () => {
    const result = aggregateSamples('increment', [
      sample('5', 1),
      sample('not a number', 2),
      sample('-3', 3),
    ]);
    expect(result.value).toBe('3');
    expect(result.count).toBe(3);
  });

  it('min and max keep the extreme value, canonically written', () => {
    expect(aggregateSamples('min', samples).value).toBe('-0.05');
    expect(aggregateSamples('max', samples).value).toBe('0.2');
    expect(aggregateSamples('max', [sample('1.50', 1), sample('1.5', 2)]).value).toBe('1.5');
    expect(aggregateSamples('min', [sample('1e3', 1)]).value).toBe('1000');
  });

  it('last keeps the value with the latest usage time, not the latest arrival', () => {
    const result = aggregateSamples('last', samples);
    expect(result.value).toBe('0.2');
    expect(result.valueAt).toBe(30);
  });

  it('last breaks ties on usage time in favour of the later record', () => {
    expect(aggregateSamples('last', [sample('1', 10), sample('2', 10)]).value).toBe('2');
    const a = aggregateSample('last', sample('1', 10));
    const b = aggregateSample('last', sample('2', 10));
    expect(mergeAggregates('last', a, b).value).toBe('2');
    expect(mergeAggregates('last', b, a).value).toBe('1');
  });

  it('valueAt is set only for last', () => {
    for (const type of ['sum', 'increment', 'min', 'max'] as const) {
      expect(aggregateSamples(type, samples).valueAt).toBeNull();
    }
  });

  it('tracks record count and first/last usage time', () => {
    const result = aggregateSamples('sum', samples);
    expect(result.count).toBe(4);
    expect(result.firstUsageAt).toBe(5);
    expect(result.lastUsageAt).toBe(30);
  });

  it('rejects a non-finite usage time and an invalid value', () => {
    expect(() => aggregateSample('sum', sample('1', Number.NaN))).toThrow(RangeError);
    expect(() => aggregateSample('sum', sample('one', 1))).toThrow();
  });
});

describe('mergeAggregates', () => {
  it('merges values, counts and usage times', () => {
    const a = aggregateSamples('sum', [sample('0.1', 20), sample('0.1', 40)]);
    const b = aggregateSamples('sum', [sample('0.1', 10)]);
    expect(mergeAggregates('sum', a, b)).toStrictEqual(
      aggregateSamples('sum', [sample('0.1', 20), sample('0.1', 40), sample('0.1', 10)]),
    );
    expect(mergeAggregates('sum', a, b).value).toBe('0.3');
  });

  it('has the empty aggregate as identity on both sides', () => {
    for (const type of ['sum', 'increment', 'min', 'max', 'last'] as const) {
      const a = aggregateSamples(type, [
        sample('3', 1, { groupValues: { r: 'eu' }, carry: { plan: 'gold' } }),
        sample('-1', 2),
      ]);
      expect(mergeAggregates(type, emptyAggregate(type), a)).toStrictEqual(a);
      expect(mergeAggregates(type, a, emptyAggregate(type))).toStrictEqual(a);
    }
  });

  it('canonicalizes stored values spelled differently (e.g. read back from DynamoDB)', () => {
    const stored = { ...emptyAggregate('max'), value: '1.50', count: 1 };
    expect(mergeAggregates('max', stored, emptyAggregate('max')).value).toBe('1.5');
    expect(
      mergeAggregates('sum', { ...emptyAggregate('sum'), value: '1.0' }, emptyAggregate('sum'))
        .value,
    ).toBe('1');
  });

  it('never mutates its inputs', () => {
    for (const type of ['sum', 'increment', 'min', 'max', 'last'] as const) {
      const a = deepFreeze(
        aggregateSamples(type, [sample('1', 5, { groupValues: { r: 'eu' }, carry: { c: 1 } })]),
      );
      const b = deepFreeze(
        aggregateSamples(type, [sample('2', 5, { groupValues: { r: 'eu' }, carry: { c: 2 } })]),
      );
      const merged = mergeAggregates(type, a, b);
      expect(merged.count).toBe(2);
      merged.groups['["x"]'] = { values: {}, value: null, count: 0, valueAt: null };
      expect(Object.keys(a.groups)).toHaveLength(1);
    }
  });

  it('aggregateSamples does not keep references to the samples', () => {
    const groupValues = { region: 'eu' };
    const result = aggregateSamples('sum', [sample('1', 1, { groupValues })]);
    groupValues.region = 'us';
    expect(Object.values(result.groups)[0]?.values).toStrictEqual({ region: 'eu' });
  });
});

describe('groups', () => {
  it('aggregates each combination of group values separately', () => {
    const result = aggregateSamples('sum', [
      sample('1', 1, { groupValues: { region: 'eu', tier: 1 } }),
      sample('2', 2, { groupValues: { tier: 1, region: 'eu' } }),
      sample('4', 3, { groupValues: { region: 'us', tier: 1 } }),
      sample('8', 4),
    ]);
    expect(result.value).toBe('15');
    expect(result.groups).toStrictEqual({
      [groupKey({ region: 'eu', tier: 1 })]: {
        values: { region: 'eu', tier: 1 },
        value: '3',
        count: 2,
        valueAt: null,
      },
      [groupKey({ region: 'us', tier: 1 })]: {
        values: { region: 'us', tier: 1 },
        value: '4',
        count: 1,
        valueAt: null,
      },
    });
  });

  it('uses each aggregation type inside groups, including last with its usage time', () => {
    const g = { groupValues: { region: 'eu' } };
    const samples = [sample('5', 20, g), sample('7', 10, g), sample('6', 20, g)];
    const key = groupKey({ region: 'eu' });
    expect(aggregateSamples('min', samples).groups[key]?.value).toBe('5');
    expect(aggregateSamples('max', samples).groups[key]?.value).toBe('7');
    expect(aggregateSamples('increment', samples).groups[key]?.value).toBe('3');
    expect(aggregateSamples('last', samples).groups[key]).toMatchObject({
      value: '6',
      valueAt: 20,
    });
  });

  it('stores group values in field-name order, whatever order the record had', () => {
    const result = aggregateSamples('sum', [
      sample('1', 1, { groupValues: { tier: 1, region: 'eu' } }),
      sample('1', 2, { groupValues: { region: 'eu', tier: 1 } }),
    ]);
    const groups = Object.values(result.groups);
    expect(groups).toHaveLength(1);
    expect(Object.keys(groups[0]?.values ?? {})).toStrictEqual(['region', 'tier']);
  });

  it('groupKey is independent of field order and tells types apart', () => {
    expect(groupKey({ a: 1, b: 'x' })).toBe(groupKey({ b: 'x', a: 1 }));
    expect(groupKey({ a: 1 })).not.toBe(groupKey({ a: '1' }));
    expect(groupKey({ a: null })).not.toBe(groupKey({ a: 'null' }));
    expect(groupKey({ a: true })).not.toBe(groupKey({ a: 'true' }));
    expect(groupKey({ a: 'x' })).toBe('[["a","x"]]');
  });

  it('keys that look like prototype properties stay ordinary data', () => {
    const values = Object.fromEntries([['__proto__', 'evil']]) as Record<string, string>;
    const result = aggregateSamples('sum', [sample('1', 1, { groupValues: values })]);
    const group = result.groups[groupKey(values)];
    expect(group?.values).toStrictEqual(values);
    expect(Object.getPrototypeOf(result.groups)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(group?.values)).toBe(Object.prototype);
    expect(Object.hasOwn(group?.values ?? {}, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).evil).toBeUndefined();
  });
});

describe('carry fields', () => {
  it('carryFirst keeps the earliest usage time, carryLast the latest', () => {
    const result = aggregateSamples('sum', [
      sample('1', 20, { carry: { plan: 'silver', region: 'eu' } }),
      sample('1', 10, { carry: { plan: 'bronze' } }),
      sample('1', 30, { carry: { plan: 'gold' } }),
    ]);
    expect(result.carryFirst).toStrictEqual({
      plan: { value: 'bronze', at: 10 },
      region: { value: 'eu', at: 20 },
    });
    expect(result.carryLast).toStrictEqual({
      plan: { value: 'gold', at: 30 },
      region: { value: 'eu', at: 20 },
    });
  });

  it('breaks ties: carryFirst keeps the earlier record, carryLast the later one', () => {
    const samples = [
      sample('1', 10, { carry: { plan: 'a' } }),
      sample('1', 10, { carry: { plan: 'b' } }),
    ];
    const whole = aggregateSamples('sum', samples);
    expect(whole.carryFirst.plan?.value).toBe('a');
    expect(whole.carryLast.plan?.value).toBe('b');
    const [first, second] = samples.map((s) => aggregateSample('sum', s));
    if (first === undefined || second === undefined) throw new Error('unreachable');
    expect(mergeAggregates('sum', first, second)).toStrictEqual(whole);
  });

  it('a carried null is a value (the field was present)', () => {
    const result = aggregateSamples('sum', [sample('1', 10, { carry: { plan: null } })]);
    expect(result.carryFirst).toStrictEqual({ plan: { value: null, at: 10 } });
  });

  it('a carry field named __proto__ is stored as an own key', () => {
    const carry = Object.fromEntries([['__proto__', 'x']]) as Record<string, string>;
    const result = aggregateSamples('sum', [sample('1', 1, { carry })]);
    expect(Object.hasOwn(result.carryFirst, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(result.carryFirst)).toBe(Object.prototype);
  });
});

describe('applyValue', () => {
  it.each<[AggregationType, string | null, string, string]>([
    ['sum', null, '0.1', '0.1'],
    ['sum', '0.1', '0.2', '0.3'],
    ['sum', '5', '-7', '-2'],
    ['increment', null, '42', '1'],
    ['increment', '9', '42', '10'],
    ['min', null, '3', '3'],
    ['min', '3', '2.5', '2.5'],
    ['min', '3', '4', '3'],
    ['max', null, '3', '3'],
    ['max', '3', '2.5', '3'],
    ['max', '3', '4.00', '4'],
    ['last', '3', '1.10', '1.1'],
    ['last', null, '-1', '-1'],
  ])('%s: %s then %s -> %s', (type, current, next, expected) => {
    expect(applyValue(type, current, next)).toBe(expected);
  });

  it('agrees with aggregating one more record (record assumed latest for last)', () => {
    for (const type of ['sum', 'increment', 'min', 'max', 'last'] as const) {
      const before = aggregateSamples(type, [sample('2', 1), sample('0.5', 2)]);
      const after = aggregateSamples(type, [sample('2', 1), sample('0.5', 2), sample('1.25', 3)]);
      expect(applyValue(type, before.value, '1.25')).toBe(after.value);
    }
  });
});

describe('performance', () => {
  it('aggregates 10,000 samples with groups and carry fields quickly', () => {
    const samples: UsageSample[] = Array.from({ length: 10_000 }, (_, i) => ({
      value: `${i % 97}.${i % 10}`,
      usageTime: 1_700_000_000_000 + (i % 500) * 1000,
      groupValues: { region: ['eu', 'us', 'ap'][i % 3] ?? 'eu', tier: i % 4 },
      carry: { plan: `p${i % 7}` },
    }));
    for (const type of ['sum', 'increment', 'min', 'max', 'last'] as const) {
      aggregateSamples(type, samples); // warm up
      const started = performance.now();
      const result = aggregateSamples(type, samples);
      const elapsed = performance.now() - started;
      expect(result.count).toBe(10_000);
      expect(Object.keys(result.groups)).toHaveLength(12);
      // Typically a few ms; the bound is loose so a slow CI machine does not flake.
      expect(elapsed).toBeLessThan(500);
    }
  });
});

describe('exact sums past the integer fast path', () => {
  it('stays exact when totals pass 2^53 units, and with more than 6 decimals', () => {
    const samples = [
      '9007199254740991',
      '1',
      '0.5',
      '0.1234567',
      '-0.0000001',
      '12345678901234567890.123456789',
    ].map((value, i) => ({ value, usageTime: i }));
    expect(aggregateSamples('sum', samples).value).toBe('12354686100489308882.746913389');
    expect(aggregateSamples('sum', samples.slice(0, 3)).value).toBe('9007199254740992.5');
    expect(
      aggregateSamples('sum', [
        { value: '0.1', usageTime: 0 },
        { value: '0.2', usageTime: 1 },
      ]).value,
    ).toBe('0.3');
  });
});
