import { describe, expect, it } from 'vitest';
import { aggregateSamples, emptyAggregate } from '../../shared/domain/aggregation.js';
import {
  buildMeteredRecord,
  type MeterSnapshot,
  recordIdFor,
} from '../../shared/domain/metered-record.js';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const meter: MeterSnapshot = {
  id: 'meter-1',
  userId: 'user-1',
  meterKey: 'calls',
  meterTypeId: 'type-1',
  meterTypeName: 'voice minutes',
  timezone: 'Europe/Stockholm',
  unit: 'minutes',
  aggregation: 'sum',
  createdAt: '2024-01-10T08:00:00.000Z',
  deleteOnReset: false,
  customFields: { contract: 'C-1', nested: { a: 1 } },
};
const period = {
  periodStart: Date.UTC(2024, 0, 10, 8),
  periodEnd: Date.UTC(2024, 1, 1),
};

describe('recordIdFor', () => {
  it('is a UUID-shaped, version 5 style id', () => {
    expect(recordIdFor('meter-1', period.periodStart, 'final')).toMatch(UUID_V5);
    expect(recordIdFor('meter-1', period.periodStart, 'partial', 'warn')).toMatch(UUID_V5);
  });

  it('is stable: the same inputs give the same id', () => {
    expect(recordIdFor('meter-1', period.periodStart, 'final')).toBe(
      recordIdFor('meter-1', period.periodStart, 'final'),
    );
    // Pinned so a change of the derivation (which would re-send duplicates) is noticed.
    expect(recordIdFor('meter-1', 0, 'final')).toBe('32451279-fb32-531e-9b9b-23434df623a3');
    expect(recordIdFor('meter-1', 0, 'partial', 'warn')).toBe(
      'b3725f9a-59d8-513b-bbf5-f6a4efc883d8',
    );
  });

  it('differs by meter, period, record type and threshold', () => {
    const ids = [
      recordIdFor('meter-1', period.periodStart, 'final'),
      recordIdFor('meter-2', period.periodStart, 'final'),
      recordIdFor('meter-1', period.periodEnd, 'final'),
      recordIdFor('meter-1', period.periodStart, 'partial', 'warn'),
      recordIdFor('meter-1', period.periodStart, 'partial', 'capacity'),
      recordIdFor('meter-1', period.periodEnd, 'partial', 'warn'),
      recordIdFor('meter-1', period.periodStart, 'partial', 'final'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('cannot be forged by ids containing separators', () => {
    expect(recordIdFor('a","b', 1, 'final')).not.toBe(recordIdFor('a', 1, 'final'));
    expect(recordIdFor('m', 1, 'partial', 'x')).not.toBe(recordIdFor('m', 1, 'partial', 'x '));
  });

  it('ignores a threshold for final records and requires one for partial records', () => {
    expect(recordIdFor('m', 1, 'final', 'warn')).toBe(recordIdFor('m', 1, 'final'));
    expect(() => recordIdFor('m', 1, 'partial')).toThrow(TypeError);
  });
});

describe('buildMeteredRecord', () => {
  const aggregate = aggregateSamples('sum', [
    {
      value: '0.1',
      usageTime: Date.UTC(2024, 0, 12),
      groupValues: { region: 'us', tier: 1 },
      carry: { plan: 'silver' },
    },
    {
      value: '0.2',
      usageTime: Date.UTC(2024, 0, 11),
      groupValues: { region: 'eu', tier: 1 },
      carry: { plan: 'bronze', customer: 'acme' },
    },
    {
      value: '0.3',
      usageTime: Date.UTC(2024, 0, 20),
      groupValues: { region: 'eu', tier: 1 },
      carry: { plan: 'gold' },
    },
  ]);

  it('produces exactly the documented fields of a final record', () => {
    const record = buildMeteredRecord({
      meter,
      period,
      aggregate,
      recordType: 'final',
      updatedAt: Date.UTC(2024, 0, 20, 0, 0, 1),
      lateRecords: 1,
    });
    expect(record).toStrictEqual({
      recordId: recordIdFor('meter-1', period.periodStart, 'final'),
      recordType: 'final',
      id: 'meter-1',
      userId: 'user-1',
      meterTypeId: 'type-1',
      meterTypeName: 'voice minutes',
      timezone: 'Europe/Stockholm',
      meterKey: 'calls',
      value: 0.6,
      unit: 'minutes',
      createdAt: '2024-01-10T08:00:00.000Z',
      updatedAt: '2024-01-20T00:00:01.000Z',
      periodStart: '2024-01-10T08:00:00.000Z',
      periodEnd: '2024-02-01T00:00:00.000Z',
      groups: [
        { fields: { region: 'eu', tier: 1 }, value: 0.5, count: 2 },
        { fields: { region: 'us', tier: 1 }, value: 0.1, count: 1 },
      ],
      carryFirst: { plan: 'bronze', customer: 'acme' },
      carryLast: { plan: 'gold', customer: 'acme' },
      deleteOnReset: false,
      customFields: { contract: 'C-1', nested: { a: 1 } },
      meterMetaData: {
        recordCount: 3,
        firstUsageAt: '2024-01-11T00:00:00.000Z',
        lastUsageAt: '2024-01-20T00:00:00.000Z',
        lateRecords: 1,
        aggregation: 'sum',
      },
    });
    expect('threshold' in record).toBe(false);
  });

  it('a partial record names its threshold and has its own stable id', () => {
    const build = () =>
      buildMeteredRecord({
        meter,
        period,
        aggregate,
        recordType: 'partial',
        threshold: 'warn',
        updatedAt: Date.UTC(2024, 0, 20),
        lateRecords: 0,
      });
    const record = build();
    expect(record.recordType).toBe('partial');
    expect(record.threshold).toBe('warn');
    expect(record.recordId).toBe(recordIdFor('meter-1', period.periodStart, 'partial', 'warn'));
    expect(record.recordId).not.toBe(recordIdFor('meter-1', period.periodStart, 'final'));
    expect(build()).toStrictEqual(record);
  });

  it('an empty period gives value 0, no groups and recordCount 0, for every aggregation', () => {
    for (const aggregation of ['sum', 'increment', 'min', 'max', 'last'] as const) {
      const record = buildMeteredRecord({
        meter: { ...meter, aggregation },
        period,
        aggregate: emptyAggregate(aggregation),
        recordType: 'final',
        updatedAt: period.periodStart,
        lateRecords: 0,
      });
      expect(record.value).toBe(0);
      expect(record.groups).toStrictEqual([]);
      expect(record.carryFirst).toStrictEqual({});
      expect(record.carryLast).toStrictEqual({});
      expect(record.meterMetaData).toStrictEqual({
        recordCount: 0,
        firstUsageAt: null,
        lastUsageAt: null,
        lateRecords: 0,
        aggregation,
      });
    }
  });

  it('is JSON-serializable and does not share customFields with the meter', () => {
    const record = buildMeteredRecord({
      meter,
      period,
      aggregate,
      recordType: 'final',
      updatedAt: 0,
      lateRecords: 0,
    });
    expect(JSON.parse(JSON.stringify(record))).toStrictEqual(record);
    expect(record.customFields).not.toBe(meter.customFields);
    expect(record.customFields.nested).not.toBe(meter.customFields.nested);
  });

  it('orders groups deterministically, whatever order they were seen in', () => {
    const samples = [
      { value: '1', usageTime: 1, groupValues: { region: 'b' } },
      { value: '1', usageTime: 2, groupValues: { region: 'a' } },
      { value: '1', usageTime: 3, groupValues: { region: 'c' } },
    ];
    const input = { meter, period, recordType: 'final' as const, updatedAt: 0, lateRecords: 0 };
    const forward = buildMeteredRecord({ ...input, aggregate: aggregateSamples('sum', samples) });
    const backward = buildMeteredRecord({
      ...input,
      aggregate: aggregateSamples('sum', [...samples].reverse()),
    });
    expect(forward.groups.map((g) => g.fields.region)).toStrictEqual(['a', 'b', 'c']);
    expect(backward.groups).toStrictEqual(forward.groups);
  });
});
