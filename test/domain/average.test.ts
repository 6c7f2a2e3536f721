import Big from 'big.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateSamples, mergeAggregates } from '../../shared/domain/aggregation.js';
import { MEAN_DECIMAL_PLACES, meanOf } from '../../shared/domain/exact-decimal.js';
import { meterTypeCreateSchema } from '../../shared/domain/meter-type-schemas.js';

describe('meanOf: sum ÷ count, 12 decimal places, ties to even, rounded once', () => {
  it.each([
    ['10', 3, '3.333333333333'],
    ['20', 3, '6.666666666667'],
    ['1', 2, '0.5'],
    ['-1', 3, '-0.333333333333'],
    ['0.0000000000005', 1, '0'], // 5e-13 → 0 (tie to even 0)
    ['0.0000000000015', 1, '0.000000000002'], // tie → even 2
    ['0.0000000000025', 1, '0.000000000002'], // tie → even 2
    ['0.1000000000000000000000000001', 1, '0.1'],
    ['12345678901234567890.5', 1, '12345678901234567890.5'],
  ])('meanOf(%s, %i) is %s', (sum, count, mean) => {
    expect(meanOf(sum, count)).toBe(mean);
  });

  it('is null for no values', () => {
    expect(meanOf('0', 0)).toBeNull();
  });

  it('is within half a unit of the 12th decimal place of the exact quotient, for any sum and count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e15, max: 1e15 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 10_000 }),
        (units, scale, count) => {
          const sum = new Big(units).div(new Big(10).pow(scale)).toFixed();
          const mean = meanOf(sum, count);
          // Within half a unit of the 12th place of the exact quotient.
          const error = new Big(mean ?? '0').minus(new Big(sum).div(count)).abs();
          expect(error.lte(new Big(5).div(new Big(10).pow(MEAN_DECIMAL_PLACES + 1)))).toBe(true);
        },
      ),
    );
  });

  it('keeps sum and count exactly under any split and merge of the records', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (units, cut) => {
          const samples = units.map((u, i) => ({
            value: new Big(u).div(1000).toFixed(),
            usageTime: i,
          }));
          const at = cut % samples.length;
          const whole = aggregateSamples('average', samples);
          const merged = mergeAggregates(
            'average',
            aggregateSamples('average', samples.slice(0, at)),
            aggregateSamples('average', samples.slice(at)),
          );
          const sum = samples.reduce((acc, s) => acc.plus(s.value), new Big(0)).toFixed();
          expect([whole.value, whole.count]).toEqual([sum, samples.length]);
          expect([merged.value, merged.count]).toEqual([sum, samples.length]);
        },
      ),
    );
  });
});

describe('average meter types', () => {
  const base = {
    name: 'sessions',
    unit: 'sessions',
    aggregation: { type: 'average' },
    resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
  };

  it('are accepted, with thresholds on the mean', () => {
    expect(
      meterTypeCreateSchema.safeParse({ ...base, thresholds: [{ name: 'busy', value: 10 }] })
        .success,
    ).toBe(true);
  });

  it('cannot refuse records by capacity: the next record may lower the mean', () => {
    const result = meterTypeCreateSchema.safeParse({
      ...base,
      capacity: 5,
      capacityPolicy: 'reject',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['capacityPolicy']);
  });
});
