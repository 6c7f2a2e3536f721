import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { firstPeriod, nextFiring, nextPeriod } from '../../shared/domain/schedule.js';
import { parseResetSchedule, validateResetSchedule } from '../../shared/domain/schedule-parser.js';
import type { ResetSchedule } from '../../shared/domain/types.js';

const NUM_RUNS = 1000;
/** The oracle comparison is the main property; it gets more runs. */
const ORACLE_RUNS = 3000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Asia/Kolkata',
  'America/Sao_Paulo',
  'Europe/Stockholm',
  'Etc/UTC',
] as const;

// ---------------------------------------------------------------------------------------------
// Schedules as syntax trees: rendered to the cron strings the implementation parses, and
// evaluated directly by the oracle, so the oracle shares no parsing or matching code with it.
// ---------------------------------------------------------------------------------------------

type Item =
  | { kind: 'star'; step: number | undefined }
  | { kind: 'value'; value: number; step: number | undefined }
  | { kind: 'range'; from: number; to: number; step: number | undefined }
  | { kind: 'last' };

type FieldTree = Item[];

interface ScheduleTree {
  minute: FieldTree;
  hour: FieldTree;
  day: FieldTree;
  month: FieldTree;
  weekday: FieldTree;
}

interface Bounds {
  min: number;
  max: number;
}

const BOUNDS: Record<keyof ScheduleTree, Bounds> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  day: { min: 1, max: 31 },
  month: { min: 1, max: 12 },
  weekday: { min: 0, max: 7 },
};

function renderItem(item: Item): string {
  const step = (s: number | undefined) => (s === undefined ? '' : `/${s}`);
  switch (item.kind) {
    case 'star':
      return `*${step(item.step)}`;
    case 'value':
      return `${item.value}${step(item.step)}`;
    case 'range':
      return `${item.from}-${item.to}${step(item.step)}`;
    case 'last':
      return 'L';
  }
}

function render(tree: ScheduleTree): ResetSchedule {
  const field = (items: FieldTree) => items.map(renderItem).join(',');
  return {
    minute: field(tree.minute),
    hour: field(tree.hour),
    day: field(tree.day),
    month: field(tree.month),
    weekday: field(tree.weekday),
  };
}

/** The values a field allows, by cron's definitions (weekday 7 is Sunday, 0). */
function valuesOf(items: FieldTree, { min, max }: Bounds, isWeekday = false): Set<number> {
  const values = new Set<number>();
  const add = (from: number, to: number, step: number) => {
    for (let v = from; v <= to; v += step) values.add(isWeekday && v === 7 ? 0 : v);
  };
  for (const item of items) {
    if (item.kind === 'star') add(min, max, item.step ?? 1);
    else if (item.kind === 'value')
      add(item.value, item.step === undefined ? item.value : max, item.step ?? 1);
    else if (item.kind === 'range') add(item.from, item.to, item.step ?? 1);
  }
  return values;
}

interface OracleSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  last: boolean;
  months: Set<number>;
  weekdays: Set<number>;
  either: boolean;
}

function oracleSchedule(tree: ScheduleTree): OracleSchedule {
  const restricted = (items: FieldTree) => items[0]?.kind !== 'star';
  return {
    minutes: valuesOf(tree.minute, BOUNDS.minute),
    hours: valuesOf(tree.hour, BOUNDS.hour),
    days: valuesOf(tree.day, BOUNDS.day),
    last: tree.day.some((item) => item.kind === 'last'),
    months: valuesOf(tree.month, BOUNDS.month),
    weekdays: valuesOf(tree.weekday, BOUNDS.weekday, true),
    either: restricted(tree.day) && restricted(tree.weekday),
  };
}

