import { describe, expect, it } from 'vitest';
import { InMemoryPeriodEndScheduler } from '../../shared/adapters/in-memory/period-end-scheduler.js';
import { InMemoryRecordPublisher } from '../../shared/adapters/in-memory/record-publisher.js';
import { SchedulerUnavailableError } from '../../shared/domain/errors.js';
import type { PublishableRecord } from '../../shared/ports/record-publisher.js';

const meterId = '3f1c2b8e-8d4a-4c1e-9f57-2a6b1d0e7c93';

function record(n: number): PublishableRecord & Record<string, unknown> {
  return { recordId: `rec-${n}`, recordType: 'final', id: meterId, meterTypeId: 't', userId: 'u' };
}

describe('InMemoryPeriodEndScheduler', () => {
  it('keeps the first schedule of a period, lists due ones and deletes them when taken', async () => {
    const s = new InMemoryPeriodEndScheduler();
    const feb = { meterId, periodEnd: '2024-02-01T00:00:00.000Z' };
    const mar = { meterId, periodEnd: '2024-03-01T00:00:00.000Z' };

    await s.schedulePeriodEnd(mar, new Date('2024-03-01T00:05:00Z'));
    await s.schedulePeriodEnd(feb, new Date('2024-02-01T00:05:00Z'));
    await s.schedulePeriodEnd(feb, new Date('2024-02-09T00:00:00Z'));

    expect(s.scheduled().map((x) => [x.trigger, x.fireAt.toISOString()])).toEqual([
      [feb, '2024-02-01T00:05:00.000Z'],
      [mar, '2024-03-01T00:05:00.000Z'],
    ]);
    expect(s.due(new Date('2024-02-01T00:04:59Z'))).toEqual([]);
    expect(s.due(new Date('2024-02-01T00:05:00Z')).map((x) => x.trigger)).toEqual([feb]);
    expect(s.takeDue(new Date('2024-02-15T00:00:00Z')).map((x) => x.trigger)).toEqual([feb]);
    expect(s.scheduled()).toHaveLength(1);

    await s.cancelPeriodEnd(mar);
    await s.cancelPeriodEnd(mar);
    expect(s.scheduled()).toEqual([]);
  });

  it('throws SchedulerUnavailableError for injected failures', async () => {
    const s = new InMemoryPeriodEndScheduler();
    s.failNextCalls(1);
    const trigger = { meterId, periodEnd: '2024-02-01T00:00:00.000Z' };
    await expect(s.schedulePeriodEnd(trigger, new Date())).rejects.toBeInstanceOf(
      SchedulerUnavailableError,
    );
    await s.schedulePeriodEnd(trigger, new Date());
    expect(s.scheduled()).toHaveLength(1);
  });
});

describe('InMemoryRecordPublisher', () => {
  it('records what it accepts and reports injected record failures', async () => {
    const p = new InMemoryRecordPublisher();
    p.failRecords(['rec-2'], 'boom');

    const result = await p.publish([record(1), record(2)]);

    expect(result).toEqual({ sent: ['rec-1'], failed: [{ recordId: 'rec-2', error: 'boom' }] });
    expect(p.records).toEqual([record(1)]);
    p.clearFailures();
    await p.publish([record(2)]);
    expect(p.records.map((r) => r.recordId)).toEqual(['rec-1', 'rec-2']);
    expect(p.calls).toHaveLength(2);
  });

  it('fails the next N calls, reported or thrown', async () => {
    const p = new InMemoryRecordPublisher();
    p.failNextCalls(1);
    expect((await p.publish([record(1)])).failed).toHaveLength(1);
    p.failNextCalls(1, 'throw');
    await expect(p.publish([record(1)])).rejects.toThrow();
    expect((await p.publish([record(1)])).sent).toEqual(['rec-1']);
    expect(p.records).toHaveLength(1);
  });
});
