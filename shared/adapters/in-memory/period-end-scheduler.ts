import { SchedulerUnavailableError } from '../../domain/errors.js';
import type { PeriodEndScheduler, PeriodEndTrigger } from '../../ports/period-end-scheduler.js';
import { scheduleNameFor } from '../eventbridge-schedule-name.js';

/** A registered schedule as the in-memory scheduler holds it. */
export interface ScheduledPeriodEnd {
  name: string;
  trigger: PeriodEndTrigger;
  fireAt: Date;
}

/** In-memory {@link PeriodEndScheduler} with the semantics of the real one; the test fake. */
export class InMemoryPeriodEndScheduler implements PeriodEndScheduler {
  readonly #schedules = new Map<string, ScheduledPeriodEnd>();
  #failuresLeft = 0;

  /** Like a repeated CreateSchedule: an existing schedule of the same name is kept as is. */
  async schedulePeriodEnd(trigger: PeriodEndTrigger, fireAt: Date): Promise<void> {
    const name = scheduleNameFor(trigger);
    this.#maybeFail(name, 'schedule');
    if (this.#schedules.has(name)) return;
    this.#schedules.set(name, {
      name,
      trigger: { meterId: trigger.meterId, periodEnd: trigger.periodEnd },
      fireAt: new Date(fireAt.getTime()),
    });
  }

  /** Removes the schedule if present. */
  async cancelPeriodEnd(trigger: PeriodEndTrigger): Promise<void> {
    const name = scheduleNameFor(trigger);
    this.#maybeFail(name, 'cancel');
    this.#schedules.delete(name);
  }

  /** All registered schedules, earliest first. */
  scheduled(): ScheduledPeriodEnd[] {
    return [...this.#schedules.values()]
      .sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime())
      .map((s) => ({ ...s, trigger: { ...s.trigger }, fireAt: new Date(s.fireAt.getTime()) }));
  }

  /** Schedules whose `fireAt` is at or before `now`, earliest first; they stay registered. */
  due(now: Date): ScheduledPeriodEnd[] {
    return this.scheduled().filter((s) => s.fireAt.getTime() <= now.getTime());
  }

  /** Removes and returns the due schedules, as `ActionAfterCompletion: DELETE` does on firing. */
  takeDue(now: Date): ScheduledPeriodEnd[] {
    const due = this.due(now);
    for (const s of due) this.#schedules.delete(s.name);
    return due;
  }

  /** Makes the next `count` calls throw {@link SchedulerUnavailableError}. */
  failNextCalls(count: number): void {
    this.#failuresLeft = count;
  }

  /** Forgets all schedules and injected failures. */
  clear(): void {
    this.#schedules.clear();
    this.#failuresLeft = 0;
  }

  #maybeFail(name: string, operation: 'schedule' | 'cancel'): void {
    if (this.#failuresLeft <= 0) return;
    this.#failuresLeft -= 1;
    throw new SchedulerUnavailableError(`Injected failure for schedule ${name}`, {
      scheduleName: name,
      operation,
      cause: new Error('injected by InMemoryPeriodEndScheduler'),
    });
  }
}
