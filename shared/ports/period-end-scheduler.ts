/** The port of period-end schedules: one future reset per meter period. */

/** The meter period whose end a schedule stands for; also the payload the reset receives. */
export interface PeriodEndTrigger {
  meterId: string;
  /** End of the period, ISO 8601 in UTC. */
  periodEnd: string;
}

/**
 * Registers one future invocation of the period reset per meter period. Both methods throw
 * SchedulerUnavailableError (shared/domain/errors.ts) when the scheduler service fails.
 */
export interface PeriodEndScheduler {
  /** Registers, idempotently, one invocation of the reset at `fireAt` for this meter period. */
  schedulePeriodEnd(trigger: PeriodEndTrigger, fireAt: Date): Promise<void>;
  /** Removes the schedule of this meter period; a missing schedule is not an error. */
  cancelPeriodEnd(trigger: PeriodEndTrigger): Promise<void>;
}
