/** Issue 15, defect 3: no usage value is rounded on the way out (API, metered records, history, CSV). */
import { describe, expect, it } from 'vitest';
import { decimalOutput } from '../../shared/domain/exact-decimal.js';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import { HISTORY_CSV_COLUMNS, historyCsvRow } from '../../shared/domain/record-history.js';
import { ingestUnderTest, kinesisEvent, streamConfig } from '../support/ingest.js';

const BIG = '12345678901234567890.123456789';
const BIG_TOTAL = '12345678901234567893.12345679';

describe('decimalOutput: a number when it round-trips, else the exact decimal string', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['3', 3],
    ['0.3', 0.3],
    ['-1.3', -1.3],
    ['0.000000001', 1e-9],
    ['9007199254740992', 9007199254740992],
    ['1000000000000000000000', 1e21],
    ['9007199254740993', '9007199254740993'],
    [BIG_TOTAL, BIG_TOTAL],
    ['0.1000000000000000000001', '0.1000000000000000000001'],
    ['1.50', 1.5],
  ])('%s → %o', (text, expected) => {
    expect(decimalOutput(text)).toBe(expected);
  });
});

describe('exact values on the way out', () => {
  it('shows, sends, keeps and exports the exact sum of 1, 2, a 30-digit decimal and 1e-9', async () => {
    const t = await ingestUnderTest(
      streamConfig({ guidingRules: [{ name: 'all', category: 'DEFAULT', groupBy: ['region'] }] }),
    );
    const { meter } = await t.meterFor('alice');
    const values = [1, 2, BIG, '0.000000001'];
    const response = await t.handler(
      kinesisEvent(
        values.map((value, i) => ({
          data: {
            userId: 'alice',
            value,
            region: i < 3 ? 'eu' : 'us',
            timestamp: '2025-01-15T10:00:00Z',
          },
        })),
      ),
    );
    expect(response.batchItemFailures).toEqual([]);
    const view = await t.meters.get(meter.id);
    expect(view?.value).toBe(BIG_TOTAL);
    expect(view?.groups.map((g) => g.value)).toEqual(['12345678901234567893.123456789', 1e-9]);
    // Printed as JSON, the API body carries every digit.
    expect(JSON.stringify(view)).toContain(`"value":"${BIG_TOTAL}"`);

    t.clock.now = new Date('2025-02-01T01:00:00.000Z');
    await t.flush(meter.id);
    const final = (t.publisher.records as MeteredRecord[]).find(
      (r) => r.id === meter.id && r.recordType === 'final',
    );
    expect(final?.value).toBe(BIG_TOTAL);
    expect(final?.groups.map((g) => g.value)).toEqual(['12345678901234567893.123456789', 1e-9]);
    const kept = await t.history.get(final?.recordId ?? '');
    expect(kept?.record.value).toBe(BIG_TOTAL);
    expect(kept?.json).toContain(`"value":"${BIG_TOTAL}"`);
    const cells = historyCsvRow(kept!.record).split(',');
    expect(cells[HISTORY_CSV_COLUMNS.indexOf('value')]).toBe(BIG_TOTAL);
  });

  it('writes a tiny value as a JSON number and as its decimal text in CSV', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('bob');
    await t.handler(
      kinesisEvent([
        { data: { userId: 'bob', value: '0.000000001', timestamp: '2025-01-15T10:00:00Z' } },
      ]),
    );
    expect((await t.meters.get(meter.id))?.value).toBe(1e-9);
    t.clock.now = new Date('2025-02-01T01:00:00.000Z');
    await t.flush(meter.id);
    const final = (t.publisher.records as MeteredRecord[]).find((r) => r.id === meter.id);
    expect(final?.value).toBe(1e-9);
    const cells = historyCsvRow(final!).split(',');
    expect(cells[HISTORY_CSV_COLUMNS.indexOf('value')]).toBe('0.000000001');
  });
});
