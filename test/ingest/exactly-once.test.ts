import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemKeys } from '../../shared/adapters/dynamodb/table.js';
import { closePeriod, type MeterState } from '../../shared/domain/meter-usage.js';
import type { ShardUsageWrite } from '../../shared/ports/usage-writer.js';
import { ingestUnderTest, kinesisEvent, streamConfig, type TestRecord } from '../support/ingest.js';

const usage = (
  userId: string,
  value: number,
  extra: Record<string, unknown> = {},
  timestamp = '2025-01-15T10:00:00Z',
): TestRecord => ({
  data: { userId, value, timestamp, ...extra },
  // Kinesis received it a second after it was stamped.
  arrivalTime: Date.parse(timestamp) + 1000,
});
const isMeter = (meterId: string) => (args: unknown[]) =>
  (args[0] as ShardUsageWrite).meter.id === meterId;

describe('ingestion: exactly once', () => {
  it('keeps totals exact when the handler stops after some meter updates and the batch is replayed whole, larger and bisected', async () => {
    for (const replay of ['whole', 'larger', 'bisected'] as const) {
      const t = await ingestUnderTest();
      const users = ['a', 'b', 'c'];
      const meters = await Promise.all(users.map((u) => t.meterFor(u)));
      const records = Array.from({ length: 30 }, (_, i) => usage(users[i % 3] as string, i + 1));
      const event = kinesisEvent(records);
      const victim = meters[1]?.meter.id as string;
      t.store.faults.push({ method: 'writeShardUsage', when: isMeter(victim) });
      const first = await t.handler(event);
      // Only user b failed: Lambda resumes from b's first record.
      expect(first.batchItemFailures, replay).toEqual([
        { itemIdentifier: records[1]?.sequenceNumber },
      ]);

      const resumeAt = 1;
      const retry = event.Records.slice(resumeAt);
      if (replay === 'whole') await t.handler({ Records: event.Records });
      if (replay === 'larger') {
        const extra = kinesisEvent([usage('a', 100), usage('b', 100), usage('c', 100)]);
        await t.handler({ Records: [...retry, ...extra.Records] });
      }
      if (replay === 'bisected') {
        const half = Math.floor(retry.length / 2);
        await t.handler({ Records: retry.slice(0, half) });
        await t.handler({ Records: retry.slice(half) });
      }
      const extra = replay === 'larger' ? 100 : 0;
      for (const [i, m] of meters.entries()) {
        const expected =
          records.filter((_, j) => j % 3 === i).reduce((s, _, k) => s + (k * 3 + i + 1), 0) + extra;
        expect((await t.meters.get(m.meter.id))?.value, `${replay} user ${users[i]}`).toBe(
          expected,
        );
        expect((await t.meters.get(m.meter.id))?.meterMetaData.recordCount).toBe(
          10 + (extra ? 1 : 0),
        );
      }
    }
  });

  it('counts a batch that comes out of sequence order, with a record repeated, exactly once', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('a');
    const { meter: other } = await t.meterFor('b');
    const records = Array.from({ length: 12 }, (_, i) => usage(i % 3 === 2 ? 'b' : 'a', i + 1));
    const ordered = kinesisEvent(records).Records;
    // Reversed, and the fourth record (user a, value 4) delivered twice.
    const shuffled = [...ordered].reverse();
    shuffled.splice(5, 0, ordered[3] as (typeof ordered)[number]);
    const expectedA = records.reduce((sum, _, i) => (i % 3 === 2 ? sum : sum + i + 1), 0);
    const expectedB = records.reduce((sum, _, i) => (i % 3 === 2 ? sum + i + 1 : sum), 0);

    expect((await t.handler({ Records: shuffled })).batchItemFailures).toEqual([]);
    // A replay, in order this time, and the first half again: nothing more is counted.
    await t.handler({ Records: ordered });
    await t.handler({ Records: shuffled.slice(0, 6) });
    expect((await t.meters.get(meter.id))?.value).toBe(expectedA);
    expect((await t.meters.get(meter.id))?.meterMetaData.recordCount).toBe(8);
    expect((await t.meters.get(other.id))?.value).toBe(expectedB);
    // The meter's position is the highest sequence number it took, not the last one delivered.
    const seq = (await t.state(meter.id)).seq['shardId-000000000000'];
    expect(seq && BigInt(seq)).toBe(BigInt(ordered[10]?.kinesis.sequenceNumber as string));
  });

  it('counts a batch delivered twice once', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('a');
    const event = kinesisEvent(Array.from({ length: 50 }, (_, i) => usage('a', i)));
    await t.handler(event);
    await t.handler(event);
    await t.handler({ Records: event.Records.slice(10, 20) });
    expect((await t.meters.get(meter.id))?.value).toBe(1225);
  });

  it('keeps totals exact with two shards writing one meter at once, without conflicts', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('hot', { aggregation: { type: 'sum' } });
    const shards = ['shardId-000000000000', 'shardId-000000000001'];
    const results = await Promise.all(
      shards.map(async (shard) => {
        const failures: unknown[] = [];
        for (let batch = 0; batch < 15; batch++) {
          const response = await t.handler(
            kinesisEvent(
              Array.from({ length: 20 }, () => usage('hot', 0.5)),
              shard,
            ),
          );
          failures.push(...response.batchItemFailures);
        }
        return failures;
      }),
    );
    expect(results.flat()).toEqual([]);
    const view = await t.meters.get(meter.id);
    expect(view?.value).toBe(300);
    expect(view?.meterMetaData.recordCount).toBe(600);
    // 30 batches, 30 conditional updates of the meter: no retries between the shards.
    expect(t.counter.get('UpdateItemCommand')).toBe(30);
  });

  it('de-duplicates producer retries by event id within the window, across batches and shards', async () => {
    const t = await ingestUnderTest(
      streamConfig({ deduplication: { enabled: true, windowHours: 24 } }),
    );
    const { meter } = await t.meterFor('a');
    await t.handler(
      kinesisEvent([
        usage('a', 5, { eventId: 'e1' }),
        usage('a', 5, { eventId: 'e1' }),
        usage('a', 1, { eventId: 'e2' }),
      ]),
    );
    await t.handler(kinesisEvent([usage('a', 5, { eventId: 'e1' })]));
    await t.handler(
      kinesisEvent([usage('a', 5, { eventId: 'e1' }), usage('a', 2)], 'shardId-000000000001'),
    );
    const view = await t.meters.get(meter.id);
    expect(view?.value).toBe(8);
    expect(t.metrics.total('duplicates')).toBe(3);
  });

  it('de-duplicates per user: two customers whose records share an event id are both counted', async () => {
    const t = await ingestUnderTest(
      streamConfig({ deduplication: { enabled: true, windowHours: 24 } }),
    );
    const a = await t.meterFor('a');
    const b = await t.meterFor('b');
    await t.handler(kinesisEvent([usage('a', 5, { eventId: 'order-1' })]));
    await t.handler(kinesisEvent([usage('b', 7, { eventId: 'order-1' })]));
    expect((await t.meters.get(a.meter.id))?.value).toBe(5);
    expect((await t.meters.get(b.meter.id))?.value).toBe(7);
  });

  it('does not mistake a record that crashed after its de-duplication claim for its own duplicate', async () => {
    const t = await ingestUnderTest(
      streamConfig({ deduplication: { enabled: true, windowHours: 24 } }),
    );
    const { meter } = await t.meterFor('a');
    const event = kinesisEvent([
      usage('a', 5, { eventId: 'e1' }),
      usage('a', 7, { eventId: 'e2' }),
    ]);
    t.store.faults.push({ method: 'writeShardUsage', when: () => true });
    const first = await t.handler(event);
    expect(first.batchItemFailures).toHaveLength(1);
    expect((await t.meters.get(meter.id))?.value).toBe(0);
    await t.handler(event);
    expect((await t.meters.get(meter.id))?.value).toBe(12);
    expect(t.metrics.total('duplicates')).toBe(0);
  });

  it('lets a producer re-send a record whose first copy went to data correction', async () => {
    const t = await ingestUnderTest(
      streamConfig({ deduplication: { enabled: true, windowHours: 24 } }),
    );
    await t.handler(kinesisEvent([usage('late-customer', 5, { eventId: 'e1' })]));
    expect((await t.corrections.list({}, 10)).items.map((c) => c.reason)).toEqual(['NO_METER']);
    const { meter } = await t.meterFor('late-customer');
    await t.handler(kinesisEvent([usage('late-customer', 5, { eventId: 'e1' })]));
    expect((await t.meters.get(meter.id))?.value).toBe(5);
  });

  it('never meters a record on a retry that an earlier attempt put into data correction', async () => {
    const t = await ingestUnderTest();
    const a = await t.meterFor('a');
    const records = [usage('a', 1), usage('bob', 2), usage('a', 3)];
    const event = kinesisEvent(records);
    t.store.faults.push({ method: 'writeShardUsage', when: isMeter(a.meter.id) });
    const first = await t.handler(event);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.sequenceNumber }]);
    expect((await t.corrections.list({}, 10)).items.map((c) => c.reason)).toEqual(['NO_METER']);
    // bob gets a meter before Lambda retries the batch.
    const bob = await t.meterFor('bob');
    expect((await t.handler(event)).batchItemFailures).toEqual([]);
    expect((await t.meters.get(a.meter.id))?.value).toBe(4);
    expect((await t.meters.get(bob.meter.id))?.value).toBe(0);
    expect((await t.corrections.list({}, 10)).items).toHaveLength(1);
  });

  it('writes a meter once for 10,000 of its records in one batch', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('a');
    t.counter.reset();
    const response = await t.handler(
      kinesisEvent(Array.from({ length: 10_000 }, () => usage('a', 1))),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(t.counter.get('UpdateItemCommand')).toBe(1);
    expect(
      t.counter.get('PutItemCommand') +
        t.counter.get('TransactWriteItemsCommand') +
        t.counter.get('BatchWriteItemCommand'),
    ).toBe(0);
    expect((await t.meters.get(meter.id))?.value).toBe(10_000);
  });

  it('puts exactly one partial record per reached threshold per period into the outbox, also under retries', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('a', {
      capacity: 100,
      thresholds: [
        { name: 'half', percent: 50 },
        { name: 'ten', value: 10 },
      ],
    });
    const event = kinesisEvent([usage('a', 6), usage('a', 6)]);
    await t.handler(event);
    await t.handler(event);
    let state = await t.state(meter.id);
    expect(Object.values(state.outbox).map((r) => [r.recordType, r.threshold, r.value])).toEqual([
      ['partial', 'ten', 12],
    ]);
    expect(state.usage.fired).toEqual(['ten']);

    // The threshold write fails after the usage write: the next batch still fires it, once.
    t.store.faults.push({ method: 'addThresholdRecords', when: () => true });
    await t.handler(kinesisEvent([usage('a', 40)]));
    expect((await t.state(meter.id)).usage.fired).toEqual(['ten']);
    await t.handler(kinesisEvent([usage('a', 50)]));
    state = await t.state(meter.id);
    expect(state.usage.fired.sort()).toEqual(['capacity', 'half', 'ten']);
    const partials = Object.values(state.outbox).filter((r) => r.recordType === 'partial');
    expect(partials.map((r) => r.threshold).sort()).toEqual(['capacity', 'half', 'ten']);
    expect(new Set(partials.map((r) => r.recordId)).size).toBe(3);
  });

  it('never adds records of a new period to the old one when a reset runs meanwhile', async () => {
    const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };
    const t = await ingestUnderTest();
    const { meter, meterType } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T11:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T12:20:00Z');
    // A reset closes 11:10-12:00 between ingestion's read and its write; ingestion, which also
    // wanted to close it on the way, loses the race, reads again and does not close it twice.
    let resets = 0;
    t.store.faults.push({
      method: 'replaceMeter',
      when: () => true,
      before: async () => {
        resets++;
        const current = await t.state(meter.id);
        const closed = closePeriod(current, t.clock.now, meterType).state;
        expect(await t.store.replaceMeter(closed, current.version)).toBe(true);
      },
    });
    await t.handler(
      kinesisEvent([
        usage('a', 1, {}, '2025-01-15T11:30:00Z'),
        usage('a', 2, {}, '2025-01-15T12:10:00Z'),
      ]),
    );
    const state = await t.state(meter.id);
    expect(state.periodStart).toBe('2025-01-15T12:00:00.000Z');
    const finals = Object.values(state.outbox).filter((r) => r.recordType === 'final');
    expect(finals.map((r) => [r.periodStart, r.periodEnd, r.value])).toEqual([
      ['2025-01-15T11:10:00.000Z', '2025-01-15T12:00:00.000Z', 0],
    ]);
    expect(resets).toBe(1);
    // The 11:30 record arrived after its period was closed: counted now, marked late.
    const view = await t.meters.get(meter.id);
    expect(view?.value).toBe(3);
    expect(view?.meterMetaData.lateRecords).toBe(1);
  });

  it('loses no usage when the meter is deleted between ingestion reading and writing it', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('a');
    await t.handler(kinesisEvent([usage('a', 5)]));
    t.store.faults.push({
      method: 'writeShardUsage',
      when: () => true,
      before: async () => {
        await t.meters.retire(meter.id, t.clock.now);
      },
    });
    const response = await t.handler(kinesisEvent([usage('a', 1), usage('a', 2)]));
    expect(response.batchItemFailures).toEqual([]);
    // The meter took 5 before it was deleted; the two later records went to data correction.
    const corrections = await t.corrections.list({}, 10);
    expect(corrections.items.map((c) => c.reason)).toEqual(['NO_METER', 'NO_METER']);
    const retired = await t.table.client.send(
      new GetCommand({
        TableName: t.table.tableName,
        Key: itemKeys.retiredMeter(meter.id),
        ConsistentRead: true,
      }),
    );
    const slots = Object.values((retired.Item as MeterState).usage.shards);
    expect(slots.map((slot) => slot.agg.value)).toEqual(['5']);
  });

  it('counts records inside the grace period in their own period, and next-period records in the next', async () => {
    const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly, gracePeriodSeconds: 600 },
      new Date('2025-01-15T11:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T12:05:00Z');
    await t.handler(
      kinesisEvent([
        usage('a', 1, {}, '2025-01-15T11:59:00Z'),
        usage('a', 2, {}, '2025-01-15T12:03:00Z'),
      ]),
    );
    let view = await t.meters.get(meter.id);
    expect([view?.periodStart, view?.value]).toEqual(['2025-01-15T11:10:00.000Z', 1]);
    // After the grace period, ingestion closes the period on the way if the reset has not.
    t.clock.now = new Date('2025-01-15T12:11:00Z');
    await t.handler(kinesisEvent([usage('a', 4, {}, '2025-01-15T12:10:00Z')]));
    view = await t.meters.get(meter.id);
    expect([view?.periodStart, view?.periodEnd, view?.value]).toEqual([
      '2025-01-15T12:00:00.000Z',
      '2025-01-15T13:00:00.000Z',
      6,
    ]);
    const finals = Object.values((await t.state(meter.id)).outbox);
    expect(finals.map((r) => [r.recordType, r.periodStart, r.value])).toEqual([
      ['final', '2025-01-15T11:10:00.000Z', 1],
    ]);
  });
});
