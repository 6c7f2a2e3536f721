import { scheduleNameFor } from '../adapters/eventbridge-schedule-name.js';
import type { PeriodEndScheduler, PeriodEndTrigger } from '../ports/period-end-scheduler.js';

/** What {@link LocalTimerScheduler} reports when a firing fails. */
export interface LocalFireFailure {
  scheduleName: string;
  trigger: PeriodEndTrigger;
  /** 1 for the first attempt. */
  attempt: number;
  /** Whether another attempt follows after `retryDelayMs`. */
  willRetry: boolean;
}

/** Settings of {@link LocalTimerScheduler}. */
export interface LocalTimerSchedulerOptions {
  /** Runs the period reset; plays the part of the reset Lambda. */
  onFire: (trigger: PeriodEndTrigger) => Promise<void>;
  /** Receives every failed attempt; defaults to `console.error`. */
  onError?: (error: unknown, failure: LocalFireFailure) => void;
  /** Pause before retrying a failed firing; default 1,000 ms. */
  retryDelayMs?: number;
  /** Attempts per firing, the first included; default 5. */
  maxAttempts?: number;
  /** Clock in epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

interface Entry {
  name: string;
  trigger: PeriodEndTrigger;
  fireAt: number;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
}

// setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days), so longer waits
// are chained through intermediate wake-ups.
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * In-process {@link PeriodEndScheduler} for the local stack: Node timers, idempotent by
 * schedule name, deleted after a successful firing (like `ActionAfterCompletion: DELETE`),
 * retried a few times when the callback throws. Timers are unref'ed so they never keep the
 * process alive.
 */
export class LocalTimerScheduler implements PeriodEndScheduler {
  readonly #entries = new Map<string, Entry>();
  readonly #onFire: (trigger: PeriodEndTrigger) => Promise<void>;
  readonly #onError: (error: unknown, failure: LocalFireFailure) => void;
  readonly #retryDelayMs: number;
  readonly #maxAttempts: number;
  readonly #now: () => number;

  constructor(options: LocalTimerSchedulerOptions) {
    this.#onFire = options.onFire;
    this.#onError =
      options.onError ??
      ((error, failure) =>
        console.error(
          `Period-end schedule ${failure.scheduleName} failed (attempt ${failure.attempt})`,
          error,
        ));
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#now = options.now ?? Date.now;
  }

  /** Arms a timer for `fireAt` (at once if past); a pending schedule of the same name wins. */
  async schedulePeriodEnd(trigger: PeriodEndTrigger, fireAt: Date): Promise<void> {
    const fireAtMs = fireAt.getTime();
    if (Number.isNaN(fireAtMs)) throw new RangeError('fireAt is an invalid Date');
    const name = scheduleNameFor(trigger);
    if (this.#entries.has(name)) return;
    const entry: Entry = {
      name,
      trigger: { meterId: trigger.meterId, periodEnd: trigger.periodEnd },
      fireAt: fireAtMs,
      attempt: 0,
      timer: undefined,
    };
    this.#entries.set(name, entry);
    this.#arm(entry, fireAtMs - this.#now());
  }

  /** Clears the timer of this meter period, if any; a firing in progress is not retried. */
  async cancelPeriodEnd(trigger: PeriodEndTrigger): Promise<void> {
    const name = scheduleNameFor(trigger);
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#entries.delete(name);
  }

  /** Schedules not yet fired successfully, earliest first. */
  pending(): { trigger: PeriodEndTrigger; fireAt: Date }[] {
    return [...this.#entries.values()]
      .sort((a, b) => a.fireAt - b.fireAt)
      .map((e) => ({ trigger: { ...e.trigger }, fireAt: new Date(e.fireAt) }));
  }

  /** Clears every timer and forgets every schedule. */
  stop(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #arm(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    const timer = setTimeout(
      () => this.#wake(entry),
      Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS),
    );
    timer.unref();
    entry.timer = timer;
  }

  #wake(entry: Entry): void {
    entry.timer = undefined;
    if (this.#entries.get(entry.name) !== entry) return;
    const remaining = entry.fireAt - this.#now();
    if (remaining > 0) {
      this.#arm(entry, remaining);
      return;
    }
    void this.#fire(entry);
  }

  async #fire(entry: Entry): Promise<void> {
    entry.attempt += 1;
    try {
      await this.#onFire({ ...entry.trigger });
    } catch (error) {
      const current = this.#entries.get(entry.name) === entry;
      const willRetry = current && entry.attempt < this.#maxAttempts;
      this.#report(error, {
        scheduleName: entry.name,
        trigger: { ...entry.trigger },
        attempt: entry.attempt,
        willRetry,
      });
      if (willRetry) this.#arm(entry, this.#retryDelayMs);
      else if (current) this.#entries.delete(entry.name);
      return;
    }
    if (this.#entries.get(entry.name) === entry) this.#entries.delete(entry.name);
  }

  #report(error: unknown, failure: LocalFireFailure): void {
    try {
      this.#onError(error, failure);
    } catch {
      // A failing logger must not stop the retries.
    }
  }
}
