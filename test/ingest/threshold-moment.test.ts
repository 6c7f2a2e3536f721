/**
 * Issue 15, defect 4: a partial push carries the period's usage at the moment its threshold was
 * reached (right after the record that crossed it, in sequence order), not the batch's end value.
 */
import { describe, expect, it } from 'vitest';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import { ingestUnderTest, kinesisEvent, streamConfig, type TestRecord } from '../support/ingest.js';

const usage = (
  value: number,
  extra: Record<string, unknown> = {},
  timestamp = '2025-01-15T10:00:00Z',
): TestRecord => ({ data: { userId: 'alice', value, timestamp, ...extra } });

async function partials(t: Awaited<ReturnType<typeof ingestUnderTest>>, meterId: string) {
  const state = await t.state(meterId);
  const records = Object.values(state.outbox) as MeteredRecord[];
  return Object.fromEntries(
    records
      .filter((r) => r.recordType === 'partial')
      .map((r): [string, { value: MeteredRecord['value']; count: number; r: MeteredRecord }] => [
        r.threshold ?? '',
        { value: r.value, count: r.meterMetaData.recordCount, r },
      ]),
  );
}

describe('partial push value: the usage when the threshold was reached', () => {
  it('reports 40, not 110, for records 20, 20, 20, 50 in one batch and a threshold of 30; each threshold its own value', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice', {
      thresholds: [
        { name: 'thirty', value: 30 },
        { name: 'sixty', value: 60 },
        { name: 'hundred', value: 100 },
      ],
    });
    const response = await t.handler(kinesisEvent([usage(20), usage(20), usage(20), usage(50)]));
    expect(response.batchItemFailures).toEqual([]);
    const sent = await partials(t, meter.id);
    expect(sent.thirty).toMatchObject({ value: 40, count: 2 });
    expect(sent.sixty).toMatchObject({ value: 60, count: 3 });
    expect(sent.hundred).toMatchObject({ value: 110, count: 4 });
    expect((await t.meters.get(meter.id))?.value).toBe(110);
  });

  it('compares the mean for an average: records 3, 3, 10 and a threshold of 5 report the mean after the 10', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice', {
      aggregation: { type: 'average' },
      thresholds: [{ name: 'five', value: 5 }],
    });
    await t.handler(kinesisEvent([usage(3), usage(3), usage(10)]));
    const { five } = await partials(t, meter.id);
    // The running sum reaches 5 at the second record (mean 3); the mean does at the third.
    expect(five).toMatchObject({ value: 5.333333333333, count: 3 });
    expect(five?.r.average).toEqual({ sum: '16', count: 3 });
  });

  it('includes what other shards applied before, and the groups as they were at that moment', async () => {
    const t = await ingestUnderTest(
      streamConfig({ guidingRules: [{ name: 'all', category: 'DEFAULT', groupBy: ['region'] }] }),
    );
    const { meter } = await t.meterFor('alice', { thresholds: [{ name: 'thirty', value: 30 }] });
    await t.handler(kinesisEvent([usage(25, { region: 'eu' })], 'shardId-000000000001'));
    expect(await partials(t, meter.id)).toEqual({});
    await t.handler(
      kinesisEvent(
        [usage(3, { region: 'us' }), usage(10, { region: 'us' }), usage(100, { region: 'eu' })],
        'shardId-000000000002',
      ),
    );
    const { thirty } = await partials(t, meter.id);
    expect(thirty?.value).toBe(38);
    expect(
      thirty?.r.groups.map((g: MeteredRecord['groups'][number]) => [
        g.fields.region,
        g.value,
        g.count,
      ]),
    ).toEqual([
      ['eu', 25, 1],
      ['us', 13, 2],
    ]);
    expect((await t.meters.get(meter.id))?.value).toBe(138);
  });

  it('reports the max reached, not a later larger one', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice', {
      aggregation: { type: 'max' },
      thresholds: [{ name: 'thirty', value: 30 }],
    });
    await t.handler(kinesisEvent([usage(5), usage(40), usage(10), usage(90)]));
    expect((await partials(t, meter.id)).thirty).toMatchObject({ value: 40, count: 2 });
    expect((await t.meters.get(meter.id))?.value).toBe(90);
  });

  it('reports the last value at the moment it was reached for last', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice', {
      aggregation: { type: 'last' },
      thresholds: [{ name: 'thirty', value: 30 }],
    });
    await t.handler(
      kinesisEvent([
        usage(10, {}, '2025-01-15T10:00:00Z'),
        usage(50, {}, '2025-01-15T10:01:00Z'),
        usage(40, {}, '2025-01-15T10:02:00Z'),
      ]),
    );
    expect((await partials(t, meter.id)).thirty).toMatchObject({ value: 50, count: 2 });
    expect((await t.meters.get(meter.id))?.value).toBe(40);
  });
});
