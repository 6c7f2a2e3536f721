/**
 * Hostile input for the `average` aggregation: malformed aggregation bodies are refused with the
 * field named; hostile values (signs that cancel, digits beyond doubles, tiny means) keep the
 * exact sum and count and never print `-0` or exponent notation.
 */
import { describe, expect, it } from 'vitest';
import { aggregateSamples } from '../../shared/domain/aggregation.js';
import { meanOf } from '../../shared/domain/exact-decimal.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

describe('hostile average meter types', () => {
  it.each([
    ['an unknown field beside the type', { type: 'average', field: 'x' }, 'aggregation.field'],
    ['a wrong case', { type: 'AVERAGE' }, 'aggregation.type'],
    ['a number', { type: 7 }, 'aggregation.type'],
  ])('refuses %s', async (_name, aggregation, field) => {
    const api = await apiUnderTest();
    const res = await api.call('POST', '/meter-types', meterTypeBody({ aggregation }));
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { field: string }) => i.field)).toContain(field);
  });

  it('refuses capacityPolicy reject, also when a PATCH would add it', async () => {
    const api = await apiUnderTest();
    const refused = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ aggregation: { type: 'average' }, capacity: 5, capacityPolicy: 'reject' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.issues[0].field).toBe('capacityPolicy');
    const created = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ aggregation: { type: 'average' }, capacity: 5 }),
    );
    expect(created.status).toBe(201);
    const patched = await api.call('PATCH', `/meter-types/${created.body.id}`, {
      capacityPolicy: 'reject',
    });
    expect(patched.status).toBe(400);
  });
});

describe('hostile average values', () => {
  const averageOf = (values: string[]) => {
    const agg = aggregateSamples(
      'average',
      values.map((value, i) => ({ value, usageTime: i })),
    );
    return { sum: agg.value, count: agg.count, mean: meanOf(agg.value ?? '0', agg.count) };
  };

  it.each([
    [['1e-30', '-1e-30'], '0', '0'],
    [
      ['99999999999999999999.5', '-99999999999999999999.5', '0.000000000001'],
      '0.000000000001',
      '0',
    ],
    [['-0.0000000000004'], '-0.0000000000004', '0'],
    [
      ['123456789012345678.123456789', '1'],
      '123456789012345679.123456789',
      '61728394506172839.5617283945',
    ],
  ])('averages %j exactly: sum %s, mean %s', (values, sum, mean) => {
    const result = averageOf(values);
    expect(result).toEqual({ sum, count: values.length, mean });
    expect(result.mean).not.toMatch(/e|^-0$/);
  });
});
