import { describe, expect, it } from 'vitest';
import { sweepDueMeters } from '../../shared/application/period-end.js';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import { ingestUnderTest, kinesisEvent, type TestRecord } from '../support/ingest.js';

const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };
const usage = (userId: string, value: number, timestamp: string): TestRecord => ({
  data: { userId, value, timestamp },
  arrivalTime: Date.parse(timestamp) + 1000,
});
const finals = (records: readonly unknown[]) =>
  (records as MeteredRecord[]).filter((r) => r.recordType === 'final');

describe('period end', () => {
  it('sends exactly one final record per period with a stable recordId, even when the schedule fires twice', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:30:00Z');
    await t.handler(
      kinesisEvent([usage('a', 2, '2025-01-15T10:20:00Z'), usage('a', 3, '2025-01-15T10:25:00Z')]),
    );
    t.clock.now = new Date('2025-01-15T11:00:00Z');
    expect(await t.flush(meter.id)).toMatchObject({ status: 'flushed', periodsClosed: 1, sent: 1 });
    expect(await t.flush(meter.id)).toMatchObject({ periodsClosed: 0, sent: 0 });
    t.clock.now = new Date('2025-01-15T11:00:30Z');
    await t.flush(meter.id);
    const sent = finals(t.publisher.records);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      recordType: 'final',
      id: meter.id,
      userId: 'a',
      value: 5,
      periodStart: '2025-01-15T10:10:00.000Z',
      periodEnd: '2025-01-15T11:00:00.000Z',
      meterKey: 'k',
      unit: 'units',
      deleteOnReset: false,
      meterMetaData: {
        recordCount: 2,
        firstUsageAt: '2025-01-15T10:20:00.000Z',
        lastUsageAt: '2025-01-15T10:25:00.000Z',
        lateRecords: 0,
      },
    });
    // The next period is open and registered with the scheduler.
    const view = await t.meters.get(meter.id);
    expect([view?.periodStart, view?.periodEnd, view?.value]).toEqual([
      '2025-01-15T11:00:00.000Z',
      '2025-01-15T12:00:00.000Z',
      0,
    ]);
    expect(t.scheduler.scheduled().map((s) => s.trigger.periodEnd)).toContain(
      '2025-01-15T12:00:00.000Z',
    );
  });

  it('sends a zero record for a period without usage', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T11:00:05Z');
    await t.flush(meter.id);
    expect(finals(t.publisher.records).map((r) => [r.value, r.meterMetaData.recordCount])).toEqual([
      [0, 0],
    ]);
  });

  it('after missed firings sends one record for the whole late period and ends the next at the nearest future firing', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:30:00Z');
    await t.handler(kinesisEvent([usage('a', 1, '2025-01-15T10:20:00Z')]));
    t.clock.now = new Date('2025-01-15T14:30:00Z');
    await t.flush(meter.id);
    expect(finals(t.publisher.records).map((r) => [r.periodStart, r.periodEnd, r.value])).toEqual([
      ['2025-01-15T10:10:00.000Z', '2025-01-15T11:00:00.000Z', 1],
    ]);
    const view = await t.meters.get(meter.id);
    expect([view?.periodStart, view?.periodEnd]).toEqual([
      '2025-01-15T11:00:00.000Z',
      '2025-01-15T15:00:00.000Z',
    ]);
  });

  it('keeps a record that failed to publish in the outbox and sends it, with the same recordId, on the retry', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T11:00:00Z');
    t.publisher.failNextCalls(1, 'report');
    await expect(t.flush(meter.id)).rejects.toThrow(/could not be sent/);
    const waiting = Object.values((await t.state(meter.id)).outbox);
    expect(waiting).toHaveLength(1);
    t.publisher.failNextCalls(1, 'throw');
    await expect(t.flush(meter.id)).rejects.toThrow();
    await t.flush(meter.id);
    expect(finals(t.publisher.records).map((r) => r.recordId)).toEqual([waiting[0]?.recordId]);
    expect(Object.keys((await t.state(meter.id)).outbox)).toEqual([]);
  });

  it('re-sends the same record after a crash between sending and removing it', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T11:00:00Z');
    const remove = t.periodEndStore.removeFromOutbox.bind(t.periodEndStore);
    t.periodEndStore.removeFromOutbox = async () => {
      throw new Error('crash');
    };
    await expect(t.flush(meter.id)).rejects.toThrow('crash');
    t.periodEndStore.removeFromOutbox = remove;
    await t.flush(meter.id);
    const sent = finals(t.publisher.records);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.recordId).toBe(sent[1]?.recordId);
    expect(sent[0]).toEqual(sent[1]);
  });

  it('loses nothing when records arrive while the reset runs', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T11:00:00Z');
    const batches = Array.from({ length: 10 }, (_, b) =>
      kinesisEvent(
        Array.from({ length: 10 }, (_, i) =>
          usage('a', 1, i % 2 ? '2025-01-15T10:59:00Z' : '2025-01-15T10:59:59Z'),
        ),
        `shardId-00000000000${b % 2}`,
      ),
    );
    const ingesting = (async () => {
      for (const batch of batches) await t.handler(batch);
    })();
    const flushing = (async () => {
      for (let i = 0; i < 5; i++) await t.flush(meter.id);
    })();
    await Promise.all([ingesting, flushing]);
    await t.flush(meter.id);
    const sentTotal = finals(t.publisher.records).reduce((sum, r) => sum + Number(r.value), 0);
    const open = (await t.meters.get(meter.id))?.value ?? 0;
    expect(sentTotal + Number(open)).toBe(100);
    expect(finals(t.publisher.records)).toHaveLength(1);
  });

  it('counts a record inside the grace period in its own period, and a later one as late in the current one', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly, gracePeriodSeconds: 300 },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T11:03:00Z');
    await t.flush(meter.id); // fires early: nothing is closed inside the grace period
    await t.handler(
      kinesisEvent([usage('a', 5, '2025-01-15T10:58:00Z'), usage('a', 7, '2025-01-15T11:01:00Z')]),
    );
    t.clock.now = new Date('2025-01-15T11:05:00Z');
    await t.flush(meter.id);
    await t.handler(kinesisEvent([usage('a', 11, '2025-01-15T10:59:00Z')]));
    expect(finals(t.publisher.records).map((r) => [r.periodStart, r.value])).toEqual([
      ['2025-01-15T10:10:00.000Z', 5],
    ]);
    const view = await t.meters.get(meter.id);
    expect([view?.value, view?.meterMetaData.lateRecords]).toEqual([18, 1]);
  });

  it('deletes a deleteOnReset meter once its final record is sent', async () => {
    const t = await ingestUnderTest();
    const { meter, meterType } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    await t.meters.update(meter.id, { deleteOnReset: true }, new Date('2025-01-15T10:20:00Z'));
    t.clock.now = new Date('2025-01-15T10:40:00Z');
    await t.handler(kinesisEvent([usage('a', 4, '2025-01-15T10:30:00Z')]));
    t.clock.now = new Date('2025-01-15T11:00:00Z');
    expect(await t.flush(meter.id)).toMatchObject({ deleted: true });
    expect(finals(t.publisher.records).map((r) => [r.value, r.deleteOnReset])).toEqual([[4, true]]);
    expect(await t.meters.get(meter.id)).toBeUndefined();
    expect((await t.meterTypes.get(meterType.id))?.meterType.numberOfMeters).toBe(0);
    expect(await t.flush(meter.id)).toMatchObject({ status: 'gone' });
  });

  it('after activeTo sends a last record only if the meter had usage in that period, then no more schedules', async () => {
    for (const withUsage of [true, false]) {
      const t = await ingestUnderTest();
      const { meter } = await t.meterFor(
        'a',
        { resetSchedule: hourly, activeTo: '2025-01-15T10:30:00Z' },
        new Date('2025-01-15T10:10:00Z'),
      );
      t.clock.now = new Date('2025-01-15T10:25:00Z');
      if (withUsage) await t.handler(kinesisEvent([usage('a', 4, '2025-01-15T10:20:00Z')]));
      t.clock.now = new Date('2025-01-15T11:00:00Z');
      const before = t.scheduler.scheduled().length;
      await t.flush(meter.id);
      expect(finals(t.publisher.records).map((r) => r.value)).toEqual(withUsage ? [4] : []);
      expect((await t.state(meter.id)).endedAt).toBe('2025-01-15T11:00:00.000Z');
      expect(t.scheduler.scheduled().length).toBe(before);
      t.clock.now = new Date('2025-01-15T13:00:00Z');
      await t.flush(meter.id);
      expect(finals(t.publisher.records)).toHaveLength(withUsage ? 1 : 0);
    }
  });

  it('sends the open period of a meter deleted through the API, then removes it for good', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:40:00Z');
    await t.handler(kinesisEvent([usage('a', 4, '2025-01-15T10:20:00Z')]));
    await t.meters.retire(meter.id, t.clock.now);
    const swept = await t.sweep();
    expect(swept).toMatchObject({ due: 1, flushed: 1, failed: [] });
    expect(finals(t.publisher.records).map((r) => [r.periodStart, r.periodEnd, r.value])).toEqual([
      ['2025-01-15T10:10:00.000Z', '2025-01-15T10:40:00.000Z', 4],
    ]);
    expect(await t.periodEndStore.findById(meter.id)).toBeUndefined();
    expect((await t.sweep()).due).toBe(0);
  });

  it.each([
    ['Europe/Stockholm', '2025-03-29T23:00:00.000Z', '2025-03-30T22:00:00.000Z', 23],
    ['Europe/Stockholm', '2025-10-25T22:00:00.000Z', '2025-10-26T23:00:00.000Z', 25],
    ['America/New_York', '2025-03-09T05:00:00.000Z', '2025-03-10T04:00:00.000Z', 23],
    ['America/New_York', '2025-11-02T04:00:00.000Z', '2025-11-03T05:00:00.000Z', 25],
  ])(
    'closes a daily period that spans a DST change in %s at local midnight',
    async (timezone, start, end, hours) => {
      const t = await ingestUnderTest();
      const daily = { minute: '0', hour: '0', day: '*', month: '*', weekday: '*' };
      const { meter } = await t.meterFor(
        'a',
        { resetSchedule: daily, timezone },
        new Date(Date.parse(start) - 3_600_000),
      );
      t.clock.now = new Date(start);
      await t.flush(meter.id);
      t.clock.now = new Date(end);
      await t.flush(meter.id);
      const record = finals(t.publisher.records).at(-1);
      expect([record?.periodStart, record?.periodEnd]).toEqual([start, end]);
      expect((Date.parse(end) - Date.parse(start)) / 3_600_000).toBe(hours);
    },
  );

  it('leaves an overdue meter to its schedule for the flexible window, then sweeps it', async () => {
    const t = await ingestUnderTest();
    await t.meterFor('a', { resetSchedule: hourly }, new Date('2025-01-15T10:10:00Z'));
    const sweep = () => sweepDueMeters({ ...t.periodEnd, sweepDelayMs: 15 * 60_000 });
    // Due at 11:00 (no grace); the schedule may run until 11:15.
    t.clock.now = new Date('2025-01-15T11:14:59Z');
    expect((await sweep()).due).toBe(0);
    expect(finals(t.publisher.records)).toEqual([]);
    t.clock.now = new Date('2025-01-15T11:15:01Z');
    expect(await sweep()).toMatchObject({ due: 1, flushed: 1 });
    expect(finals(t.publisher.records).map((r) => r.periodEnd)).toEqual([
      '2025-01-15T11:00:00.000Z',
    ]);
  });

  it('finds meters whose schedule was lost, and outboxes left waiting, with the sweeper', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'a',
      { resetSchedule: hourly, capacity: 10 },
      new Date('2025-01-15T10:10:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:30:00Z');
    await t.handler(kinesisEvent([usage('a', 12, '2025-01-15T10:20:00Z')]));
    expect((await t.sweep()).due).toBe(0);
    t.clock.now = new Date('2025-01-15T10:33:00Z');
    expect(await t.sweep()).toMatchObject({ due: 1, flushed: 1 });
    expect(t.publisher.records.map((r) => r.recordType)).toEqual(['partial']);
    t.clock.now = new Date('2025-01-15T11:00:01Z');
    expect(await t.sweep()).toMatchObject({ due: 1, flushed: 1 });
    expect(finals(t.publisher.records).map((r) => r.value)).toEqual([12]);
    expect(meter.id).toBeDefined();
  });
});
