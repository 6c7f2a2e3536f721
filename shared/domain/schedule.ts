/**
 * Reset schedules: cron-like `{ minute, hour, day, month, weekday }` strings (DOMAIN.md,
 * "Meter type fields"), evaluated on wall-clock time in an IANA time zone.
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
import type { ResetSchedule } from './types.js';

type ScheduleField = keyof ResetSchedule;

/** One problem found in a reset schedule; `field` is undefined for whole-schedule problems. */
export interface ScheduleIssue {
  field: ScheduleField | undefined;
  message: string;
}

/** Thrown when a reset schedule is malformed or can never fire. */
export class InvalidScheduleError extends Error {
  override readonly name = 'InvalidScheduleError';
  /** The field at fault (the first, when several are), or undefined for the whole schedule. */
  readonly field: ScheduleField | undefined;
  /** Every problem found, in field order. */
  readonly issues: readonly ScheduleIssue[];

  constructor(issues: readonly ScheduleIssue[], options?: { cause?: unknown }) {
    super(issues.map((issue) => issue.message).join('; ') || 'invalid reset schedule', options);
    this.field = issues[0]?.field;
    this.issues = issues;
  }
}

interface FieldSpec {
  min: number;
  max: number;
}

const FIELD_SPECS: Record<ScheduleField, FieldSpec> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  day: { min: 1, max: 31 },
  month: { min: 1, max: 12 },
  weekday: { min: 0, max: 7 },
};

const FIELD_ORDER: readonly ScheduleField[] = ['minute', 'hour', 'day', 'month', 'weekday'];

/** Longest a month can be, by month number (February counts its leap day). */
const MAX_DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

interface ParsedField {
  /** allowed[v] is true when value v is allowed (weekday 7 is folded into 0). */
  allowed: boolean[];
  /** `L` (last day of the month) is in the list; day only. */
  last: boolean;
  /** A field is unrestricted iff it starts with `*` (cron's rule for the day/weekday OR). */
  restricted: boolean;
}

/**
 * A reset schedule parsed once into lookup tables, for hot paths; build it with
 * `parseResetSchedule`. Its members other than `source` are internal.
 */
export class ParsedSchedule {
  /** The schedule this was parsed from. */
  readonly source: Readonly<ResetSchedule>;
  /** @internal nextMinute[m]: first allowed minute >= m, or -1 (index 60 is -1). */
  readonly nextMinute: readonly number[];
  /** @internal nextHour[h]: first allowed hour >= h, or -1 (index 24 is -1). */
  readonly nextHour: readonly number[];
  /** @internal nextMonth[m]: first allowed month >= m, or -1 (index 13 is -1). */
  readonly nextMonth: readonly number[];
  /** @internal days[d] for d in 1..31. */
  readonly days: readonly boolean[];
  /** @internal `L` is in the day field. */
  readonly lastDay: boolean;
  /** @internal weekdays[w] for w in 0..6, 0 = Sunday. */
  readonly weekdays: readonly boolean[];
  /** @internal Both day and weekday are restricted, so either may match (cron OR). */
  readonly dayOrWeekday: boolean;

  /** @internal Use `parseResetSchedule`. */
  constructor(source: ResetSchedule, fields: Record<ScheduleField, ParsedField>) {
    this.source = Object.freeze({ ...source });
    this.nextMinute = nextAllowedTable(fields.minute.allowed, 60);
    this.nextHour = nextAllowedTable(fields.hour.allowed, 24);
    this.nextMonth = nextAllowedTable(fields.month.allowed, 13);
    this.days = fields.day.allowed;
    this.lastDay = fields.day.last;
    this.weekdays = fields.weekday.allowed.slice(0, 7);
    this.dayOrWeekday = fields.day.restricted && fields.weekday.restricted;
  }
}

function nextAllowedTable(allowed: readonly boolean[], size: number): number[] {
  const table = new Array<number>(size + 1).fill(-1);
  let next = -1;
  for (let v = size - 1; v >= 0; v--) {
    if (allowed[v] === true) next = v;
    table[v] = next;
  }
  return table;
}

const NUMBER = /^\d{1,9}$/;

