import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateSamples } from '../../shared/domain/aggregation.js';
import {
  buildMeteredRecord,
  canonicalMeteredRecord,
  type MeteredRecord,
} from '../../shared/domain/metered-record.js';
import {
  HISTORY_CSV_COLUMNS,
  historyCsv,
  historyExpiresAt,
  matchesHistoryFilter,
  newestFirst,
} from '../../shared/domain/record-history.js';

const record: MeteredRecord = buildMeteredRecord({
  meter: {
    id: 'meter-1',
    userId: 'user-1',
    meterKey: 'calls',
    meterTypeId: 'type-1',
    meterTypeName: 'voice, "premium"',
    timezone: 'Europe/Stockholm',
    unit: 'minutes',
    aggregation: 'sum',
    createdAt: '2024-01-10T08:00:00.000Z',
    deleteOnReset: false,
    customFields: { zeta: 1, alpha: { b: 2, a: 1 } },
  },
  period: { periodStart: Date.UTC(2024, 0, 1), periodEnd: Date.UTC(2024, 1, 1) },
  aggregate: aggregateSamples('sum', [
    { value: '2', usageTime: Date.UTC(2024, 0, 2), groupValues: { region: 'eu', tier: 1 } },
    { value: '3', usageTime: Date.UTC(2024, 0, 3), groupValues: { region: 'us', tier: 2 } },
  ]),
  recordType: 'final',
  updatedAt: Date.UTC(2024, 1, 1),
  lateRecords: 0,
});

/** The same JSON value with every object's keys in a random order, as storage may return it. */
function shuffled(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, random));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort(() => random() - 0.5);
  return Object.fromEntries(
    keys.map((k) => [k, shuffled((value as Record<string, unknown>)[k], random)]),
  );
}

describe('canonicalMeteredRecord', () => {
  it('prints the same JSON whatever order storage returns the fields in', () => {
    const expected = JSON.stringify(canonicalMeteredRecord(record));
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        let state = seed;
        const random = () => {
          state = (state * 1103515245 + 12345) & 0x7fffffff;
          return state / 0x7fffffff;
        };
        const read = shuffled(record, random) as MeteredRecord;
        expect(JSON.stringify(canonicalMeteredRecord(read))).toBe(expected);
      }),
    );
  });

  it('keeps every field and value', () => {
    expect(canonicalMeteredRecord(record)).toEqual(record);
  });
});

describe('history rules', () => {
  it('expires a record its retention after its period end', () => {
    expect(historyExpiresAt(record, 400)).toBe(Date.UTC(2024, 1, 1) / 1000 + 400 * 86_400);
  });

  it('filters on every field and bounds periodEnd inclusively', () => {
    expect(matchesHistoryFilter(record, { userId: 'user-1', recordType: 'final' })).toBe(true);
    expect(matchesHistoryFilter(record, { meterId: 'meter-2' })).toBe(false);
    expect(
      matchesHistoryFilter(record, {
        from: '2024-02-01T00:00:00.000Z',
        to: '2024-02-01T00:00:00.000Z',
      }),
    ).toBe(true);
    expect(matchesHistoryFilter(record, { to: '2024-01-31T23:59:59.999Z' })).toBe(false);
  });

  it('orders newest period end first', () => {
    const older = { ...record, recordId: 'z', periodEnd: '2024-01-01T00:00:00.000Z' };
    expect([older, record].sort(newestFirst)).toEqual([record, older]);
  });

  it('writes CSV in the documented columns, quoting what needs it, groups as one JSON cell', () => {
    const [header, row, end] = historyCsv([record]).split('\r\n');
    expect(header).toBe(HISTORY_CSV_COLUMNS.join(','));
    expect(end).toBe('');
    expect(row).toContain(',"voice, ""premium""",');
    expect(row).toContain(`,"${JSON.stringify(record.groups).replace(/"/g, '""')}",`);
    expect(row?.startsWith(`${record.recordId},final,,meter-1,user-1,calls,type-1,`)).toBe(true);
  });
});
