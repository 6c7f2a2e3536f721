import Big from 'big.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregateSample,
  aggregateSamples,
  emptyAggregate,
  groupKey,
  mergeAggregates,
  type PartialAggregate,
  type UsageSample,
} from '../../shared/domain/aggregation.js';
import { decimalOfNumber } from '../../shared/domain/exact-decimal.js';
import { aggregationTypes } from '../../shared/domain/meter-type-schemas.js';
import type { AggregationType, FieldValue } from '../../shared/domain/types.js';

const TYPES: readonly AggregationType[] = aggregationTypes;
const NUM_RUNS = 1000;

/** Decimals that break floats, negatives, huge and tiny values, and non-canonical spellings. */
const decimalArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0.1', '0.2', '0.3', '-0.1', '0', '-0', '1.50', '1e-9', '-2', '1e25'),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc
    .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 20 }))
    .map(([unscaled, scale]) => new Big(unscaled.toString()).div(new Big(10).pow(scale)).toFixed()),
);

/** Few distinct times so that equal usage times (ties) are common. */
const usageTimeArb = fc.oneof(
  fc.integer({ min: 0, max: 4 }),
  fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_010 }),
);

const fieldValueArb: fc.Arbitrary<FieldValue> = fc.constantFrom<FieldValue>(
  'eu',
  'us',
  '1',
  1,
  2.5,
  true,
  false,
  null,
);

/** Builds with Object.fromEntries so a generated `__proto__` key is an own property. */
function fieldsArb(names: readonly string[]): fc.Arbitrary<Record<string, FieldValue>> {
  return fc
    .uniqueArray(fc.tuple(fc.constantFrom(...names), fieldValueArb), {
      selector: ([name]) => name,
      maxLength: names.length,
    })
    .map((entries) => Object.fromEntries(entries));
}

const sampleArb: fc.Arbitrary<UsageSample> = fc
  .record(
    {
      value: decimalArb,
      usageTime: usageTimeArb,
      groupValues: fieldsArb(['region', 'tier', '__proto__']),
      // Not `constructor`: toStrictEqual compares `.constructor` by reference, which an own
      // `constructor` key holding a fresh CarriedValue object can never satisfy.
      carry: fieldsArb(['plan', 'customer', 'toString']),
    },
    { requiredKeys: ['value', 'usageTime'] },
  )
  .map((s) => {
    // fc.record may produce an explicit `undefined`; the domain type means "absent".
    const out: UsageSample = { value: s.value, usageTime: s.usageTime };
    if (s.groupValues !== undefined) out.groupValues = s.groupValues;
    if (s.carry !== undefined) out.carry = s.carry;
    return out;
  });

const samplesArb = fc.array(sampleArb, { maxLength: 40 });

/** Splits into consecutive (possibly empty) chunks at the given cut points. */
function split<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const chunks: T[][] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(items.slice(start, point));
    start = point;
  }
  chunks.push(items.slice(start));
  return chunks;
}

/** Merges consecutive aggregates in a tree shape chosen by `shape`, keeping sequence order. */
function mergeTree(
  type: AggregationType,
  parts: readonly PartialAggregate[],
  shape: readonly number[],
): PartialAggregate {
  let next = 0;
  const go = (from: number, to: number): PartialAggregate => {
    if (to - from === 0) return emptyAggregate(type);
    if (to - from === 1) return parts[from] ?? emptyAggregate(type);
    const pick = shape[next++ % Math.max(shape.length, 1)] ?? 0;
    const mid = from + 1 + (pick % (to - from - 1));
    return mergeAggregates(type, go(from, mid), go(mid, to));
  };
  return go(0, parts.length);
}

