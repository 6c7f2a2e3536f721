/**
 * The name of a meter period's schedule. EventBridge Scheduler makes a repeated create of one
 * name a no-op; the in-memory and local schedulers key their schedules by the same name, so
 * they are idempotent exactly where EventBridge is.
 */
import { createHash } from 'node:crypto';
import type { PeriodEndTrigger } from '../ports/period-end-scheduler.js';

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
