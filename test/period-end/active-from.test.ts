/**
 * Issue 15, defect 1: a meter of a type whose `activeFrom` lies ahead opens no period and sends
 * nothing before it; its first period starts at `activeFrom` (DOMAIN.md "Metered record").
 */
import { describe, expect, it } from 'vitest';
import { updateMeterType } from '../../shared/application/meter-types.js';
import { createMeter } from '../../shared/application/meters.js';
import { closePeriod } from '../../shared/domain/meter-usage.js';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import { LocalTimerScheduler } from '../../shared/local/local-scheduler.js';
import { ingestUnderTest, kinesisEvent } from '../support/ingest.js';
import { meterState } from '../support/meter-states.js';

const EVERY_MINUTE = { minute: '*', hour: '*', day: '*', month: '*', weekday: '*' };
const CREATED = new Date('2025-01-15T12:00:00.000Z');
const ACTIVE_FROM = '2025-01-16T00:00:00.000Z';

async function notYetActive() {
  const t = await ingestUnderTest();
  const made = await t.meterFor(
    'alice',
    { resetSchedule: EVERY_MINUTE, activeFrom: ACTIVE_FROM },
    CREATED,
  );
  return { t, ...made };
}

const sent = (records: readonly unknown[]) => records as MeteredRecord[];

describe('a meter of a type that is not active yet', () => {
  it('opens its first period at activeFrom, and is scheduled for the first reset after it', async () => {
    const { t, meter } = await notYetActive();
    expect(meter.periodStart).toBe(ACTIVE_FROM);
    expect(meter.periodEnd).toBe('2025-01-16T00:01:00.000Z');
    expect([meter.value, meter.meterMetaData.recordCount]).toEqual([0, 0]);
    expect(t.scheduler.scheduled().map((s) => [s.trigger.meterId, s.fireAt.toISOString()])).toEqual(
      [[meter.id, '2025-01-16T00:01:00.000Z']],
    );
  });

  it('sends nothing before activeFrom, then one final record per period from activeFrom on', async () => {
    const { t, meter } = await notYetActive();
    for (const at of ['2025-01-15T12:01:01Z', '2025-01-15T18:00:00Z', '2025-01-15T23:59:59Z']) {
      t.clock.now = new Date(at);
      await t.sweep();
      await t.flush(meter.id);
    }
    expect(t.publisher.records).toEqual([]);
    expect((await t.meters.get(meter.id))?.periodStart).toBe(ACTIVE_FROM);

    t.clock.now = new Date('2025-01-16T00:00:40Z');
    await t.handler(
      kinesisEvent([
        {
          data: { userId: 'alice', value: 4, timestamp: '2025-01-16T00:00:30Z' },
          arrivalTime: t.clock.now.getTime(),
        },
      ]),
    );
    t.clock.now = new Date('2025-01-16T00:01:01Z');
    await t.sweep();
    expect(
      sent(t.publisher.records).map((r) => [r.recordType, r.periodStart, r.periodEnd, r.value]),
    ).toEqual([['final', ACTIVE_FROM, '2025-01-16T00:01:00.000Z', 4]]);
  });

  it('puts records stamped before activeFrom into data correction as OUTSIDE_ACTIVE_WINDOW', async () => {
    const { t, meter } = await notYetActive();
    const response = await t.handler(
      kinesisEvent([{ data: { userId: 'alice', value: 4, timestamp: '2025-01-15T11:59:00Z' } }]),
    );
    expect(response.batchItemFailures).toEqual([]);
    const page = await t.corrections.list({ reason: 'OUTSIDE_ACTIVE_WINDOW' }, 10);
    expect(page.items.map((c) => c.meterIds)).toEqual([[meter.id]]);
    expect((await t.meters.get(meter.id))?.meterMetaData.recordCount).toBe(0);
  });

  it('sends nothing when deleted before activeFrom', async () => {
    const { t, meter } = await notYetActive();
    t.clock.now = new Date('2025-01-15T13:00:00Z');
    await t.meters.retire(meter.id, t.clock.now);
    await t.sweep();
    expect(t.publisher.records).toEqual([]);
    t.clock.now = new Date('2025-01-16T00:01:01Z');
    await t.sweep();
    expect(t.publisher.records).toEqual([]);
  });

  it('keeps the window it was created with when the type is changed; a new meter takes the new one', async () => {
    const { t, meter, meterType } = await notYetActive();
    const later = '2025-02-01T00:00:00.000Z';
    await updateMeterType(t.apiDeps, meterType.id, { activeFrom: later });
    const kept = await t.meters.get(meter.id);
    expect([kept?.activeFrom, kept?.periodStart]).toEqual([ACTIVE_FROM, ACTIVE_FROM]);
    const deps = { ...t.apiDeps, now: () => CREATED };
    const bob = await createMeter(deps, {
      meterKey: 'k',
      meterTypeId: meterType.id,
      userId: 'bob',
    });
    expect([bob.activeFrom, bob.periodStart, bob.periodEnd]).toEqual([
      later,
      later,
      '2025-02-01T00:01:00.000Z',
    ]);
  });

  it("arms the local stack's scheduler for the first reset after activeFrom too", async () => {
    const t = await ingestUnderTest();
    const fired: string[] = [];
    const scheduler = new LocalTimerScheduler({
      onFire: async (trigger) => {
        fired.push(trigger.meterId);
      },
      now: () => CREATED.getTime(),
    });
    try {
      const { meterType } = await t.meterFor('alice', {
        resetSchedule: EVERY_MINUTE,
        activeFrom: ACTIVE_FROM,
      });
      const deps = { ...t.apiDeps, scheduler, now: () => CREATED };
      const bob = await createMeter(deps, {
        meterKey: 'k',
        meterTypeId: meterType.id,
        userId: 'bob',
      });
      expect(scheduler.pending().map((p) => [p.trigger, p.fireAt.toISOString()])).toEqual([
        [{ meterId: bob.id, periodEnd: '2025-01-16T00:01:00.000Z' }, '2025-01-16T00:01:00.000Z'],
      ]);
      expect(fired).toEqual([]);
    } finally {
      scheduler.stop();
    }
  });

  it('starts a meter created after activeFrom at its creation, as before', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'alice',
      { resetSchedule: EVERY_MINUTE, activeFrom: '2025-01-01T00:00:00.000Z' },
      CREATED,
    );
    expect(meter.periodStart).toBe(CREATED.toISOString());
  });
});