function parseField(
  field: ScheduleField,
  text: unknown,
): { parsed: ParsedField | undefined; issues: ScheduleIssue[] } {
  const issues: ScheduleIssue[] = [];
  const fail = (message: string) => issues.push({ field, message: `${field}: ${message}` });
  if (typeof text !== 'string') {
    fail('must be a string');
    return { parsed: undefined, issues };
  }
  if (text === '') {
    fail('must not be empty (use * for every value)');
    return { parsed: undefined, issues };
  }
  if (/\s/.test(text)) {
    fail(`whitespace is not allowed in "${text}"`);
    return { parsed: undefined, issues };
  }
  const { min, max } = FIELD_SPECS[field];
  const range = `${min}-${max}`;
  const allowed = new Array<boolean>(max + 1).fill(false);
  let last = false;

  const numberIn = (token: string): number | undefined => {
    if (!NUMBER.test(token)) {
      fail(`"${token}" is not a number`);
      return undefined;
    }
    const value = Number(token);
    if (value < min || value > max) {
      fail(`${token} is out of range ${range}`);
      return undefined;
    }
    return value;
  };

  for (const item of text.split(',')) {
    if (item === '') {
      fail(`empty list element in "${text}"`);
      continue;
    }
    if (item === 'L') {
      if (field === 'day') last = true;
      else fail('L (last day of the month) is only allowed in day');
      continue;
    }
    const parts = item.split('/');
    if (parts.length > 2) {
      fail(`"${item}" has more than one step`);
      continue;
    }
    const [base = '', stepText] = parts;
    let step = 1;
    if (stepText !== undefined) {
      if (!NUMBER.test(stepText) || Number(stepText) < 1 || Number(stepText) > max) {
        fail(`step "${stepText}" in "${item}" must be a whole number from 1 to ${max}`);
        continue;
      }
      step = Number(stepText);
    }
    let from: number | undefined;
    let to: number | undefined;
    if (base === '*') {
      from = min;
      to = max;
    } else if (base === 'L') {
      fail(`L cannot be combined with a step in "${item}"`);
      continue;
    } else if (base.includes('-')) {
      const bounds = base.split('-');
      if (bounds.length !== 2 || bounds[0] === '' || bounds[1] === '') {
        fail(`"${item}" is not a valid range (expected a-b, e.g. 1-5)`);
        continue;
      }
      if (bounds.includes('L')) {
        fail(`L cannot be used in a range in "${item}"`);
        continue;
      }
      from = numberIn(bounds[0] ?? '');
      to = numberIn(bounds[1] ?? '');
      if (from === undefined || to === undefined) continue;
      if (from > to) {
        fail(`range ${base} is reversed (the start must not be greater than the end)`);
        continue;
      }
    } else {
      from = numberIn(base);
      if (from === undefined) continue;
      // `5/10` means 5-max/10; a bare `5` is just 5.
      to = stepText === undefined ? from : max;
    }
    for (let v = from; v <= to; v += step) allowed[v] = true;
  }
  if (issues.length > 0) return { parsed: undefined, issues };
  if (field === 'weekday' && allowed[7] === true) allowed[0] = true;
  return { parsed: { allowed, last, restricted: !text.startsWith('*') }, issues };
}

function parseFields(schedule: ResetSchedule): {
  fields: Record<ScheduleField, ParsedField> | undefined;
  issues: ScheduleIssue[];
} {
  const issues: ScheduleIssue[] = [];
  if (typeof schedule !== 'object' || schedule === null) {
    return {
      fields: undefined,
      issues: [{ field: undefined, message: 'schedule must be an object' }],
    };
  }
  const parsed: Partial<Record<ScheduleField, ParsedField>> = {};
  for (const field of FIELD_ORDER) {
    const result = parseField(field, schedule[field]);
    issues.push(...result.issues);
    parsed[field] = result.parsed;
  }
  const { minute, hour, day, month, weekday } = parsed;
  if (!minute || !hour || !day || !month || !weekday) return { fields: undefined, issues };
  const fields = { minute, hour, day, month, weekday };
  const never = neverFiresReason(schedule, fields);
  if (never !== undefined)
    return { fields: undefined, issues: [{ field: undefined, message: never }] };
  return { fields, issues };
}

/**
 * Every weekday restriction can be met eventually (each calendar date falls on every weekday
 * within the 400-year Gregorian cycle), and every month has every weekday, so a schedule can
 * never fire only when the day field names no day that exists in any chosen month.
 */
function neverFiresReason(
  schedule: ResetSchedule,
  fields: Record<ScheduleField, ParsedField>,
): string | undefined {
  if (fields.day.restricted && fields.weekday.restricted) return undefined;
  if (fields.day.last) return undefined;
  for (let month = 1; month <= 12; month++) {
    if (fields.month.allowed[month] !== true) continue;
    const longest = MAX_DAYS_IN_MONTH[month] ?? 31;
    for (let day = 1; day <= longest; day++) if (fields.day.allowed[day] === true) return undefined;
  }
  return `schedule never fires: day "${schedule.day}" does not occur in month "${schedule.month}"`;
}

/** Lists what is wrong with a reset schedule (empty when it is valid and can fire). */
export function validateResetSchedule(schedule: ResetSchedule): ScheduleIssue[] {
  return parseFields(schedule).issues;
}

/** Parses a reset schedule once for repeated use; throws InvalidScheduleError when invalid. */
export function parseResetSchedule(schedule: ResetSchedule): ParsedSchedule {
  const { fields, issues } = parseFields(schedule);
  if (!fields) throw new InvalidScheduleError(issues);
  return new ParsedSchedule(schedule, fields);
}

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
