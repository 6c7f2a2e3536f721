/**
 * The `unique` aggregation through ingestion, on DynamoDB Local: distinct values counted exactly
 * once per period (and per group) across batches, shards, retries and crashes, at most one claim
 * write per new value, and `maxDistinct` refusing new values with a data-correction reason.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CLAIMS_PER_WRITE } from '../../shared/domain/unique-values.js';
import {
  ingestUnderTest,
  kinesisEvent,
  nextSequenceNumber,
  streamConfig,
  type TestRecord,
} from '../support/ingest.js';

const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };
const SHARD_A = 'shardId-000000000000';
const SHARD_B = 'shardId-000000000001';

const seen = (
  deviceId: unknown,
  region = 'eu',
  timestamp = '2025-01-15T10:20:00Z',
): TestRecord => ({
  data: { userId: 'alice', deviceId, region, timestamp },
  sequenceNumber: nextSequenceNumber(),
});

async function uniqueMeter(
  options: { groupBy?: string[]; maxDistinct?: number; threshold?: number } = {},
) {
  const t = await ingestUnderTest(
    streamConfig({
      guidingRules: [{ name: 'all', category: 'DEFAULT', groupBy: options.groupBy ?? [] }],
    }),
  );
  const { meter } = await t.meterFor(
    'alice',
    {
      aggregation: {
        type: 'unique',
        field: 'deviceId',
        ...(options.maxDistinct ? { maxDistinct: options.maxDistinct } : {}),
      },
      resetSchedule: hourly,
      gracePeriodSeconds: 600,
      ...(options.threshold ? { thresholds: [{ name: 'many', value: options.threshold }] } : {}),
    },
    new Date('2025-01-15T10:00:00Z'),
  );
  t.clock.now = new Date('2025-01-15T10:30:00Z');
  return { t, meter };
}

describe('the unique aggregation through ingestion', () => {
  it('counts each value once per period across batches, shards and retries, and per group', async () => {
    const { t, meter } = await uniqueMeter({ groupBy: ['region'] });
    const first = kinesisEvent(
      [seen('d1'), seen('d2'), seen('d1'), seen('d1', 'us'), seen(7), seen('7')],
      SHARD_A,
    );
    expect((await t.handler(first)).batchItemFailures).toEqual([]);
    await t.handler(first); // a Lambda retry of the whole batch
    await t.handler(kinesisEvent([seen('d2'), seen('d3', 'us')], SHARD_B));
    await t.handler(kinesisEvent([seen('d3'), seen('d1')], SHARD_A));
    const view = await t.meters.get(meter.id);
    // d1, d2, 7, "7", d3: a number and a string are different values.
    expect(view).toMatchObject({ value: 5, meterMetaData: { recordCount: 10 } });
    expect(view?.groups).toEqual([
      { fields: { region: 'eu' }, value: 5, count: 8 },
      { fields: { region: 'us' }, value: 2, count: 2 },
    ]);

    t.clock.now = new Date('2025-01-15T11:10:00Z');
    await t.flush(meter.id);
    const final = t.publisher.records.find((r) => r.recordType === 'final');
    expect(final).toMatchObject({
      value: 5,
      meterMetaData: { recordCount: 10, aggregation: 'unique' },
    });
  });

  it('counts a value again in the next period, and one stamped after the end during grace in that period', async () => {
    const { t, meter } = await uniqueMeter();
    await t.handler(kinesisEvent([seen('d1'), seen('d2')]));
    t.clock.now = new Date('2025-01-15T11:05:00Z'); // in grace: the period is still open
    await t.handler(kinesisEvent([seen('d1', 'eu', '2025-01-15T11:01:00Z'), seen('d2')]));
    expect(await t.meters.get(meter.id)).toMatchObject({ value: 2 });
    t.clock.now = new Date('2025-01-15T11:11:00Z'); // grace over
    await t.flush(meter.id);
    expect(t.publisher.records.find((r) => r.recordType === 'final')).toMatchObject({ value: 2 });
    await t.handler(
      kinesisEvent([
        seen('d1', 'eu', '2025-01-15T11:20:00Z'),
        seen('d9', 'eu', '2025-01-15T11:21:00Z'),
      ]),
    );
    // d1 was already claimed for this period while it was the next one; d9 is new.
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 2,
      meterMetaData: { recordCount: 3 },
    });
  });

  it('writes one claim per new value, in transactions of at most 99, and none for values seen before', async () => {
    const { t, meter } = await uniqueMeter();
    const records = Array.from({ length: 1000 }, (_, i) => seen(`device-${i % 250}`));
    t.counter.reset();
    expect((await t.handler(kinesisEvent(records))).batchItemFailures).toEqual([]);
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 250,
      meterMetaData: { recordCount: 1000 },
    });
    // 250 claims need three writes of at most 99 claims plus the meter.
    expect(t.counter.get('TransactWriteItemsCommand')).toBe(Math.ceil(250 / MAX_CLAIMS_PER_WRITE));
    expect(t.counter.get('BatchGetItemCommand')).toBe(3); // 250 keys, 100 a call
    t.counter.reset();
    await t.handler(kinesisEvent(Array.from({ length: 100 }, (_, i) => seen(`device-${i}`))));
    expect(t.counter.get('TransactWriteItemsCommand')).toBe(0);
    expect(t.counter.get('PutItemCommand')).toBe(1); // the meter alone
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 250,
      meterMetaData: { recordCount: 1100 },
    });
  });

  it('loses and doubles nothing when a write fails after some runs of the batch were written', async () => {
    const { t, meter } = await uniqueMeter({ groupBy: ['region'] });
    const records = Array.from({ length: 300 }, (_, i) =>
      seen(`device-${i % 150}`, i < 150 ? 'eu' : 'us'),
    );
    let runs = 0;
    t.store.faults.push({ method: 'replaceMeterClaiming', when: () => ++runs === 3, times: 1 });
    const event = kinesisEvent(records);
    const first = await t.handler(event);
    expect(first.batchItemFailures.length).toBeGreaterThan(0);
    await t.handler(event); // the retry of the whole batch
    const view = await t.meters.get(meter.id);
    expect(view).toMatchObject({ value: 150, meterMetaData: { recordCount: 300 } });
    // Each device shows up in both regions (the first 150 records are eu, the rest us).
    expect(view?.groups.map((g) => g.value)).toEqual([150, 150]);
  });

  it('counts exactly while two shards write the same values at once', async () => {
    const { t, meter } = await uniqueMeter();
    const a = Array.from({ length: 200 }, (_, i) => seen(`d${i % 120}`));
    const b = Array.from({ length: 200 }, (_, i) => seen(`d${(i * 7) % 160}`));
    const results = await Promise.all([
      t.handler(kinesisEvent(a.slice(0, 100), SHARD_A)),
      t.handler(kinesisEvent(b.slice(0, 100), SHARD_B)),
      t.handler(kinesisEvent(a.slice(100), 'shardId-000000000002')),
      t.handler(kinesisEvent(b.slice(100), 'shardId-000000000003')),
    ]);
    // A shard that kept conflicting is retried, as Lambda would.
    for (const [k, result] of results.entries()) {
      if (result.batchItemFailures.length === 0) continue;
      const source = [a.slice(0, 100), b.slice(0, 100), a.slice(100), b.slice(100)][k] ?? [];
      const shard = [SHARD_A, SHARD_B, 'shardId-000000000002', 'shardId-000000000003'][k];
      expect((await t.handler(kinesisEvent(source, shard))).batchItemFailures).toEqual([]);
    }
    const distinct = new Set([...a, ...b].map((r) => (r.data as { deviceId: string }).deviceId));
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: distinct.size,
      meterMetaData: { recordCount: 400 },
    });
  });

  it('sends new values past maxDistinct to data correction and still takes values already counted', async () => {
    const { t, meter } = await uniqueMeter({ maxDistinct: 3 });
    await t.handler(
      kinesisEvent([seen('a'), seen('b'), seen('a'), seen('c'), seen('d'), seen('b'), seen('e')]),
    );
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 3,
      meterMetaData: { recordCount: 5 },
    });
    const corrections = (await t.corrections.list({}, 10)).items;
    expect(
      corrections.map((c) => [
        c.reason,
        JSON.parse(Buffer.from(c.data, 'base64').toString()).deviceId,
      ]),
    ).toEqual([
      ['UNIQUE_LIMIT_EXCEEDED', 'd'],
      ['UNIQUE_LIMIT_EXCEEDED', 'e'],
    ]);
    expect(corrections[0]?.message).toMatch(/maxDistinct/);
    expect(corrections[0]?.meterIds).toEqual([meter.id]);
  });

  it('keeps a record refused for maxDistinct in data correction when storing corrections fails after the meter was written', async () => {
    // The refusal is stored before the meter moves past the record: before, a retry found the
    // record behind the meter's position and neither counted nor corrected it.
    let failPuts = 1;
    const t = await ingestUnderTest(streamConfig(), {
      wrap: (store) => {
        if (!('putAll' in store)) return store;
        const corrections = store as unknown as { putAll: (...args: unknown[]) => Promise<void> };
        const putAll = corrections.putAll.bind(store);
        corrections.putAll = async (...args) => {
          if (failPuts-- > 0) throw new Error('injected: the correction store is unavailable');
          return putAll(...args);
        };
        return store;
      },
    });
    const { meter } = await t.meterFor(
      'alice',
      { aggregation: { type: 'unique', field: 'deviceId', maxDistinct: 2 }, resetSchedule: hourly },
      new Date('2025-01-15T10:00:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:30:00Z');
    // The record after `c` moves the meter's position past it.
    const event = kinesisEvent([seen('a'), seen('b'), seen('c'), seen('a')]);
    expect((await t.handler(event)).batchItemFailures).not.toEqual([]);
    expect((await t.handler(event)).batchItemFailures).toEqual([]); // the retry
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 2,
      meterMetaData: { recordCount: 3 },
    });
    const corrections = (await t.corrections.list({}, 10)).items;
    expect(corrections.map((c) => [c.reason, c.sequenceNumber])).toEqual([
      ['UNIQUE_LIMIT_EXCEEDED', event.Records[2]?.kinesis.sequenceNumber],
    ]);
  });

  it('takes a record another meter already took when a conflict leaves the period full, past maxDistinct', async () => {
    // Shard A's write of the unique meter meets a conflict (shard B filled it meanwhile) after
    // the increment meter took the record: refusing it now would count it in one and correct it too.
    const { t, meter } = await uniqueMeter({ maxDistinct: 1 });
    const { meter: counter } = await t.meterFor(
      'alice',
      { aggregation: { type: 'increment' }, resetSchedule: hourly },
      new Date('2025-01-15T10:00:00Z'),
    );
    t.store.faults.push({
      method: 'replaceMeterClaiming',
      when: () => true,
      before: async () => {
        await t.handler(kinesisEvent([seen('b')], SHARD_B));
      },
    });
    expect((await t.handler(kinesisEvent([seen('a')], SHARD_A))).batchItemFailures).toEqual([]);
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 2,
      meterMetaData: { recordCount: 2 },
    });
    expect(await t.meters.get(counter.id)).toMatchObject({ meterMetaData: { recordCount: 2 } });
    expect((await t.corrections.list({}, 10)).items).toEqual([]);
  });

  it('sends a record without a usable value to data correction, naming the field', async () => {
    const { t, meter } = await uniqueMeter();
    await t.handler(
      kinesisEvent([
        { data: { userId: 'alice', timestamp: '2025-01-15T10:20:00Z' } },
        seen({ nested: 1 }),
        seen(null),
        seen(['x']),
        seen('ok'),
      ]),
    );
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 1,
      meterMetaData: { recordCount: 1 },
    });
    const messages = (await t.corrections.list({}, 10)).items.map((c) => [c.reason, c.message]);
    expect(messages).toHaveLength(4);
    for (const [reason, message] of messages) {
      expect(reason).toBe('INVALID_RECORD');
      expect(message).toMatch(/^deviceId: /);
    }
  });

  it('pushes a threshold with the count right after the record that crossed it', async () => {
    const { t, meter } = await uniqueMeter({ threshold: 2 });
    await t.handler(kinesisEvent([seen('a'), seen('a'), seen('b'), seen('b'), seen('c')]));
    await t.flush(meter.id);
    const partial = t.publisher.records.find((r) => r.recordType === 'partial');
    expect(partial).toMatchObject({ value: 2, meterMetaData: { recordCount: 3 } });
  });
});
