import { createHash } from 'node:crypto';

/** The meter period whose end a schedule stands for; also the payload the reset receives. */
export interface PeriodEndTrigger {
  meterId: string;
  /** End of the period, ISO 8601 in UTC. */
  periodEnd: string;
}

/** Registers one future invocation of the period reset per meter period. */
export interface PeriodEndScheduler {
  /** Registers, idempotently, one invocation of the reset at `fireAt` for this meter period. */
  schedulePeriodEnd(trigger: PeriodEndTrigger, fireAt: Date): Promise<void>;
  /** Removes the schedule of this meter period; a missing schedule is not an error. */
  cancelPeriodEnd(trigger: PeriodEndTrigger): Promise<void>;
}

/** The scheduler service could not create or delete a schedule; the sweeper is the fallback. */
export class SchedulerUnavailableError extends Error {
  override readonly name = 'SchedulerUnavailableError';
  readonly scheduleName: string;
  readonly operation: 'schedule' | 'cancel';

  constructor(
    message: string,
    options: { scheduleName: string; operation: 'schedule' | 'cancel'; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.scheduleName = options.scheduleName;
    this.operation = options.operation;
  }
}

// EventBridge Scheduler names: 1..64 characters of [0-9a-zA-Z-_.].
const MAX_NAME_LENGTH = 64;
const NAME_CHARS = /^[0-9a-zA-Z_.-]+$/;

/**
 * Deterministic schedule name of a meter period, e.g. `pe-<meterId>-20240201T000000000Z`.
 * Instants are normalised, so two ISO spellings of one `periodEnd` give one name; a meter id
 * that would not fit falls back to a hashed name with a different prefix.
 */
export function scheduleNameFor(trigger: PeriodEndTrigger): string {
  const instant = new Date(trigger.periodEnd);
  if (Number.isNaN(instant.getTime())) {
    throw new RangeError(`periodEnd is not an ISO date-time: ${trigger.periodEnd}`);
  }
  const compactEnd = instant.toISOString().replace(/[^0-9TZ]/g, '');
  const readable = `pe-${trigger.meterId}-${compactEnd}`;
  if (NAME_CHARS.test(trigger.meterId) && readable.length <= MAX_NAME_LENGTH) {
    return readable;
  }
  const digest = createHash('sha256')
    .update(`${trigger.meterId}\u0000${compactEnd}`)
    .digest('hex')
    .slice(0, MAX_NAME_LENGTH - 'peh--'.length - compactEnd.length);
  return `peh-${digest}-${compactEnd}`;
}