describe('a meter whose open period lies before activeFrom (created before meters waited for it)', () => {
  const rule = { resetSchedule: EVERY_MINUTE, timezone: 'UTC' };
  const early = meterState({
    periodStart: '2025-01-15T12:00:00.000Z',
    periodEnd: '2025-01-15T12:01:00.000Z',
    meterType: { resetSchedule: EVERY_MINUTE, activeFrom: ACTIVE_FROM, gracePeriodSeconds: 0 },
  });

  it('closes it without a record and opens its next period at activeFrom', () => {
    const closed = closePeriod(early, new Date('2025-01-15T12:01:00Z'), rule);
    expect(closed.records).toEqual([]);
    expect([closed.state.periodStart, closed.state.periodEnd]).toEqual([
      ACTIVE_FROM,
      '2025-01-16T00:01:00.000Z',
    ]);
    expect(closed.state.outbox).toEqual({});
  });

  it('after activeFrom, closes the first active period with its record as usual', () => {
    const open = closePeriod(early, new Date('2025-01-15T12:01:00Z'), rule).state;
    const closed = closePeriod(open, new Date('2025-01-16T00:01:00Z'), rule);
    expect(closed.records.map((r) => [r.recordType, r.periodStart, r.value])).toEqual([
      ['final', ACTIVE_FROM, 0],
    ]);
    expect(closed.state.periodStart).toBe('2025-01-16T00:01:00.000Z');
  });
});