describe.each(TYPES)('aggregation properties: %s', (type) => {
  it('any split into chunks, merged in any tree shape, equals aggregating the whole', () => {
    fc.assert(
      fc.property(
        samplesArb,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 16 }),
        (samples, cuts, shape) => {
          const whole = aggregateSamples(type, samples);
          const parts = split(samples, cuts).map((chunk) => aggregateSamples(type, chunk));
          expect(mergeTree(type, parts, shape)).toStrictEqual(whole);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('merge is associative', () => {
    fc.assert(
      fc.property(samplesArb, samplesArb, samplesArb, (xs, ys, zs) => {
        const [a, b, c] = [xs, ys, zs].map((s) => aggregateSamples(type, s));
        if (a === undefined || b === undefined || c === undefined) throw new Error('unreachable');
        expect(mergeAggregates(type, mergeAggregates(type, a, b), c)).toStrictEqual(
          mergeAggregates(type, a, mergeAggregates(type, b, c)),
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('aggregateSamples equals folding aggregateSample with mergeAggregates', () => {
    fc.assert(
      fc.property(samplesArb, (samples) => {
        const folded = samples.reduce(
          (acc, s) => mergeAggregates(type, acc, aggregateSample(type, s)),
          emptyAggregate(type),
        );
        expect(folded).toStrictEqual(aggregateSamples(type, samples));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('agrees with a naive reference model', () => {
    fc.assert(
      fc.property(samplesArb, (samples) => {
        const result = aggregateSamples(type, samples);
        expect(result.value).toBe(referenceValue(type, samples));
        expect(result.count).toBe(samples.length);
        const times = samples.map((s) => s.usageTime);
        expect(result.firstUsageAt).toBe(times.length === 0 ? null : Math.min(...times));
        expect(result.lastUsageAt).toBe(times.length === 0 ? null : Math.max(...times));
        for (const [key, group] of Object.entries(result.groups)) {
          const members = samples.filter(
            (s) => s.groupValues !== undefined && groupKey(s.groupValues) === key,
          );
          expect(group.count).toBe(members.length);
          expect(group.value).toBe(referenceValue(type, members));
        }
        const grouped = samples.filter((s) => s.groupValues !== undefined).length;
        expect(Object.values(result.groups).reduce((n, g) => n + g.count, 0)).toBe(grouped);
        for (const [field, carried] of Object.entries(result.carryLast)) {
          const withField = samples.filter(
            (s) => s.carry !== undefined && Object.hasOwn(s.carry, field),
          );
          const latest = Math.max(...withField.map((s) => s.usageTime));
          const winner = withField.filter((s) => s.usageTime === latest).at(-1);
          expect(carried).toStrictEqual({ value: winner?.carry?.[field], at: latest });
        }
        for (const [field, carried] of Object.entries(result.carryFirst)) {
          const withField = samples.filter(
            (s) => s.carry !== undefined && Object.hasOwn(s.carry, field),
          );
          const earliest = Math.min(...withField.map((s) => s.usageTime));
          const winner = withField.find((s) => s.usageTime === earliest);
          expect(carried).toStrictEqual({ value: winner?.carry?.[field], at: earliest });
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

function referenceValue(type: AggregationType, samples: readonly UsageSample[]): string | null {
  switch (type) {
    case 'sum':
    case 'unique': // the sum of each record's contribution (1 for a new distinct value, else 0)
    case 'average': // the exact sum; the mean is worked out where it is shown
      return samples.reduce((acc, s) => acc.plus(s.value), new Big(0)).toFixed();
    case 'increment':
      return String(samples.length);
    case 'min':
    case 'max': {
      if (samples.length === 0) return null;
      const sorted = samples.map((s) => new Big(s.value)).sort((a, b) => a.cmp(b));
      return (type === 'min' ? sorted[0] : sorted.at(-1))?.toFixed() ?? null;
    }
    case 'last': {
      if (samples.length === 0) return null;
      const latest = Math.max(...samples.map((s) => s.usageTime));
      const winner = samples.filter((s) => s.usageTime === latest).at(-1);
      return winner === undefined ? null : new Big(winner.value).toFixed();
    }
  }
}

describe('exact sums: the integer fast path agrees with big.js', () => {
  /** Decimals around the fast path's edges: up to 8 places (it keeps 6), totals near 2^53. */
  const edgeDecimalArb = fc
    .tuple(
      fc.oneof(
        fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
        fc.bigInt({ min: -1000n, max: 1000n }),
      ),
      fc.integer({ min: 0, max: 8 }),
    )
    .map(([unscaled, scale]) => new Big(unscaled.toString()).div(new Big(10).pow(scale)).toFixed());
  /** What a stored or hand-written value may look like, including what big.js refuses. */
  const spelledArb = fc.oneof(
    edgeDecimalArb,
    edgeDecimalArb.map((v) => (v.includes('.') ? `${v}00` : `${v}.0`)),
    edgeDecimalArb.map((v) => `00${v.replace('-', '')}`),
    fc.constantFrom('-0', '-0.000', '5.', '.5', '+5', ' 5', '5 ', '1e3', '', '-', '.', '1.2.3'),
  );
  const bigSum = (values: readonly string[]) => {
    try {
      return values.reduce((acc, v) => acc.plus(v), new Big(0)).toFixed();
    } catch {
      return 'throws';
    }
  };
  const ours = (work: () => string | null) => {
    try {
      return work();
    } catch {
      return 'throws';
    }
  };

  it('summing records gives big.js’s exact total', () => {
    fc.assert(
      fc.property(fc.array(edgeDecimalArb, { maxLength: 30 }), (values) => {
        const samples = values.map((value, i) => ({ value, usageTime: i }));
        expect(aggregateSamples('sum', samples).value).toBe(bigSum(values));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('prints totals just below a whole number near 2^53 exactly', () => {
    for (const value of ['9007199253.999999', '-9007199253.999999', '900719925399.9999']) {
      expect(aggregateSamples('sum', [{ value, usageTime: 0 }]).value).toBe(value);
    }
  });

  it('merging stored sums gives big.js’s total, and refuses exactly what big.js refuses', () => {
    fc.assert(
      fc.property(spelledArb, spelledArb, (a, b) => {
        const stored = (value: string) => ({ ...emptyAggregate('sum'), value, count: 1 });
        expect(ours(() => mergeAggregates('sum', stored(a), stored(b)).value)).toBe(bigSum([a, b]));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('decimalOfNumber', () => {
  it('writes what String writes, or declines', () => {
    const numberArb = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc
        .tuple(
          fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
          fc.integer({ min: 0, max: 9 }),
        )
        .map(([units, scale]) => units / 10 ** scale),
      fc.constantFrom(0.1 + 0.2, 0.3, -0, 1e-6, 1e-7, 2 ** 50, 2 ** 50 - 0.5, 1125899906842.624),
    );
    let exact = 0;
    fc.assert(
      fc.property(numberArb, (value) => {
        const text = decimalOfNumber(value);
        if (text === undefined) return;
        exact++;
        expect(text).toBe(String(value));
      }),
      { numRuns: 20_000 },
    );
    // Most values with few decimals take the fast way.
    expect(exact).toBeGreaterThan(1_000);
  });

  it('takes the usual values and declines what needs more than 6 decimals', () => {
    expect([0.3, -2.25, 1.5, 0, -0, 42, 0.000001].map(decimalOfNumber)).toEqual([
      '0.3',
      '-2.25',
      '1.5',
      '0',
      '0',
      '42',
      '0.000001',
    ]);
    expect([0.1 + 0.2, 1e-7, 2 ** 60, 1.0000001].map(decimalOfNumber)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
