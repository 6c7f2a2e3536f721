/**
 * The console's copies of the service's lists (it may import nothing of the service but the
 * schedule module) stay equal to the service's, and the meter-type form sends a unique count's
 * `field` and `maxDistinct` only with `unique`.
 */
import { describe, expect, it } from 'vitest';
import {
  AGGREGATIONS,
  aggregationInWords,
  DEFAULT_MAX_DISTINCT,
  MAX_MAX_DISTINCT,
  mayRejectByCapacity,
} from '../../console/src/aggregation.js';
import { CORRECTION_REASONS as CONSOLE_REASONS } from '../../console/src/correction-reasons.js';
import { createBody, EMPTY_DRAFT } from '../../console/src/pages/meter-type-draft.js';
import {
  aggregationTypes,
  meterTypeCreateSchema,
  DEFAULT_MAX_DISTINCT as SERVICE_DEFAULT_MAX_DISTINCT,
  MAX_MAX_DISTINCT as SERVICE_MAX_MAX_DISTINCT,
} from '../../shared/domain/meter-type-schemas.js';
import { CORRECTION_REASONS } from '../../shared/ports/data-correction-store.js';

const draft = { ...EMPTY_DRAFT, name: 'devices', unit: 'devices' };

describe("the console's copies of the service's lists", () => {
  it('offers every data-correction reason the service has, in its order', () => {
    expect([...CONSOLE_REASONS]).toEqual([...CORRECTION_REASONS]);
  });

  it("offers every aggregation and the unique count's limits as the service has them", () => {
    expect([...AGGREGATIONS]).toEqual([...aggregationTypes]);
    expect([DEFAULT_MAX_DISTINCT, MAX_MAX_DISTINCT]).toEqual([
      SERVICE_DEFAULT_MAX_DISTINCT,
      SERVICE_MAX_MAX_DISTINCT,
    ]);
  });

  it('offers reject exactly for the aggregations the API accepts it with', () => {
    for (const type of AGGREGATIONS) {
      const body = createBody({ ...draft, aggregation: type, uniqueField: 'deviceId' });
      const accepted = meterTypeCreateSchema.safeParse({ ...body, capacityPolicy: 'reject' });
      expect([type, mayRejectByCapacity(type)]).toEqual([type, accepted.success]);
    }
  });
});

describe('the meter-type form and a unique count', () => {
  it('sends field and maxDistinct with unique, as typed, and the API accepts them', () => {
    const body = createBody({
      ...draft,
      aggregation: 'unique',
      uniqueField: 'device.id',
      maxDistinct: '500',
    });
    expect(body.aggregation).toEqual({ type: 'unique', field: 'device.id', maxDistinct: 500 });
    expect(meterTypeCreateSchema.safeParse(body).success).toBe(true);
  });

  it('leaves out a blank field (the API says it is required) and a blank maxDistinct (its default)', () => {
    const body = createBody({ ...draft, aggregation: 'unique', uniqueField: ' ', maxDistinct: '' });
    expect(body.aggregation).toEqual({ type: 'unique' });
    const parsed = meterTypeCreateSchema.safeParse(body);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'aggregation.field',
    ]);
  });

  it('sends neither for another aggregation, even when they were typed before switching', () => {
    const body = createBody({
      ...draft,
      aggregation: 'sum',
      uniqueField: 'deviceId',
      maxDistinct: '10',
    });
    expect(body.aggregation).toEqual({ type: 'sum' });
  });

  it('says what a unique count counts and how many at most', () => {
    expect(aggregationInWords({ type: 'unique', field: 'deviceId', maxDistinct: 100000 })).toBe(
      'unique values of deviceId (at most 100000 per period)',
    );
    expect(aggregationInWords({ type: 'sum' })).toBe('sum');
  });
});