/** weekday: 0 = Sunday. */
function dateMatches(
  s: OracleSchedule,
  month: number,
  day: number,
  daysInMonth: number,
  weekday: number,
) {
  if (!s.months.has(month)) return false;
  const byDay = s.days.has(day) || (s.last && day === daysInMonth);
  const byWeekday = s.weekdays.has(weekday);
  return s.either ? byDay || byWeekday : byDay && byWeekday;
}

// ---------------------------------------------------------------------------------------------
// The oracle: walk wall-clock days (skipping days that do not match) and minutes, and turn
// each matching wall minute into an instant by brute force over whole-minute instants.
// ---------------------------------------------------------------------------------------------

function wallOf(instant: number, zone: string): number {
  const t = DateTime.fromMillis(instant, { zone });
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/**
 * The earliest whole-minute instant whose wall clock reads the given wall minute or later:
 * its first occurrence when it exists (once or twice), the end of the gap when it does not.
 */
function oracleInstant(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number {
  const target = Date.UTC(year, month - 1, day, hour, minute);
  // Luxon lands on one occurrence of an existing wall time, or after the gap for a missing one.
  const landed = DateTime.fromObject({ year, month, day, hour, minute }, { zone }).toMillis();
  if (wallOf(landed, zone) < target) throw new Error('oracle: luxon landed before the wall time');
  // Every DST shift in the zones under test is at most an hour, so 3 hours back is enough.
  const windowStart = landed - 3 * HOUR;
  if (wallOf(windowStart, zone) >= target) throw new Error('oracle: search window too small');
  // Without a transition in the window the clock runs straight: luxon's answer is the only one.
  if (wallOf(landed, zone) === target && !transitionBetween(zone, windowStart, landed)) {
    return landed;
  }
  let earliest = landed;
  for (let t = landed - MINUTE; t > windowStart; t -= MINUTE) {
    if (wallOf(t, zone) >= target) earliest = t;
  }
  return earliest;
}

/** Whether the zone's offset changes in (from, to]; true when outside the precomputed years. */
function transitionBetween(zone: string, from: number, to: number): boolean {
  if (from < FROM || to > TO) return true;
  return (TRANSITIONS.get(zone) ?? []).some((t) => t > from && t <= to);
}

const ORACLE_MAX_DAYS = 366 * 41; // Feb 29 on a given weekday can be 40 years apart.

function oracleNextFiring(after: number, s: OracleSchedule, zone: string): number {
  // Start at the clock's reading at `after`: the clock has already passed any earlier wall
  // minute, so by the rule such a minute fires at or before `after`.
  const start = DateTime.fromMillis(after, { zone });
  let { year, month, day } = start;
  let weekday = start.weekday % 7;
  let daysInMonth = DateTime.utc(year, month).daysInMonth ?? 0;
  for (let i = 0; i < ORACLE_MAX_DAYS; i++) {
    if (dateMatches(s, month, day, daysInMonth, weekday)) {
      const firstDay = i === 0;
      for (let hour = firstDay ? start.hour : 0; hour < 24; hour++) {
        if (!s.hours.has(hour)) continue;
        const fromMinute = firstDay && hour === start.hour ? start.minute : 0;
        for (let minute = fromMinute; minute < 60; minute++) {
          if (!s.minutes.has(minute)) continue;
          const instant = oracleInstant(zone, year, month, day, hour, minute);
          if (instant > after) return instant;
        }
      }
    }
    weekday = (weekday + 1) % 7;
    day += 1;
    if (day > daysInMonth) {
      day = 1;
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
      daysInMonth = DateTime.utc(year, month).daysInMonth ?? 0;
    }
  }
  throw new Error('oracle: no firing found');
}

/** Whether any calendar date in a full 400-year Gregorian cycle matches the date fields. */
function oracleCanFire(s: OracleSchedule): boolean {
  for (let year = 2000; year < 2400; year++) {
    for (const month of s.months) {
      const first = DateTime.utc(year, month, 1);
      const daysInMonth = first.daysInMonth ?? 0;
      for (let day = 1; day <= daysInMonth; day++) {
        if (dateMatches(s, month, day, daysInMonth, (first.weekday + day - 1) % 7)) return true;
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Generators.
// ---------------------------------------------------------------------------------------------

function valueItems(values: number[]): Item[] {
  return values.map((value) => ({ kind: 'value', value, step: undefined }));
}

/** Values where calendars and DST are interesting get extra weight. */
const FAVOURITES: Record<keyof ScheduleTree, number[]> = {
  minute: [0, 15, 30, 45, 59],
  hour: [0, 1, 2, 3, 23],
  day: [1, 28, 29, 30, 31],
  month: [2, 3, 4, 10, 11],
  weekday: [0, 6, 7],
};

function fieldArb(field: keyof ScheduleTree): fc.Arbitrary<FieldTree> {
  const { min, max } = BOUNDS[field];
  const value = fc.oneof(fc.integer({ min, max }), fc.constantFrom(...FAVOURITES[field]));
  const step = fc.integer({ min: 1, max });
  const optionalStep = fc.option(step, { nil: undefined });
  const items: fc.Arbitrary<Item>[] = [
    value.map((v): Item => ({ kind: 'value', value: v, step: undefined })),
    fc.tuple(value, step).map(([v, s]): Item => ({ kind: 'value', value: v, step: s })),
    fc
      .tuple(value, value, optionalStep)
      .map(
        ([a, b, s]): Item => ({ kind: 'range', from: Math.min(a, b), to: Math.max(a, b), step: s }),
      ),
  ];
  if (field === 'day') items.push(fc.constant<Item>({ kind: 'last' }));
  const item = fc.oneof(...items);
  const star = optionalStep.map((s): Item => ({ kind: 'star', step: s }));
  return fc.oneof(
    { weight: field === 'minute' || field === 'hour' ? 2 : 4, arbitrary: star.map((s) => [s]) },
    { weight: 4, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(star, fc.array(item, { minLength: 1, maxLength: 2 }))
        .map(([s, rest]) => [s, ...rest]),
    },
  );
}

const treeArb: fc.Arbitrary<ScheduleTree> = fc.record({
  minute: fieldArb('minute'),
  hour: fieldArb('hour'),
  day: fieldArb('day'),
  month: fieldArb('month'),
  weekday: fieldArb('weekday'),
});

/** Date fields near the edge of never firing: late days in short months. */
const calendarEdgeTreeArb: fc.Arbitrary<ScheduleTree> = fc.record({
  minute: fc.constant<FieldTree>([{ kind: 'value', value: 0, step: undefined }]),
  hour: fc.constant<FieldTree>([{ kind: 'value', value: 0, step: undefined }]),
  day: fc.oneof(
    fc.subarray([28, 29, 30, 31], { minLength: 1 }).map(valueItems),
    fc.constantFrom<FieldTree>(
      [{ kind: 'range', from: 29, to: 31, step: undefined }],
      [{ kind: 'value', value: 29, step: 2 }],
      [{ kind: 'value', value: 30, step: undefined }, { kind: 'last' }],
    ),
  ),
  month: fc.oneof(
    fc.subarray([2, 4, 6, 9, 11], { minLength: 1 }).map(valueItems),
    fc.subarray([1, 2, 3], { minLength: 1 }).map(valueItems),
  ),
  weekday: fc.oneof(
    fc.constant<FieldTree>([{ kind: 'star', step: undefined }]),
    fc.constant<FieldTree>([{ kind: 'star', step: 2 }]),
    fieldArb('weekday'),
  ),
});

const validTreeArb = treeArb.filter((tree) => validateResetSchedule(render(tree)).length === 0);

const FROM = Date.UTC(1995, 0, 1);
const TO = Date.UTC(2045, 0, 1);

/** The instants at which each zone's UTC offset changes between 1995 and 2045. */
function transitionsOf(zone: string): number[] {
  const offset = (t: number) => DateTime.fromMillis(t, { zone }).offset;
  const found: number[] = [];
  for (let t = FROM; t < TO; t += 7 * DAY) {
    if (offset(t) === offset(t + 7 * DAY)) continue;
    let lo = t;
    let hi = t + 7 * DAY;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (offset(mid) === offset(t)) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

const TRANSITIONS = new Map<string, number[]>(ZONES.map((zone) => [zone, transitionsOf(zone)]));

function instantArb(zone: string): fc.Arbitrary<number> {
  const transitions = TRANSITIONS.get(zone) ?? [];
  const anywhere = fc.integer({ min: FROM, max: TO });
  // Late February / early March, leap years or not.
  const aroundFebruary = fc
    .tuple(fc.integer({ min: 1995, max: 2044 }), fc.integer({ min: -4 * DAY, max: 3 * DAY }))
    .map(([year, delta]) => Date.UTC(year, 2, 1) + delta);
  const arbitraries = [
    { weight: 2, arbitrary: anywhere },
    { weight: 2, arbitrary: aroundFebruary },
  ];
  if (transitions.length > 0) {
    const nearTransition = fc
      .tuple(fc.constantFrom(...transitions), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
      .map(([t, delta]) => t + delta);
    const veryNearTransition = fc
      .tuple(fc.constantFrom(...transitions), fc.integer({ min: -150, max: 150 }))
      .map(([t, minutes]) => t + minutes * MINUTE);
    arbitraries.push({ weight: 4, arbitrary: nearTransition });
    arbitraries.push({ weight: 3, arbitrary: veryNearTransition });
  }
  // Whole minutes make "exactly on a firing" cases common.
  return fc
    .tuple(fc.oneof(...arbitraries), fc.boolean())
    .map(([t, wholeMinute]) => (wholeMinute ? Math.floor(t / MINUTE) * MINUTE : t));
}

/** Any valid schedule at any (biased) instant, in any zone under test. */
const genericCaseArb = fc
  .constantFrom(...ZONES)
  .chain((zone) =>
    fc.tuple(validTreeArb, instantArb(zone)).map(([tree, instant]) => ({ tree, zone, instant })),
  );

/**
 * A schedule aimed at one DST transition: its hours are those around the transition, its
 * date fields are `*` or include the transition's local date, and the instant is near it.
 * Random schedules rarely hit the one or two skipped or repeated hours a year.
 */
function transitionCaseArb(zone: string, transition: number) {
  const wall = (t: number) => DateTime.fromMillis(t, { zone });
  const hours = [
    ...new Set([-61, -31, -1, 0, 29, 59].map((m) => wall(transition + m * MINUTE).hour)),
  ];
  const local = wall(transition);
  const star: FieldTree = [{ kind: 'star', step: undefined }];
  const orStar = (field: keyof ScheduleTree, value: number) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(star) },
      {
        weight: 1,
        arbitrary: fc
          .array(fc.integer({ min: BOUNDS[field].min, max: BOUNDS[field].max }), { maxLength: 2 })
          .map((others) => valueItems([value, ...others])),
      },
    );
  const minute = fc.oneof(
    fieldArb('minute'),
    fc
      .subarray([0, 1, 15, 29, 30, 31, 44, 45, 46, 59], { minLength: 1, maxLength: 4 })
      .map(valueItems),
  );
  const tree = fc.record({
    minute,
    hour: fc.subarray(hours, { minLength: 1 }).map(valueItems),
    day: orStar('day', local.day),
    month: orStar('month', local.month),
    weekday: orStar('weekday', local.weekday % 7),
  });
  const instant = fc.oneof(
    fc.integer({ min: -36 * 60, max: 90 }).map((m) => transition + m * MINUTE),
    fc.integer({ min: -2 * DAY, max: 2 * HOUR }).map((ms) => transition + ms),
  );
  return fc
    .tuple(tree, instant)
    .filter(([t]) => validateResetSchedule(render(t)).length === 0)
    .map(([t, at]) => ({ tree: t, zone, instant: at }));
}

const ZONES_WITH_DST = ZONES.filter((zone) => (TRANSITIONS.get(zone) ?? []).length > 0);

const dstCaseArb = fc
  .constantFrom(...ZONES_WITH_DST)
  .chain((zone) =>
    fc
      .constantFrom(...(TRANSITIONS.get(zone) ?? []))
      .chain((transition) => transitionCaseArb(zone, transition)),
  );

/** Half generic, half aimed at DST transitions. */
const caseArb = fc.oneof(genericCaseArb, dstCaseArb);

const iso = (t: number) => new Date(t).toISOString();

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

describe('reset schedule properties', () => {
  it('nextFiring equals the brute-force wall-clock oracle', () => {
    fc.assert(
      fc.property(caseArb, ({ tree, zone, instant }) => {
        const schedule = render(tree);
        const actual = nextFiring(new Date(instant), schedule, zone).getTime();
        const expected = oracleNextFiring(instant, oracleSchedule(tree), zone);
        expect({ schedule, zone, after: iso(instant), next: iso(actual) }).toEqual({
          schedule,
          zone,
          after: iso(instant),
          next: iso(expected),
        });
      }),
      { numRuns: ORACLE_RUNS },
    );
  });

  it('consecutive periods are contiguous and strictly increasing', () => {
    fc.assert(
      fc.property(caseArb, ({ tree, zone, instant }) => {
        const schedule = parseResetSchedule(render(tree));
        let period = firstPeriod(new Date(instant), schedule, zone);
        expect(period.periodStart.getTime()).toBe(instant);
        for (let i = 0; i < 8; i++) {
          expect(period.periodEnd.getTime()).toBeGreaterThan(period.periodStart.getTime());
          expect(period.periodEnd.getTime() % MINUTE).toBe(0);
          const following = nextPeriod(period.periodEnd, period.periodEnd, schedule, zone);
          expect(following.periodStart.getTime()).toBe(period.periodEnd.getTime());
          period = following;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('nextPeriod after missed firings ends at the first firing after now', () => {
    const lateness = fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 2 * DAY }),
      fc.integer({ min: 0, max: 3 * 366 * DAY }),
    );
    fc.assert(
      fc.property(caseArb, lateness, ({ tree, zone, instant }, late) => {
        const schedule = render(tree);
        const oracle = oracleSchedule(tree);
        const previousEnd = oracleNextFiring(instant, oracle, zone);
        const now = previousEnd + late;
        const following = oracleNextFiring(previousEnd, oracle, zone);
        const expectedEnd = following > now ? following : oracleNextFiring(now, oracle, zone);
        const period = nextPeriod(new Date(previousEnd), new Date(now), schedule, zone);
        expect([iso(period.periodStart.getTime()), iso(period.periodEnd.getTime())]).toEqual([
          iso(previousEnd),
          iso(expectedEnd),
        ]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a well-formed schedule is rejected exactly when no calendar date can match it', () => {
    fc.assert(
      fc.property(fc.oneof(treeArb, calendarEdgeTreeArb), (tree) => {
        const issues = validateResetSchedule(render(tree));
        expect(issues.every((issue) => issue.field === undefined)).toBe(true);
        expect(issues.length === 0).toBe(oracleCanFire(oracleSchedule(tree)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('validation and parsing agree on arbitrary field text', () => {
    const text = fc.string({
      unit: fc.constantFrom(...'0123456789*,-/L x'.split('')),
      maxLength: 7,
    });
    fc.assert(
      fc.property(
        fc.record({ minute: text, hour: text, day: text, month: text, weekday: text }),
        (s) => {
          const valid = validateResetSchedule(s).length === 0;
          let parsed = true;
          try {
            parseResetSchedule(s);
          } catch {
            parsed = false;
          }
          expect(parsed).toBe(valid);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
