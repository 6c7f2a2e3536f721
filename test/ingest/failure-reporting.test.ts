/**
 * Infrastructure failures of a batch are seen (DESIGN.md 2.7): each is logged with its stage,
 * the records it held back and its cause, and those records are counted as failed, while the
 * shard retries them.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import type { CorrectionLog } from '../../shared/ports/data-correction-store.js';
import { ingestUnderTest, kinesisEvent, STREAM, type TestRecord } from '../support/ingest.js';

const SHARD = 'shardId-000000000000';

const usage = (userId: string, value: number): TestRecord => ({
  data: { userId, value, timestamp: '2025-01-15T10:00:00Z' },
});
const invalid = (): TestRecord => ({ data: null, raw: '{"userId":"a","value":' });

/** The data-correction store, failing the next call of `method` with `error`. */
function failingNextCall(method: keyof CorrectionLog, error: Error) {
  let armed = false;
  return {
    arm: () => {
      armed = true;
    },
    wrap: <T extends object>(store: T): T => {
      if (!(store instanceof DynamoDbDataCorrectionStore)) return store;
      return new Proxy(store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (property !== method || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            if (armed) {
              armed = false;
              throw error;
            }
            return value.apply(target, args);
          };
        },
      });
    },
  };
}

describe('ingestion: infrastructure failures are logged and counted', () => {
  it('logs a failed meter read with the user, its records and the cause, counts them failed, and a retry clears it', async () => {
    const t = await ingestUnderTest();
    const a = await t.meterFor('a');
    await t.meterFor('b');
    const records = [usage('a', 1), usage('b', 2), usage('a', 3), usage('b', 4), usage('b', 5)];
    const event = kinesisEvent(records);
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:8000');
    t.store.faults.push({ method: 'loadMeters', when: (args) => args[1] === 'b', error: cause });

    const response = await t.handler(event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.sequenceNumber }]);
    expect(t.failureLog).toEqual([
      {
        message: "ingest could not meter a user's records; the shard retries them",
        details: {
          stage: 'meter',
          userIds: ['b'],
          failures: 1,
          records: 3,
          error: cause,
          streamName: STREAM,
          shardId: SHARD,
          retryFrom: records[1]?.sequenceNumber,
        },
      },
    ]);
    expect(t.metrics.batches[0]?.counts).toMatchObject({ received: 5, metered: 2, failed: 3 });

    expect((await t.handler(event)).batchItemFailures).toEqual([]);
    expect(t.failureLog).toHaveLength(1);
    expect(t.metrics.batches[1]?.counts.failed).toBe(0);
    expect((await t.meters.get(a.meter.id))?.value).toBe(4);
  });

  it('counts a correction once, not again on each retry of the batch', async () => {
    const t = await ingestUnderTest();
    const a = await t.meterFor('a');
    const records = [invalid(), usage('a', 1), usage('nobody', 2)];
    t.store.faults.push({ method: 'writeShardUsage', when: () => true, times: 1 });
    const event = kinesisEvent(records);
    expect((await t.handler(event)).batchItemFailures).toHaveLength(1);
    expect((await t.handler(event)).batchItemFailures).toEqual([]);
    expect(await t.handler(event)).toEqual({ batchItemFailures: [] }); // a redelivery
    const corrected = t.metrics.batches.map((b) => b.counts.corrected);
    // Both corrections were stored by the first attempt, and counted there only.
    expect(corrected).toEqual([{ INVALID_RECORD: 1, NO_METER: 1 }, {}, {}]);
    expect((await t.corrections.list({}, 10)).items).toHaveLength(2);
    expect((await t.meters.get(a.meter.id))?.value).toBe(1);
  });

  it('logs one line per stage and batch however many users failed, naming them', async () => {
    const t = await ingestUnderTest();
    const users = ['u1', 'u2', 'u3'];
    for (const user of users) await t.meterFor(user);
    const records = users.flatMap((user) => [usage(user, 1), usage(user, 2)]);
    const first = new Error('connect ECONNREFUSED 127.0.0.1:8000');
    t.store.faults.push({ method: 'loadMeters', when: () => true, error: first, times: 3 });

    const response = await t.handler(kinesisEvent(records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.sequenceNumber }]);
    expect(t.failureLog).toHaveLength(1);
    const details = t.failureLog[0]?.details;
    expect(details).toMatchObject({ stage: 'meter', failures: 3, records: 6, error: first });
    expect([...(details?.userIds ?? [])].sort()).toEqual(users);
    expect(t.metrics.batches[0]?.counts.failed).toBe(6);
  });

  it('logs a failed look-up of earlier corrections: the whole batch is held back', async () => {
    const cause = new Error('ProvisionedThroughputExceededException');
    const fault = failingNextCall('highWaterMark', cause);
    const t = await ingestUnderTest(undefined, { wrap: fault.wrap });
    await t.meterFor('a');
    const records = [usage('a', 1), invalid(), usage('a', 2)];
    fault.arm();

    const response = await t.handler(kinesisEvent(records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.sequenceNumber }]);
    expect(t.failureLog.map((entry) => [entry.message, entry.details])).toEqual([
      [
        'ingest could not look up earlier data corrections; the shard retries the batch',
        {
          stage: 'correction-lookup',
          failures: 1,
          records: 3,
          error: cause,
          streamName: STREAM,
          shardId: SHARD,
          retryFrom: records[0]?.sequenceNumber,
        },
      ],
    ]);
    expect(t.metrics.total('failed')).toBe(3);
    expect(t.metrics.total('metered')).toBe(0);
  });

  it('logs failed correction puts with how many entries wait for the retry', async () => {
    const cause = new Error('socket hang up');
    const fault = failingNextCall('putAll', cause);
    const t = await ingestUnderTest(undefined, { wrap: fault.wrap });
    await t.meterFor('a');
    const records = [usage('a', 1), invalid(), usage('a', 2), invalid()];
    fault.arm();

    const response = await t.handler(kinesisEvent(records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.sequenceNumber }]);
    expect(t.failureLog.map((entry) => entry.details)).toEqual([
      {
        stage: 'store-corrections',
        failures: 1,
        records: 2,
        error: cause,
        streamName: STREAM,
        shardId: SHARD,
        retryFrom: records[1]?.sequenceNumber,
      },
    ]);
    expect(t.failureLog[0]?.message).toBe(
      'ingest could not store data corrections; the shard retries them',
    );
    expect(t.metrics.total('failed')).toBe(2);
  });

  it('holds a user back whose refused records cannot be stored, before any of its meters is written', async () => {
    const cause = new Error('socket hang up');
    const fault = failingNextCall('putAll', cause);
    const t = await ingestUnderTest(undefined, { wrap: fault.wrap });
    const a = await t.meterFor('a', { capacity: 1, capacityPolicy: 'reject' });
    // The second record would take the meter over its capacity: refused, and stored first.
    const records = [usage('a', 1), usage('a', 5)];
    fault.arm();

    const response = await t.handler(kinesisEvent(records));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.sequenceNumber }]);
    expect(t.failureLog.map((entry) => entry.details)).toMatchObject([
      { stage: 'meter', userIds: ['a'], records: 2, error: cause },
    ]);
    expect((await t.meters.get(a.meter.id))?.value).toBe(0);
    expect((await t.handler(kinesisEvent(records))).batchItemFailures).toEqual([]);
    expect((await t.meters.get(a.meter.id))?.value).toBe(1);
    expect((await t.corrections.list({}, 10)).items.map((c) => c.reason)).toEqual([
      'CAPACITY_EXCEEDED',
    ]);
  });
});
