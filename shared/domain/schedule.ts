/**
 * When reset schedules fire: cron-like `{ minute, hour, day, month, weekday }` strings
 * (DOMAIN.md, "Meter type fields", parsed by `schedule-parser.ts`), evaluated on wall-clock
 * time in an IANA time zone, and the meter periods they bound.
 *
 * Pure: no clock, no environment. Every instant is an argument.
 *
 * Daylight saving, for a wall time matched by the schedule:
 * - it exists once: it fires at that instant;
 * - it exists twice (fall-back): it fires once, at its first occurrence;
 * - it does not exist (spring-forward gap): it fires at the first instant after the gap, so
 *   several gap wall times coincide and fire once.
 * Equivalently, a wall time W fires at the earliest instant whose wall clock reads W or later.
 */
import { IANAZone } from 'luxon';
import {
  InvalidScheduleError,
  MAX_DAYS_IN_MONTH,
  ParsedSchedule,
  parseResetSchedule,
} from './schedule-parser.js';
import type { ResetSchedule } from './types.js';

function toParsed(schedule: ResetSchedule | ParsedSchedule): ParsedSchedule {
  return schedule instanceof ParsedSchedule ? schedule : parseResetSchedule(schedule);
}

/** Fixed-offset spellings (`UTC+3`, `GMT-05:00`) that newer Intl versions may accept. */
const OFFSET_ZONE = /^(?:utc|gmt|ut)[+-]/i;
/** Region/City-style names: a letter first, then letters, digits, `_`, `+`, `-`, `/`. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/** True when `timeZone` is an IANA time-zone name (e.g. `Europe/Stockholm`, `Etc/UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || !ZONE_NAME.test(timeZone) || OFFSET_ZONE.test(timeZone)) {
    return false;
  }
  return IANAZone.create(timeZone).isValid;
}

function zoneFor(timeZone: string): IANAZone {
  if (!isValidTimeZone(timeZone)) throw new RangeError(`invalid IANA time zone: "${timeZone}"`);
  return IANAZone.create(timeZone);
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The Gregorian calendar repeats every 400 years: a schedule that can fire does so within them. */
const HORIZON_YEARS = 401;
/** Matching wall times that map at or before `after` are at most a fall-back overlap's minutes. */
const MAX_CANDIDATES = 10_000;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : (MAX_DAYS_IN_MONTH[month] ?? 31);
}

/** Day of week, 0 = Sunday (Sakamoto's method). */
function dayOfWeek(year: number, month: number, day: number): number {
  const offsets = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
  const y = month < 3 ? year - 1 : year;
  const m = offsets[month - 1] ?? 0;
  return (
    (((y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + m + day) % 7) + 7) % 7
  );
}

/** Wall-clock fields as "local milliseconds" (read as if UTC); years below 100 included. */
function wallTime(year: number, month: number, day: number, hour: number, minute: number) {
  const time = new Date(Date.UTC(2000, month - 1, day, hour, minute));
  time.setUTCFullYear(year, month - 1, day);
  return time.getTime();
}

function dayMatches(s: ParsedSchedule, year: number, month: number, day: number, dim: number) {
  const byDay = s.days[day] === true || (s.lastDay && day === dim);
  const byWeekday = s.weekdays[dayOfWeek(year, month, day)] === true;
  return s.dayOrWeekday ? byDay || byWeekday : byDay && byWeekday;
}

/**
 * The first wall-clock minute at or after `startWall` that the schedule matches, as
 * "local milliseconds" (wall fields read as if UTC); undefined past `lastYear`.
 * Skips whole months, days and hours that cannot match.
 */
