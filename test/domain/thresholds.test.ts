import { describe, expect, it } from 'vitest';
import {
  admitsWithinCapacity,
  CAPACITY_THRESHOLD_NAME,
  effectiveThresholds,
  hasThresholds,
  reachedThresholds,
  thresholdLimit,
  thresholdsToFire,
} from '../../shared/domain/thresholds.js';
import type { Threshold } from '../../shared/domain/types.js';

describe('thresholdLimit', () => {
  it('an absolute threshold is its value, as a decimal', () => {
    expect(thresholdLimit({ name: 'a', value: 100 }, undefined)).toBe('100');
    expect(thresholdLimit({ name: 'a', value: 0.3 }, 50)).toBe('0.3');
  });

  it('a percent threshold is that percent of capacity, exactly', () => {
    expect(thresholdLimit({ name: 'p', percent: 80 }, 1000)).toBe('800');
    expect(thresholdLimit({ name: 'p', percent: 33 }, '0.1')).toBe('0.033');
    expect(thresholdLimit({ name: 'p', percent: 12.5 }, 3)).toBe('0.375');
    expect(thresholdLimit({ name: 'p', percent: 100 }, 7)).toBe('7');
  });

  it('a percent threshold without capacity has no limit', () => {
    expect(thresholdLimit({ name: 'p', percent: 50 }, undefined)).toBeUndefined();
  });
});

describe('reachedThresholds', () => {
  const thresholds: Threshold[] = [
    { name: 'half', percent: 50 },
    { name: 'abs', value: 0.3 },
    { name: 'full', percent: 100 },
  ];

  it('names the thresholds whose limit is at or below the value, in order', () => {
    expect(reachedThresholds(thresholds, 1, '0.29')).toStrictEqual([]);
    expect(reachedThresholds(thresholds, 1, '0.3')).toStrictEqual(['abs']);
    expect(reachedThresholds(thresholds, 1, '0.5')).toStrictEqual(['half', 'abs']);
    expect(reachedThresholds(thresholds, 1, '1')).toStrictEqual(['half', 'abs', 'full']);
  });

  it('compares exact decimals (0.1 + 0.2 reaches 0.3)', () => {
    expect(reachedThresholds([{ name: 'abs', value: 0.3 }], undefined, '0.3')).toStrictEqual([
      'abs',
    ]);
    expect(
      reachedThresholds([{ name: 'abs', value: 0.3 }], undefined, '0.2999999999999999999'),
    ).toStrictEqual([]);
  });

  it('ignores percent thresholds without capacity, and an empty value reaches nothing', () => {
    expect(reachedThresholds(thresholds, undefined, '100')).toStrictEqual(['abs']);
    expect(reachedThresholds(thresholds, 1, null)).toStrictEqual([]);
  });

  it('handles negative limits and values', () => {
    expect(reachedThresholds([{ name: 'neg', value: -5 }], undefined, '-4')).toStrictEqual(['neg']);
    expect(reachedThresholds([{ name: 'neg', value: -5 }], undefined, '-6')).toStrictEqual([]);
  });
});

describe('thresholdsToFire', () => {
  const thresholds: Threshold[] = [
    { name: 'a', value: 10 },
    { name: 'b', value: 20 },
  ];

  it('fires what is reached and has not fired this period', () => {
    expect(thresholdsToFire(thresholds, undefined, '25', [])).toStrictEqual(['a', 'b']);
    expect(thresholdsToFire(thresholds, undefined, '25', ['a'])).toStrictEqual(['b']);
    expect(thresholdsToFire(thresholds, undefined, '25', ['a', 'b'])).toStrictEqual([]);
  });

  it('is state based: a value that jumps past several thresholds fires them all, once', () => {
    const fired: string[] = [];
    for (const value of ['5', '25', '25', '30']) {
      fired.push(...thresholdsToFire(thresholds, undefined, value, fired));
    }
    expect(fired).toStrictEqual(['a', 'b']);
  });

  it('does not re-fire when the value drops and rises again in the same period', () => {
    const fired = thresholdsToFire(thresholds, undefined, '15', []);
    expect(thresholdsToFire(thresholds, undefined, '5', fired)).toStrictEqual([]);
    expect(thresholdsToFire(thresholds, undefined, '15', fired)).toStrictEqual([]);
  });
});

