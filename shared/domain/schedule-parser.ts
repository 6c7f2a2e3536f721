/**
 * The grammar of reset schedules: cron-like `{ minute, hour, day, month, weekday }` strings
 * (DOMAIN.md, "Meter type fields"), checked field by field and parsed once into lookup
 * tables. When a schedule fires is `schedule.ts`'s business.
 *
 * Pure: no clock, no environment.
 */
import { ServiceError } from './errors.js';
import type { ResetSchedule } from './types.js';

type ScheduleField = keyof ResetSchedule;

/** One problem found in a reset schedule; `field` is undefined for whole-schedule problems. */
export interface ScheduleIssue {
  field: ScheduleField | undefined;
  message: string;
}

/** Thrown when a reset schedule is malformed or can never fire. */
export class InvalidScheduleError extends ServiceError {
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
export const MAX_DAYS_IN_MONTH: readonly number[] = [
  0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
];

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

/** The field being parsed, its bounds, and where its problems go. */
interface FieldContext extends FieldSpec {
  field: ScheduleField;
  fail: (message: string) => void;
}

/** Values `from`, `from + step`, ... up to `to`. */
interface Span {
  from: number;
  to: number;
  step: number;
}

/** Parses one field's text (a comma-separated list); every problem found becomes an issue. */
function parseField(
  field: ScheduleField,
  text: unknown,
): { parsed: ParsedField | undefined; issues: ScheduleIssue[] } {
  const issues: ScheduleIssue[] = [];
  const fail = (message: string) => {
    issues.push({ field, message: `${field}: ${message}` });
  };
  const problem = textProblem(text);
  if (typeof text !== 'string' || problem !== undefined) {
    fail(problem ?? 'must be a string');
    return { parsed: undefined, issues };
  }
  const context: FieldContext = { field, ...FIELD_SPECS[field], fail };
  const allowed = new Array<boolean>(context.max + 1).fill(false);
  let last = false;
  for (const item of text.split(',')) {
    const span = parseListItem(context, item, text);
    if (span === 'L') last = true;
    else if (span) for (let v = span.from; v <= span.to; v += span.step) allowed[v] = true;
  }
  if (issues.length > 0) return { parsed: undefined, issues };
  if (field === 'weekday' && allowed[7] === true) allowed[0] = true;
  return { parsed: { allowed, last, restricted: !text.startsWith('*') }, issues };
}

/** What makes a field's text unreadable as a whole, before its list is looked at. */
function textProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'must be a string';
  if (text === '') return 'must not be empty (use * for every value)';
  if (/\s/.test(text)) return `whitespace is not allowed in "${text}"`;
  return undefined;
}

/** One element of a field's list: `L`, or the values it allows; undefined after a failure. */
function parseListItem(context: FieldContext, item: string, text: string): Span | 'L' | undefined {
  const { fail } = context;
  if (item === '') {
    fail(`empty list element in "${text}"`);
    return undefined;
  }
  if (item === 'L') {
    if (context.field === 'day') return 'L';
    fail('L (last day of the month) is only allowed in day');
    return undefined;
  }
  const parts = item.split('/');
  if (parts.length > 2) {
    fail(`"${item}" has more than one step`);
    return undefined;
  }
  const [base = '', stepText] = parts;
  const step = stepText === undefined ? 1 : parseStep(context, item, stepText);
  if (step === undefined) return undefined;
  const bounds = parseBase(context, item, base, stepText !== undefined);
  return bounds && { ...bounds, step };
}

function parseStep(context: FieldContext, item: string, stepText: string): number | undefined {
  const step = Number(stepText);
  if (!NUMBER.test(stepText) || step < 1 || step > context.max) {
    context.fail(`step "${stepText}" in "${item}" must be a whole number from 1 to ${context.max}`);
    return undefined;
  }
  return step;
}

/** The part before a step: `*`, a range `a-b`, or a number. */
function parseBase(
  context: FieldContext,
  item: string,
  base: string,
  stepped: boolean,
): { from: number; to: number } | undefined {
  if (base === '*') return { from: context.min, to: context.max };
  if (base === 'L') {
    context.fail(`L cannot be combined with a step in "${item}"`);
    return undefined;
  }
  if (base.includes('-')) return parseRange(context, item, base);
  const from = numberIn(context, base);
  if (from === undefined) return undefined;
  // `5/10` means 5-max/10; a bare `5` is just 5.
  return { from, to: stepped ? context.max : from };
}

function parseRange(
  context: FieldContext,
  item: string,
  base: string,
): { from: number; to: number } | undefined {
  const bounds = base.split('-');
  if (bounds.length !== 2 || bounds[0] === '' || bounds[1] === '') {
    context.fail(`"${item}" is not a valid range (expected a-b, e.g. 1-5)`);
    return undefined;
  }
  if (bounds.includes('L')) {
    context.fail(`L cannot be used in a range in "${item}"`);
    return undefined;
  }
  // Both bounds are checked, so a range with two bad ends names both.
  const from = numberIn(context, bounds[0] ?? '');
  const to = numberIn(context, bounds[1] ?? '');
  if (from === undefined || to === undefined) return undefined;
  if (from > to) {
    context.fail(`range ${base} is reversed (the start must not be greater than the end)`);
    return undefined;
  }
  return { from, to };
}

function numberIn(context: FieldContext, token: string): number | undefined {
  if (!NUMBER.test(token)) {
    context.fail(`"${token}" is not a number`);
    return undefined;
  }
  const value = Number(token);
  if (value < context.min || value > context.max) {
    context.fail(`${token} is out of range ${context.min}-${context.max}`);
    return undefined;
  }
  return value;
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