function nextWallMatch(s: ParsedSchedule, startWall: number, lastYear: number): number | undefined {
  const start = new Date(startWall);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let day = start.getUTCDate();
  let hour = start.getUTCHours();
  let minute = start.getUTCMinutes();
  while (year <= lastYear) {
    const nextMonth = s.nextMonth[month] ?? -1;
    if (nextMonth === -1) {
      year += 1;
      month = 1;
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (nextMonth !== month) {
      month = nextMonth;
      day = 1;
      hour = 0;
      minute = 0;
    }
    const dim = daysInMonth(year, month);
    for (; day <= dim; day++, hour = 0, minute = 0) {
      if (!dayMatches(s, year, month, day, dim)) continue;
      let h = s.nextHour[hour] ?? -1;
      if (h === -1) continue;
      let m = h === hour ? (s.nextMinute[minute] ?? -1) : (s.nextMinute[0] ?? -1);
      if (m === -1) {
        h = s.nextHour[h + 1] ?? -1;
        if (h === -1) continue;
        m = s.nextMinute[0] ?? -1;
      }
      return wallTime(year, month, day, h, m);
    }
    month += 1;
    day = 1;
    hour = 0;
    minute = 0;
  }
  return undefined;
}

/**
 * The earliest instant whose wall clock in `zone` reads `wall` or later: the first
 * occurrence of an ambiguous wall time, the end of the gap for a skipped one.
 * Not luxon's DateTime.fromObject: that shifts gap times by the gap's length and picks an
 * ambiguous time's occurrence from an offset guessed at the current clock time.
 */
function wallToInstant(zone: IANAZone, wall: number): number {
  const offsetAt = (instant: number) => zone.offset(instant) * MINUTE_MS;
  const before = offsetAt(wall - DAY_MS);
  const after = offsetAt(wall + DAY_MS);
  const candidates = before === after ? [before] : [before, after];
  let earliest = Number.POSITIVE_INFINITY;
  for (const offset of candidates) {
    const instant = wall - offset;
    if (offsetAt(instant) === offset && instant < earliest) earliest = instant;
  }
  if (earliest === Number.POSITIVE_INFINITY) earliest = firstInstantReaching(zone, wall);
  return Math.ceil(earliest / MINUTE_MS) * MINUTE_MS;
}

/** The wall time is in a gap: the first whole minute at which the clock reads it or later. */
function firstInstantReaching(zone: IANAZone, wall: number): number {
  const reaches = (minute: number) => {
    const instant = minute * MINUTE_MS;
    return instant + zone.offset(instant) * MINUTE_MS >= wall;
  };
  const offsetBefore = zone.offset(wall - DAY_MS);
  const offsetAfter = zone.offset(wall + DAY_MS);
  let lo = Math.floor((wall - offsetAfter * MINUTE_MS) / MINUTE_MS);
  let hi = Math.ceil((wall - offsetBefore * MINUTE_MS) / MINUTE_MS);
  if (offsetBefore < offsetAfter && !reaches(lo) && reaches(hi)) {
    // One spring-forward transition between lo and hi: the clock only moves forward there.
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (reaches(mid)) hi = mid;
      else lo = mid;
    }
    return hi * MINUTE_MS;
  }
  // Several transitions within a day (historic data only): scan. No offset exceeds 18 hours.
  const last = Math.ceil((wall + 18 * HOUR_MS) / MINUTE_MS);
  for (let minute = Math.floor((wall - 18 * HOUR_MS) / MINUTE_MS); minute < last; minute++) {
    if (reaches(minute)) return minute * MINUTE_MS;
  }
  return last * MINUTE_MS;
}

/** The first firing of the schedule strictly after `after`, on wall-clock time in `timeZone`. */
export function nextFiring(
  after: Date,
  schedule: ResetSchedule | ParsedSchedule,
  timeZone: string,
): Date {
  const afterMs = after.getTime();
  if (!Number.isFinite(afterMs)) throw new RangeError('nextFiring: `after` is an invalid Date');
  const parsed = toParsed(schedule);
  const zone = zoneFor(timeZone);
  // A wall time before the clock reading at `after` fires at or before `after`, so start there.
  const afterWall = afterMs + zone.offset(afterMs) * MINUTE_MS;
  let wall = Math.floor(afterWall / MINUTE_MS) * MINUTE_MS;
  const lastYear = new Date(wall).getUTCFullYear() + HORIZON_YEARS;
  for (let i = 0; i < MAX_CANDIDATES; i++) {
    const match = nextWallMatch(parsed, wall, lastYear);
    if (match === undefined) break;
    const instant = wallToInstant(zone, match);
    // At or before `after` only when `after` lies in a fall-back overlap's second pass.
    if (instant > afterMs) return new Date(instant);
    wall = match + MINUTE_MS;
  }
  throw new InvalidScheduleError([
    {
      field: undefined,
      message: `schedule does not fire within ${HORIZON_YEARS} years after ${after.toISOString()} in ${timeZone}`,
    },
  ]);
}

/** The first period of a new meter: from its creation to the schedule's next firing. */
export function firstPeriod(
  createdAt: Date,
  schedule: ResetSchedule | ParsedSchedule,
  timeZone: string,
): { periodStart: Date; periodEnd: Date } {
  return {
    periodStart: new Date(createdAt.getTime()),
    periodEnd: nextFiring(createdAt, schedule, timeZone),
  };
}

/**
 * The period after one that ended at `previousPeriodEnd`: it ends at the next firing, or,
 * when firings were missed (that firing is not after `now`), at the nearest firing after `now`.
 */
export function nextPeriod(
  previousPeriodEnd: Date,
  now: Date,
  schedule: ResetSchedule | ParsedSchedule,
  timeZone: string,
): { periodStart: Date; periodEnd: Date } {
  const parsed = toParsed(schedule);
  let periodEnd = nextFiring(previousPeriodEnd, parsed, timeZone);
  if (periodEnd.getTime() <= now.getTime()) periodEnd = nextFiring(now, parsed, timeZone);
  return { periodStart: new Date(previousPeriodEnd.getTime()), periodEnd };
}
