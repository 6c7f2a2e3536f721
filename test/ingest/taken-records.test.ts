/**
 * A record a meter already took is never sent to data correction afterwards (DESIGN.md 2.1:
 * never both): not when a later attempt of the batch meets another meter's limit, a reset, or a
 * deleted meter, and not when the Lambda crashed after the write and retries. Found by a review
 * of the unique aggregation, whose writes of a batch can come in several runs.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryIngestStore } from '../../shared/adapters/in-memory/ingest-store.js';
import { newCounts } from '../../shared/application/ingest.js';
import type { Entry } from '../../shared/application/ingest-decode.js';
import { meterUserRecords, type UserCorrection } from '../../shared/application/ingest-user.js';
import { closePeriod, type MeterState, periodTotals } from '../../shared/domain/meter-usage.js';
import { uniqueClaimKey } from '../../shared/domain/unique-values.js';
import { ingestUnderTest, kinesisEvent, streamConfig, type TestRecord } from '../support/ingest.js';
import { meterState, streamOf } from '../support/meter-states.js';

const SHARD = 'shardId-000000000000';
const JAN_31 = Date.parse('2025-01-31T23:00:00Z');

function entriesOf(count: number, value?: string): Entry[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = String(100 + i);
    const fields = { userId: 'u1', deviceId: `d${i}` };
    return {
      seq,
      record: { userId: 'u1', usageTime: JAN_31, fields, ...(value ? { value } : {}) },
      position: { shardId: SHARD, sequenceNumber: seq, data: new Uint8Array(), arrivalTime: 0 },
    } as unknown as Entry;
  });
}

/** Meters one user's records against the store, keeping what goes to data correction. */
function metering(store: InMemoryIngestStore) {
  const corrections: UserCorrection[] = [];
  const deps = {
    store,
    meterType: async () => undefined,
    storeCorrections: async (list: readonly UserCorrection[]) => {
      corrections.push(...list);
    },
  };
  const reasons = () => {
    const tally: Record<string, number> = {};
    for (const c of corrections) tally[c.reason] = (tally[c.reason] ?? 0) + 1;
    return tally;
  };
  return { deps, corrections, reasons };
}

/** The meter's period closed by the reset, as the reset would write it; its final record's value. */
function resetPeriod(store: InMemoryIngestStore, id: string, at: string): unknown {
  const current = store.byId.get(id) as MeterState;
  const rule = {
    resetSchedule: current.meterType.resetSchedule,
    timezone: current.meterType.timezone,
  };
  const closed = closePeriod(current, new Date(at), rule).state;
  store.byId.set(id, { ...closed, version: current.version + 1 });
  return Object.values(closed.outbox).map((record) => record.value)[0];
}

const unique = (maxDistinct = 100_000) => ({
  aggregation: { type: 'unique' as const, field: 'deviceId', maxDistinct },
});

