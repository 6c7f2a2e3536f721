import { describe, expect, it } from 'vitest';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import { HISTORY_CSV_COLUMNS, historyCsvRow } from '../../shared/domain/record-history.js';
import { ingestUnderTest, kinesisEvent, streamConfig, type TestRecord } from '../support/ingest.js';

const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };
const usage = (value: unknown, region: string, eventId: string): TestRecord => ({
  data: { userId: 'alice', value, region, timestamp: '2025-01-15T10:20:00Z', eventId },
});

describe('the average aggregation through ingestion', () => {
  it('keeps sum and count exactly over retries and shards, and sends the mean beside them', async () => {
    const t = await ingestUnderTest(
      streamConfig({ guidingRules: [{ name: 'all', category: 'DEFAULT', groupBy: ['region'] }] }),
    );
    const { meter } = await t.meterFor(
      'alice',
      {
        aggregation: { type: 'average' },
        resetSchedule: hourly,
        thresholds: [{ name: 'two', value: 2 }],
      },
      new Date('2025-01-15T10:00:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:30:00Z');
    const first = [usage(1, 'eu', 'a'), usage(2, 'eu', 'b'), usage('0.1', 'us', 'c')];
    const batch = kinesisEvent(first, 'shardId-000000000000');
    expect((await t.handler(batch)).batchItemFailures).toEqual([]);
    await t.handler(batch); // a Lambda retry of the whole batch
    await t.handler(kinesisEvent([usage(3, 'us', 'd')], 'shardId-000000000001'));
    const view = await t.meters.get(meter.id);
    // (1 + 2 + 0.1 + 3) / 4 = 1.525
    expect(view).toMatchObject({ value: 1.525, average: { sum: '6.1', count: 4 } });
    expect(view?.groups).toEqual([
      { fields: { region: 'eu' }, value: 1.5, average: { sum: '3', count: 2 }, count: 2 },
      { fields: { region: 'us' }, value: 1.55, average: { sum: '3.1', count: 2 }, count: 2 },
    ]);
    // The threshold compares the mean (1.525 < 2): no partial push.
    expect(view?.thresholdsReached).toEqual([]);

    t.clock.now = new Date('2025-01-15T11:00:00Z');
    await t.flush(meter.id);
    const final = t.publisher.records.find((r) => r.recordType === 'final');
    expect(final).toMatchObject({
      value: 1.525,
      average: { sum: '6.1', count: 4 },
      meterMetaData: { recordCount: 4, aggregation: 'average' },
    });
    // What the history keeps is what was sent, average included.
    const kept = await t.history.get(final?.recordId ?? '');
    expect(kept?.json).toBe(JSON.stringify(final));
    // The CSV export carries the exact sum and count beside the mean.
    const cells = historyCsvRow(final as MeteredRecord).split(',');
    expect(cells[HISTORY_CSV_COLUMNS.indexOf('value')]).toBe('1.525');
    expect(cells[HISTORY_CSV_COLUMNS.indexOf('averageSum')]).toBe('6.1');
    expect(cells[HISTORY_CSV_COLUMNS.indexOf('averageCount')]).toBe('4');
  });

  it('rounds the mean to 12 decimal places, half to even', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice', { aggregation: { type: 'average' } });
    await t.handler(kinesisEvent([usage(1, 'eu', 'a'), usage(1, 'eu', 'b'), usage(0, 'eu', 'c')]));
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 0.666666666667,
      average: { sum: '2', count: 3 },
    });
  });
});
