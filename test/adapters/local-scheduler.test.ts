import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalTimerScheduler } from '../../shared/local/local-scheduler.js';
import type { PeriodEndTrigger } from '../../shared/ports/period-end-scheduler.js';

const trigger: PeriodEndTrigger = {
  meterId: '3f1c2b8e-8d4a-4c1e-9f57-2a6b1d0e7c93',
  periodEnd: '2024-02-01T00:00:00.000Z',
};
const start = new Date('2024-01-31T23:00:00.000Z');

let scheduler: LocalTimerScheduler | undefined;

beforeEach(() => {
  vi.useFakeTimers({ now: start });
});

afterEach(() => {
  scheduler?.stop();
  scheduler = undefined;
  vi.useRealTimers();
});

function create(
  onFire: (t: PeriodEndTrigger) => Promise<void>,
  onError: (error: unknown, failure: { attempt: number; willRetry: boolean }) => void = () => {},
  options: { retryDelayMs?: number; maxAttempts?: number } = {},
): LocalTimerScheduler {
  scheduler = new LocalTimerScheduler({ onFire, onError, ...options });
  return scheduler;
}

describe('LocalTimerScheduler', () => {
  it('fires at fireAt, not before, with the trigger, and then forgets the schedule', async () => {
    const fired: { trigger: PeriodEndTrigger; at: number }[] = [];
    const s = create(async (t) => {
      fired.push({ trigger: t, at: Date.now() });
    });
    const fireAt = new Date(start.getTime() + 60_000);

    await s.schedulePeriodEnd(trigger, fireAt);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);

    expect(fired).toEqual([{ trigger, at: fireAt.getTime() }]);
    expect(s.pending()).toEqual([]);
  });

  it('fires at once when fireAt is already past', async () => {
    const onFire = vi.fn(async () => {});
    const s = create(onFire);
    await s.schedulePeriodEnd(trigger, new Date(start.getTime() - 5_000));
    await vi.advanceTimersByTimeAsync(0);
    expect(onFire).toHaveBeenCalledTimes(1);
  });

  it('is idempotent by name: a second schedule of the same period is ignored', async () => {
    const onFire = vi.fn(async () => {});
    const s = create(onFire);

    await s.schedulePeriodEnd(trigger, new Date(start.getTime() + 1_000));
    await s.schedulePeriodEnd({ ...trigger }, new Date(start.getTime() + 500));
    await s.schedulePeriodEnd(
      { ...trigger, periodEnd: '2024-02-01T01:00:00+01:00' },
      new Date(start.getTime() + 2_000),
    );

    expect(s.pending()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(onFire).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onFire).toHaveBeenCalledTimes(1);
  });

  it('keeps different periods of one meter apart', async () => {
    const onFire = vi.fn(async () => {});
    const s = create(onFire);
    await s.schedulePeriodEnd(trigger, new Date(start.getTime() + 1_000));
    await s.schedulePeriodEnd(
      { ...trigger, periodEnd: '2024-03-01T00:00:00.000Z' },
      new Date(start.getTime() + 2_000),
    );
    await vi.advanceTimersByTimeAsync(2_000);
    expect(onFire).toHaveBeenCalledTimes(2);
  });

  it('cancel stops the firing; cancelling an unknown schedule is fine', async () => {
    const onFire = vi.fn(async () => {});
    const s = create(onFire);
    await s.schedulePeriodEnd(trigger, new Date(start.getTime() + 1_000));

    await s.cancelPeriodEnd(trigger);
    await s.cancelPeriodEnd(trigger);
    await vi.advanceTimersByTimeAsync(5_000);

    expect(onFire).not.toHaveBeenCalled();
    expect(s.pending()).toEqual([]);
  });

  it('chains timers for delays beyond the 2^31-1 ms setTimeout limit', async () => {
    const fired: number[] = [];
    const s = create(async () => {
      fired.push(Date.now());
    });
    const fireAt = new Date(start.getTime() + 60 * 24 * 60 * 60 * 1_000); // 60 days

    await s.schedulePeriodEnd(trigger, fireAt);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(fireAt.getTime() - Date.now() - 1);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);

    expect(fired).toEqual([fireAt.getTime()]);
  });

  it('retries a throwing callback after the delay, reporting each failure, at most maxAttempts', async () => {
    const onFire = vi.fn(async () => {
      throw new Error('store down');
    });
    const failures: { attempt: number; willRetry: boolean }[] = [];
    const s = create(
      onFire,
      (_e, f) => failures.push({ attempt: f.attempt, willRetry: f.willRetry }),
      {
        retryDelayMs: 1_000,
        maxAttempts: 3,
      },
    );

    await s.schedulePeriodEnd(trigger, new Date(start.getTime() + 100));
    await vi.advanceTimersByTimeAsync(100);
    expect(onFire).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(onFire).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(onFire).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(60_000);

    expect(onFire).toHaveBeenCalledTimes(3);
    expect(failures).toEqual([
      { attempt: 1, willRetry: true },
      { attempt: 2, willRetry: true },
      { attempt: 3, willRetry: false },
    ]);
    expect(s.pending()).toEqual([]);
  });

  it('stops retrying once a retry succeeds', async () => {
    let calls = 0;
    const s = create(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('transient');
      },
      () => {},
      { retryDelayMs: 10 },
    );
    await s.schedulePeriodEnd(trigger, start);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    expect(s.pending()).toEqual([]);
  });

  it('stop clears every timer', async () => {
    const onFire = vi.fn(async () => {});
    const s = create(onFire);
    await s.schedulePeriodEnd(trigger, new Date(start.getTime() + 1_000));
    await s.schedulePeriodEnd(
      { ...trigger, periodEnd: '2024-03-01T00:00:00.000Z' },
      new Date(start.getTime() + 2_000),
    );

    s.stop();
    await vi.advanceTimersByTimeAsync(10_000);

    expect(onFire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('LocalTimerScheduler with real timers', () => {
  it('fires after a short real delay and does not hold the process (unref)', async () => {
    vi.useRealTimers();
    const fired = new Promise<PeriodEndTrigger>((resolve) => {
      scheduler = new LocalTimerScheduler({
        onFire: async (t) => {
          resolve(t);
        },
      });
    });
    const before = Date.now();
    await scheduler?.schedulePeriodEnd(trigger, new Date(before + 30));
    const keepAlive = setTimeout(() => {}, 1_000);
    await expect(fired).resolves.toEqual(trigger);
    clearTimeout(keepAlive);
    expect(Date.now()).toBeGreaterThanOrEqual(before + 30);
  });
});