describe('records a meter already took stay out of data correction', () => {
  it('takes a record past maxDistinct when another meter took it before a conflict', async () => {
    const store = new InMemoryIngestStore();
    store.add(meterState({ id: 'V' }));
    store.add(meterState({ id: 'U', meterType: unique(1) }));
    const write = store.replaceMeterClaiming.bind(store);
    let first = true;
    store.replaceMeterClaiming = async (next, version, claims) => {
      if (first) {
        // Another shard counts U's one allowed value first: this write conflicts.
        first = false;
        const current = store.byId.get('U') as MeterState;
        const key = uniqueClaimKey('U', current.periodStart, '"other"');
        store.uniqueClaims.set(key, { key, meterId: 'U', periodStart: '', expiresAt: 0 });
        const slot = {
          agg: { ...periodTotals('unique', current.usage).agg, value: '1', count: 1 },
          late: 0,
        };
        store.byId.set('U', {
          ...current,
          version: current.version + 1,
          usage: { shards: { other: slot }, fired: [] },
        });
      }
      return write(next, version, claims);
    };
    const m = metering(store);
    await meterUserRecords(
      m.deps,
      streamOf(),
      entriesOf(1, '5'),
      new Date('2025-01-31T23:30:00Z'),
      newCounts(1),
    );
    expect(m.corrections).toEqual([]);
    expect(periodTotals('sum', (store.byId.get('V') as MeterState).usage).agg.value).toBe('5');
    // One past maxDistinct: the record was already counted by V.
    expect(periodTotals('unique', (store.byId.get('U') as MeterState).usage).agg.value).toBe('2');
  });

  it('takes a record past capacity when another meter took it before the capacity filled', async () => {
    const t = await ingestUnderTest();
    const capped = (await t.meterFor('alice', { capacity: 2, capacityPolicy: 'reject' })).meter;
    const other = (await t.meterFor('alice', { aggregation: { type: 'max' } })).meter;
    const used = (value: number): TestRecord => ({
      data: { userId: 'alice', value, timestamp: '2025-01-15T10:20:00Z' },
    });
    // The capped meter's write conflicts: another shard fills its capacity first.
    t.store.faults.push({
      method: 'replaceMeter',
      when: () => true,
      times: 1,
      before: async () => {
        const filled = await t.handler(kinesisEvent([used(2)], 'shardId-000000000001'));
        expect(filled.batchItemFailures).toEqual([]);
      },
    });
    expect((await t.handler(kinesisEvent([used(1)]))).batchItemFailures).toEqual([]);
    expect((await t.corrections.list({}, 10)).items).toEqual([]);
    expect(await t.meters.get(capped.id)).toMatchObject({ value: 3 });
    expect(await t.meters.get(other.id)).toMatchObject({ meterMetaData: { recordCount: 2 } });
  });

  it('corrects only the records a reset left unwritten between the runs of a batch', async () => {
    const store = new InMemoryIngestStore();
    store.add(meterState({ id: 'U', meterType: unique() }));
    const write = store.replaceMeterClaiming.bind(store);
    let calls = 0;
    let final: unknown;
    store.replaceMeterClaiming = async (next, version, claims) => {
      if (++calls === 2) final = resetPeriod(store, 'U', '2025-02-01T01:00:00Z');
      return write(next, version, claims);
    };
    const m = metering(store);
    const stream = streamOf({ lateRecordPolicy: 'data-correction' });
    await meterUserRecords(
      m.deps,
      stream,
      entriesOf(150),
      new Date('2025-02-01T00:59:59Z'),
      newCounts(150),
    );
    expect(final).toBe(99); // the first run, counted in January
    expect(m.reasons()).toEqual({ LATE_RECORD: 51 });
  });

  it('corrects only the records a deletion left unwritten between the runs of a batch', async () => {
    const store = new InMemoryIngestStore();
    store.add(meterState({ id: 'U', meterType: unique() }));
    const write = store.replaceMeterClaiming.bind(store);
    let calls = 0;
    store.replaceMeterClaiming = async (next, version, claims) => {
      if (++calls === 2) {
        const current = store.byId.get('U') as MeterState;
        store.byId.set('U', {
          ...current,
          retiredAt: '2025-01-31T23:40:00.000Z',
          version: current.version + 1,
        });
      }
      return write(next, version, claims);
    };
    const m = metering(store);
    await meterUserRecords(
      m.deps,
      streamOf(),
      entriesOf(150),
      new Date('2025-01-31T23:30:00Z'),
      newCounts(150),
    );
    const retired = store.byId.get('U') as MeterState;
    expect(periodTotals('unique', retired.usage).agg.value).toBe('99');
    expect(m.reasons()).toEqual({ NO_METER: 51 });
  });

  it.each([
    ['a unique meter between its runs', 'unique', 99],
    ['a sum meter after its write', 'sum', 150],
  ] as const)(
    'after a crash in %s and a reset, the retry corrects only what was not taken',
    async (_, type, taken) => {
      const store = new InMemoryIngestStore();
      store.add(meterState({ id: 'M', meterType: type === 'unique' ? unique() : {} }));
      if (type === 'unique') {
        const write = store.replaceMeterClaiming.bind(store);
        let calls = 0;
        store.replaceMeterClaiming = async (next, version, claims) => {
          if (++calls === 2) throw new Error('the Lambda timed out');
          return write(next, version, claims);
        };
      } else {
        const write = store.writeShardUsage.bind(store);
        store.writeShardUsage = async (usage) => {
          await write(usage);
          throw new Error('the Lambda timed out after the write');
        };
      }
      const stream = streamOf({ lateRecordPolicy: 'data-correction' });
      const entries = entriesOf(150, type === 'sum' ? '1' : undefined);
      const crashed = metering(store);
      await expect(
        meterUserRecords(
          crashed.deps,
          stream,
          entries,
          new Date('2025-02-01T00:30:00Z'),
          newCounts(150),
        ),
      ).rejects.toThrow(/timed out/);
      expect(resetPeriod(store, 'M', '2025-02-01T01:00:00Z')).toBe(taken);
      const retry = metering(store);
      await meterUserRecords(
        retry.deps,
        stream,
        entries,
        new Date('2025-02-01T01:05:00Z'),
        newCounts(150),
      );
      expect(retry.reasons()).toEqual(taken === 150 ? {} : { LATE_RECORD: 150 - taken });
    },
  );

  it('stores a refusal before the write, so a retry after a crash finds it and does not lose the record', async () => {
    const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };
    let crash = true;
    const t = await ingestUnderTest(streamConfig({ lateRecordPolicy: 'data-correction' }), {
      wrap: <T extends object>(store: T) =>
        new Proxy(store, {
          get(target, property, receiver) {
            const member = Reflect.get(target, property, receiver);
            if (property !== 'writeShardUsage' || typeof member !== 'function') return member;
            return async (...args: unknown[]) => {
              const result = await member.apply(target, args);
              if (crash) {
                crash = false;
                throw new Error('the Lambda timed out after the write');
              }
              return result;
            };
          },
        }),
    });
    const { meter } = await t.meterFor(
      'alice',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:00:00Z'),
    );
    t.clock.now = new Date('2025-01-15T11:01:00Z');
    await t.flush(meter.id); // January 15, 10:00–11:00 is closed
    const usage = (timestamp: string): TestRecord => ({
      data: { userId: 'alice', value: 1, timestamp },
    });
    const event = kinesisEvent([usage('2025-01-15T10:30:00Z'), usage('2025-01-15T11:00:30Z')]);
    expect((await t.handler(event)).batchItemFailures).toHaveLength(1);
    expect((await t.handler(event)).batchItemFailures).toEqual([]);
    expect((await t.corrections.list({}, 10)).items.map((c) => c.reason)).toEqual(['LATE_RECORD']);
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 1,
      meterMetaData: { recordCount: 1 },
    });
  });

  it("gives a refused record's event id back before storing it, so a producer's re-send counts after a crash", async () => {
    const t = await ingestUnderTest(
      streamConfig({ deduplication: { enabled: true, windowHours: 24 } }),
    );
    const { meter } = await t.meterFor('alice', { capacity: 1, capacityPolicy: 'reject' });
    const usage = (value: number, eventId: string): TestRecord => ({
      data: { userId: 'alice', value, eventId, timestamp: '2025-01-15T11:00:00Z' },
    });
    // The first write of the meter fails: the refused record is already stored by then.
    t.store.faults.push({ method: 'replaceMeter', when: () => true, times: 1 });
    const event = kinesisEvent([usage(1, 'e1'), usage(5, 'e2'), usage(0, 'e3')]);
    expect((await t.handler(event)).batchItemFailures).toHaveLength(1);
    expect((await t.handler(event)).batchItemFailures).toEqual([]);
    expect((await t.corrections.list({}, 10)).items.map((c) => c.reason)).toEqual([
      'CAPACITY_EXCEEDED',
    ]);
    // The producer fixes the refused record and sends it again, with its event id.
    expect((await t.handler(kinesisEvent([usage(0, 'e2')]))).batchItemFailures).toEqual([]);
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 1,
      meterMetaData: { recordCount: 3 },
    });
  });

  it('decides again a duplicate of a record refused after it claimed their event id', async () => {
    const t = await ingestUnderTest(
      streamConfig({ deduplication: { enabled: true, windowHours: 24 } }),
    );
    const { meter } = await t.meterFor('alice', unique(1));
    const seen = (deviceId: string, eventId: string): TestRecord => ({
      data: { userId: 'alice', deviceId, eventId, timestamp: '2025-01-15T11:00:00Z' },
    });
    await t.handler(kinesisEvent([seen('a', 'e0')]));
    // e1's first record brings a new value past maxDistinct 1; its duplicate brings a counted one.
    expect(
      (await t.handler(kinesisEvent([seen('b', 'e1'), seen('a', 'e1')]))).batchItemFailures,
    ).toEqual([]);
    expect((await t.corrections.list({}, 10)).items.map((c) => c.reason)).toEqual([
      'UNIQUE_LIMIT_EXCEEDED',
    ]);
    expect(await t.meters.get(meter.id)).toMatchObject({
      value: 1,
      meterMetaData: { recordCount: 2 },
    });
  });
});
