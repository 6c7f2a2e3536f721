/**
 * The reset schedule in words (cronstrue) and its next period ends, computed by the service's
 * own schedule module, so the console shows exactly what the service will do.
 */
import cronstrue from 'cronstrue';
import { nextFiring } from '../../shared/domain/schedule.js';
import type { ResetSchedule } from './api/client.js';

/** "At 00:00, on day 1 of the month", or why the schedule cannot be read. */
export function scheduleInWords(schedule: ResetSchedule): string {
  const cron = [schedule.minute, schedule.hour, schedule.day, schedule.month, schedule.weekday];
  try {
    return cronstrue.toString(cron.join(' '), { use24HourTimeFormat: true });
  } catch (error) {
    return `cannot be read: ${String(error)}`;
  }
}

/** The next `count` firings after `from` in `timeZone`, or the service's reason it has none. */
export function nextPeriodEnds(
  schedule: ResetSchedule,
  timeZone: string,
  from: Date,
  count = 5,
): { ends: Date[]; error?: string } {
  const ends: Date[] = [];
  try {
    let after = from;
    for (let i = 0; i < count; i++) {
      after = nextFiring(after, schedule, timeZone);
      ends.push(after);
    }
    return { ends };
  } catch (error) {
    return { ends, error: error instanceof Error ? error.message : String(error) };
  }
}
