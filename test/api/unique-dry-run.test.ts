/**
 * A dry run against a `unique` meter: a record without a usable value of the meter's field shows
 * INVALID_RECORD naming it; `maxDistinct` is not tried (it depends on values already counted).
 */
import { describe, expect, it } from 'vitest';
import { streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

const streams = [
  streamConfigSchema.parse({
    name: 'devices-stream',
    meterKey: 'devices',
    guidingRules: [{ name: 'all', category: 'DEFAULT' }],
  }),
];

describe('POST /streams/{name}/dry-run with a unique meter', () => {
  it('corrects a record without the field, and does not try maxDistinct', async () => {
    const api = await apiUnderTest({ streams });
    const type = (
      await api.call(
        'POST',
        '/meter-types',
        meterTypeBody({ aggregation: { type: 'unique', field: 'deviceId', maxDistinct: 1 } }),
      )
    ).body;
    const meter = (
      await api.call('POST', '/meters', {
        meterKey: 'devices',
        meterTypeId: type.id,
        userId: 'alice',
      })
    ).body;
    const response = await api.call('POST', '/streams/devices-stream/dry-run', {
      records: [
        { userId: 'alice', deviceId: 'a' },
        { userId: 'alice', deviceId: 'b' },
        { userId: 'alice', deviceId: { id: 'c' } },
        { userId: 'alice' },
      ],
    });
    expect(response.status).toBe(200);
    const results = response.body.results as {
      outcome: string;
      correction?: { reason: string; message: string };
      meters?: { id: string }[];
    }[];
    expect(results.map((r) => r.outcome)).toEqual([
      'metered',
      'metered',
      'data-correction',
      'data-correction',
    ]);
    expect(results[1]?.meters?.map((m) => m.id)).toEqual([meter.id]);
    expect(results.slice(2).map((r) => r.correction?.reason)).toEqual([
      'INVALID_RECORD',
      'INVALID_RECORD',
    ]);
    for (const r of results.slice(2)) expect(r.correction?.message).toMatch(/^deviceId: /);
    expect((await api.call('GET', `/meters/${meter.id}`)).body.value).toBe(0);
  });
});