describe('effectiveThresholds', () => {
  const own: Threshold[] = [{ name: 'warn', percent: 80 }];

  it('adds a capacity threshold under notify (the default) when capacity is set', () => {
    expect(effectiveThresholds({ thresholds: own, capacity: 100 })).toStrictEqual([
      ...own,
      { name: CAPACITY_THRESHOLD_NAME, value: 100 },
    ]);
    expect(effectiveThresholds({ capacity: 100, capacityPolicy: 'notify' })).toStrictEqual([
      { name: 'capacity', value: 100 },
    ]);
  });

  it('adds nothing under reject or without capacity', () => {
    expect(
      effectiveThresholds({ thresholds: own, capacity: 100, capacityPolicy: 'reject' }),
    ).toStrictEqual(own);
    expect(effectiveThresholds({ thresholds: own })).toStrictEqual(own);
    expect(effectiveThresholds({})).toStrictEqual([]);
  });

  it('keeps a user threshold already named capacity instead of adding a second one', () => {
    const named: Threshold[] = [{ name: 'capacity', value: 5 }];
    expect(effectiveThresholds({ thresholds: named, capacity: 100 })).toStrictEqual(named);
  });

  it('does not mutate the meter type', () => {
    const thresholds = [...own];
    effectiveThresholds({ thresholds, capacity: 100 });
    expect(thresholds).toStrictEqual(own);
  });

  it('reaching the capacity fires the capacity push once', () => {
    const all = effectiveThresholds({ thresholds: own, capacity: 100 });
    expect(thresholdsToFire(all, 100, '99', ['warn'])).toStrictEqual([]);
    expect(thresholdsToFire(all, 100, '100', ['warn'])).toStrictEqual(['capacity']);
    expect(thresholdsToFire(all, 100, '150', ['warn', 'capacity'])).toStrictEqual([]);
  });
});

describe('admitsWithinCapacity', () => {
  it('admits everything without capacity', () => {
    expect(admitsWithinCapacity('sum', '1000', '1000', undefined)).toBe(true);
  });

  it('sum: admits up to and including the capacity, refuses what would exceed it', () => {
    expect(admitsWithinCapacity('sum', null, '10', 10)).toBe(true);
    expect(admitsWithinCapacity('sum', '9.9', '0.1', 10)).toBe(true);
    expect(admitsWithinCapacity('sum', '9.9', '0.11', 10)).toBe(false);
    expect(admitsWithinCapacity('sum', null, '10.000000000000000001', 10)).toBe(false);
    expect(admitsWithinCapacity('sum', '0.1', '0.2', 0.3)).toBe(true);
  });

  it('sum: a record that lowers an exceeded value is admitted', () => {
    expect(admitsWithinCapacity('sum', '12', '-1', 10)).toBe(true);
    expect(admitsWithinCapacity('sum', '12', '0', 10)).toBe(true);
    expect(admitsWithinCapacity('sum', '12', '1', 10)).toBe(false);
  });

  it('increment: counts the record, whatever its value', () => {
    expect(admitsWithinCapacity('increment', '2', '1000', 3)).toBe(true);
    expect(admitsWithinCapacity('increment', '3', '0', 3)).toBe(false);
    expect(admitsWithinCapacity('increment', null, '-5', 0)).toBe(false);
  });

  it('max: refuses a value above capacity', () => {
    expect(admitsWithinCapacity('max', null, '11', 10)).toBe(false);
    expect(admitsWithinCapacity('max', '5', '10', 10)).toBe(true);
    expect(admitsWithinCapacity('max', '5', '3', 10)).toBe(true);
    expect(admitsWithinCapacity('max', '5', '10.5', 10)).toBe(false);
  });

  it('min: only the first value can exceed capacity; lower values always fit', () => {
    expect(admitsWithinCapacity('min', null, '11', 10)).toBe(false);
    expect(admitsWithinCapacity('min', null, '10', 10)).toBe(true);
    expect(admitsWithinCapacity('min', '8', '11', 10)).toBe(true);
    expect(admitsWithinCapacity('min', '8', '-3', 10)).toBe(true);
  });

  it('last: the record becomes the value', () => {
    expect(admitsWithinCapacity('last', null, '11', 10)).toBe(false);
    expect(admitsWithinCapacity('last', '3', '10', 10)).toBe(true);
    expect(admitsWithinCapacity('last', '3', '10.01', 10)).toBe(false);
    expect(admitsWithinCapacity('last', '15', '12', 10)).toBe(true);
  });
});

describe('hasThresholds', () => {
  it('is true exactly when effectiveThresholds has any', () => {
    const own = [{ name: 'half', value: 50 }];
    const settings = [
      {},
      { thresholds: [] },
      { thresholds: own },
      { capacity: 100 },
      { capacity: 100, capacityPolicy: 'notify' as const },
      { capacity: 100, capacityPolicy: 'reject' as const },
      { thresholds: own, capacity: 100, capacityPolicy: 'reject' as const },
      { thresholds: [], capacity: 100, capacityPolicy: 'reject' as const },
    ];
    expect(settings.map(hasThresholds)).toEqual([
      false,
      false,
      true,
      true,
      true,
      false,
      true,
      false,
    ]);
    for (const s of settings) expect(hasThresholds(s)).toBe(effectiveThresholds(s).length > 0);
  });
});
