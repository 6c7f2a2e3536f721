import { Settings } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  firstPeriod,
  isValidTimeZone,
  nextFiring,
  nextPeriod,
} from '../../shared/domain/schedule.js';
import {
  InvalidScheduleError,
  ParsedSchedule,
  parseResetSchedule,
  validateResetSchedule,
} from '../../shared/domain/schedule-parser.js';
import type { ResetSchedule } from '../../shared/domain/types.js';

const UTC = 'Etc/UTC';

/** Builds a schedule from a cron-ordered string: "minute hour day month weekday". */
function cron(text: string): ResetSchedule {
  const [minute = '', hour = '', day = '', month = '', weekday = ''] = text.split(' ');
  return { minute, hour, day, month, weekday };
}

/** The next `count` firings after `fromIso`, as ISO strings. */
function firings(
  schedule: ResetSchedule,
  fromIso: string,
  count: number,
  timeZone = UTC,
): string[] {
  const result: string[] = [];
  let after = new Date(fromIso);
  for (let i = 0; i < count; i++) {
    after = nextFiring(after, schedule, timeZone);
    result.push(after.toISOString());
  }
  return result;
}

function next(schedule: string, fromIso: string, timeZone = UTC): string {
  return nextFiring(new Date(fromIso), cron(schedule), timeZone).toISOString();
}

function messages(schedule: string): string[] {
  return validateResetSchedule(cron(schedule)).map((issue) => issue.message);
}

describe('reset schedule grammar', () => {
  it('* matches every value', () => {
    expect(firings(cron('* * * * *'), '2025-01-01T00:00:30Z', 3)).toEqual([
      '2025-01-01T00:01:00.000Z',
      '2025-01-01T00:02:00.000Z',
      '2025-01-01T00:03:00.000Z',
    ]);
  });

  it('a number matches that value only', () => {
    expect(firings(cron('7 * * * *'), '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-01-01T00:07:00.000Z',
      '2025-01-01T01:07:00.000Z',
    ]);
  });

  it('lists match each element', () => {
    expect(firings(cron('0 0 1,15 * *'), '2025-01-01T00:00:00Z', 3)).toEqual([
      '2025-01-15T00:00:00.000Z',
      '2025-02-01T00:00:00.000Z',
      '2025-02-15T00:00:00.000Z',
    ]);
  });

  it('ranges are inclusive', () => {
    expect(firings(cron('1-3 0 * * *'), '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-01T00:01:00.000Z',
      '2025-01-01T00:02:00.000Z',
      '2025-01-01T00:03:00.000Z',
      '2025-01-02T00:01:00.000Z',
    ]);
  });

  it('*/15 steps from the field minimum', () => {
    expect(firings(cron('*/15 * * * *'), '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-01T00:15:00.000Z',
      '2025-01-01T00:30:00.000Z',
      '2025-01-01T00:45:00.000Z',
      '2025-01-01T01:00:00.000Z',
    ]);
  });

  it('1-30/5 steps within the range', () => {
    const minutes = firings(cron('1-30/5 0 * * *'), '2025-01-01T00:00:00Z', 7).map((iso) =>
      iso.slice(11, 16),
    );
    expect(minutes).toEqual(['00:01', '00:06', '00:11', '00:16', '00:21', '00:26', '00:01']);
  });

  it('5/10 means 5 to the maximum, every 10', () => {
    const minutes = firings(cron('5/10 0 * * *'), '2025-01-01T00:00:00Z', 7).map((iso) =>
      iso.slice(11, 16),
    );
    expect(minutes).toEqual(['00:05', '00:15', '00:25', '00:35', '00:45', '00:55', '00:05']);
  });

  it('steps and lists combine, also on hours and months', () => {
    expect(firings(cron('0 */6 1 */3 *'), '2025-01-01T12:00:00Z', 3)).toEqual([
      '2025-01-01T18:00:00.000Z',
      '2025-04-01T00:00:00.000Z',
      '2025-04-01T06:00:00.000Z',
    ]);
    expect(firings(cron('*/20,7 0 1 1 *'), '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-01T00:07:00.000Z',
      '2025-01-01T00:20:00.000Z',
      '2025-01-01T00:40:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
  });

  it('the DOMAIN.md example: monthly on the 1st at midnight, meter created Jan 10', () => {
    const schedule = { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' };
    expect(firstPeriod(new Date('2025-01-10T00:00:00Z'), schedule, UTC)).toEqual({
      periodStart: new Date('2025-01-10T00:00:00Z'),
      periodEnd: new Date('2025-02-01T00:00:00Z'),
    });
  });
});

describe('L, month lengths and leap years', () => {
  it('L is the last day of February in leap and non-leap years', () => {
    expect(next('0 0 L 2 *', '2024-01-01T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    expect(next('0 0 L 2 *', '2025-01-01T00:00:00Z')).toBe('2025-02-28T00:00:00.000Z');
    expect(next('0 0 L 2 *', '2100-01-01T00:00:00Z')).toBe('2100-02-28T00:00:00.000Z');
    expect(next('0 0 L 2 *', '2000-01-01T00:00:00Z')).toBe('2000-02-29T00:00:00.000Z');
  });

  it('L is April 30', () => {
    expect(next('0 0 L 4 *', '2025-01-01T00:00:00Z')).toBe('2025-04-30T00:00:00.000Z');
  });

  it('L can be a list element', () => {
    expect(firings(cron('0 0 1,L * *'), '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-31T00:00:00.000Z',
      '2025-02-01T00:00:00.000Z',
      '2025-02-28T00:00:00.000Z',
      '2025-03-01T00:00:00.000Z',
    ]);
  });

  it('day 31 skips the months without one', () => {
    expect(firings(cron('0 0 31 * *'), '2025-01-31T00:00:00Z', 2)).toEqual([
      '2025-03-31T00:00:00.000Z',
      '2025-05-31T00:00:00.000Z',
    ]);
  });

  it('Feb 29 from 2097 is 2104 (2100 is not a leap year)', () => {
    expect(next('0 0 29 2 *', '2097-01-01T00:00:00Z')).toBe('2104-02-29T00:00:00.000Z');
  });

  it('Feb 29 on a Sunday, 40 years apart, is found quickly', () => {
    // Day and weekday restricted with a `*`-weekday would be OR; `*/7` keeps AND semantics.
    const schedule = cron('0 0 29 2 */7');
    expect(firings(schedule, '1690-01-01T00:00:00Z', 2)).toEqual([
      '1728-02-29T00:00:00.000Z',
      '1756-02-29T00:00:00.000Z',
    ]);
    const started = performance.now();
    for (let year = 1990; year < 2090; year++) {
      nextFiring(new Date(Date.UTC(year, 0, 1)), schedule, 'Europe/Stockholm');
    }
    expect((performance.now() - started) / 100).toBeLessThan(5);
  });
});

describe('day and weekday', () => {
  it('both restricted: either matches (cron OR)', () => {
    // 2025-01-03 and 2025-01-10 are Fridays; the 13th is a Monday.
    expect(firings(cron('0 0 13 * 5'), '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-03T00:00:00.000Z',
      '2025-01-10T00:00:00.000Z',
      '2025-01-13T00:00:00.000Z',
      '2025-01-17T00:00:00.000Z',
    ]);
  });

  it('only weekday restricted: weekday alone decides', () => {
    expect(firings(cron('0 0 * * 5'), '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-01-03T00:00:00.000Z',
      '2025-01-10T00:00:00.000Z',
    ]);
  });

  it('only day restricted: day alone decides', () => {
    expect(firings(cron('0 0 13 * *'), '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-01-13T00:00:00.000Z',
      '2025-02-13T00:00:00.000Z',
    ]);
  });

  it('a day field starting with * is unrestricted, so both must match (AND)', () => {
    // Odd days that are Fridays.
    expect(firings(cron('0 0 */2 * 5'), '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-03T00:00:00.000Z',
      '2025-01-17T00:00:00.000Z',
      '2025-01-31T00:00:00.000Z',
      '2025-02-07T00:00:00.000Z',
    ]);
  });

  it('weekday 7 and 0 are both Sunday', () => {
    const sundays = ['2025-01-05T00:00:00.000Z', '2025-01-12T00:00:00.000Z'];
    expect(firings(cron('0 0 * * 7'), '2025-01-01T00:00:00Z', 2)).toEqual(sundays);
    expect(firings(cron('0 0 * * 0'), '2025-01-01T00:00:00Z', 2)).toEqual(sundays);
    expect(firings(cron('0 0 * * 5-7'), '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-03T00:00:00.000Z',
      '2025-01-04T00:00:00.000Z',
      '2025-01-05T00:00:00.000Z',
      '2025-01-10T00:00:00.000Z',
    ]);
  });
});

describe('strictly after', () => {
  it('an instant exactly on a firing returns the following firing', () => {
    expect(next('0 0 1 * *', '2025-02-01T00:00:00.000Z')).toBe('2025-03-01T00:00:00.000Z');
  });

  it('an instant just before a firing returns that firing', () => {
    expect(next('0 0 1 * *', '2025-01-31T23:59:59.999Z')).toBe('2025-02-01T00:00:00.000Z');
  });

  it('an instant just after a firing skips it', () => {
    expect(next('* * * * *', '2025-01-01T00:00:00.001Z')).toBe('2025-01-01T00:01:00.000Z');
  });
});

describe('time zones and daylight saving', () => {
  it('evaluates on wall-clock time in the zone, including odd offsets', () => {
    expect(next('0 0 1 * *', '2025-01-10T00:00:00Z', 'Asia/Kolkata')).toBe(
      '2025-01-31T18:30:00.000Z',
    );
    // Chatham is +13:45 in (southern) summer and +12:45 in winter.
    expect(next('0 0 1 * *', '2025-01-10T00:00:00Z', 'Pacific/Chatham')).toBe(
      '2025-01-31T10:15:00.000Z',
    );
    expect(next('0 0 1 * *', '2025-06-10T00:00:00Z', 'Pacific/Chatham')).toBe(
      '2025-06-30T11:15:00.000Z',
    );
  });

  describe('America/New_York (gap 02:00-03:00 on 2024-03-10, 01:00-02:00 twice on 2024-11-03)', () => {
    const zone = 'America/New_York';

    it('a wall time in the gap fires at the end of the gap', () => {
      expect(next('30 2 * * *', '2024-03-10T05:00:00Z', zone)).toBe('2024-03-10T07:00:00.000Z');
      expect(next('30 2 * * *', '2024-03-10T07:00:00Z', zone)).toBe('2024-03-11T06:30:00.000Z');
    });

    it('several wall times in the gap (and the gap end itself) fire once', () => {
      expect(firings(cron('*/15 2,3 * * *'), '2024-03-10T06:00:00Z', 5, zone)).toEqual([
        '2024-03-10T07:00:00.000Z',
        '2024-03-10T07:15:00.000Z',
        '2024-03-10T07:30:00.000Z',
        '2024-03-10T07:45:00.000Z',
        '2024-03-11T06:00:00.000Z',
      ]);
    });

    it('a wall time that occurs twice fires once, at its first occurrence', () => {
      expect(next('30 1 * * *', '2024-11-03T04:00:00Z', zone)).toBe('2024-11-03T05:30:00.000Z');
      expect(next('30 1 * * *', '2024-11-03T05:30:00Z', zone)).toBe('2024-11-04T06:30:00.000Z');
      // From inside the second pass (01:10 EST) the repeated wall times are already past.
      expect(next('30 1 * * *', '2024-11-03T06:10:00Z', zone)).toBe('2024-11-04T06:30:00.000Z');
    });

    it('an every-minute schedule does not fire during the repeated hour', () => {
      expect(next('* * * * *', '2024-11-03T05:59:00Z', zone)).toBe('2024-11-03T07:00:00.000Z');
      expect(next('* * * * *', '2024-11-03T06:30:00Z', zone)).toBe('2024-11-03T07:00:00.000Z');
      expect(firings(cron('0 * * * *'), '2024-11-03T04:30:00Z', 3, zone)).toEqual([
        '2024-11-03T05:00:00.000Z',
        '2024-11-03T07:00:00.000Z',
        '2024-11-03T08:00:00.000Z',
      ]);
    });

    it('does not depend on the clock (luxon guesses ambiguous times from "now")', () => {
      const original = Settings.now;
      try {
        const answers = [Date.UTC(2024, 6, 1), Date.UTC(2024, 0, 1)].map((now) => {
          Settings.now = () => now;
          return next('30 1 * * *', '2024-11-03T04:00:00Z', zone);
        });
        expect(answers).toEqual(['2024-11-03T05:30:00.000Z', '2024-11-03T05:30:00.000Z']);
      } finally {
        Settings.now = original;
      }
    });
  });

  describe('Europe/Stockholm (gap 02:00-03:00 on 2024-03-31, 02:00-03:00 twice on 2024-10-27)', () => {
    const zone = 'Europe/Stockholm';

    it('gap', () => {
      expect(next('30 2 * * *', '2024-03-30T12:00:00Z', zone)).toBe('2024-03-31T01:00:00.000Z');
    });

    it('overlap', () => {
      expect(next('30 2 * * *', '2024-10-26T12:00:00Z', zone)).toBe('2024-10-27T00:30:00.000Z');
      expect(next('30 2 * * *', '2024-10-27T00:30:00Z', zone)).toBe('2024-10-28T01:30:00.000Z');
    });

    it('a monthly period across the spring change is an hour shorter', () => {
      const period = nextPeriod(
        new Date('2024-02-29T23:00:00Z'),
        new Date('2024-02-29T23:00:00Z'),
        cron('0 0 1 * *'),
        zone,
      );
      expect(period.periodEnd.toISOString()).toBe('2024-03-31T22:00:00.000Z');
    });
  });

  describe('Europe/London (gap 01:00-02:00 on 2024-03-31, 01:00-02:00 twice on 2024-10-27)', () => {
    const zone = 'Europe/London';

    it('gap', () => {
      expect(next('30 1 * * *', '2024-03-30T12:00:00Z', zone)).toBe('2024-03-31T01:00:00.000Z');
    });

    it('overlap', () => {
      expect(next('30 1 * * *', '2024-10-26T12:00:00Z', zone)).toBe('2024-10-27T00:30:00.000Z');
      expect(next('30 1 * * *', '2024-10-27T00:30:00Z', zone)).toBe('2024-10-28T01:30:00.000Z');
    });
  });

  describe('Australia/Lord_Howe (30-minute shifts: +10:30 and +11)', () => {
    const zone = 'Australia/Lord_Howe';

    it('gap 02:00-02:30 on 2024-10-06: gap times and 02:30 fire once, at 02:30', () => {
      expect(firings(cron('0,15,30,45 2 * * *'), '2024-10-05T15:00:00Z', 3, zone)).toEqual([
        '2024-10-05T15:30:00.000Z',
        '2024-10-05T15:45:00.000Z',
        '2024-10-06T15:00:00.000Z',
      ]);
    });

    it('01:30-02:00 twice on 2024-04-07: fires at the first occurrence only', () => {
      expect(next('45 1 * * *', '2024-04-06T12:00:00Z', zone)).toBe('2024-04-06T14:45:00.000Z');
      expect(next('45 1 * * *', '2024-04-06T14:45:00Z', zone)).toBe('2024-04-07T15:15:00.000Z');
    });
  });

  it('Pacific/Apia skipped 2011-12-30 entirely: that day fires once, at the next midnight', () => {
    // 2011-12-29 12:00 -10 is 22:00Z; the 30th's noon falls in the gap; the 31st is at +14.
    expect(firings(cron('0 12 * * *'), '2011-12-29T22:00:00Z', 2, 'Pacific/Apia')).toEqual([
      '2011-12-30T10:00:00.000Z',
      '2011-12-30T22:00:00.000Z',
    ]);
  });

  it('America/Sao_Paulo: a midnight schedule on a day that starts at 01:00', () => {
    // 2018-11-04 00:00 did not exist; the day began at 01:00 -02.
    expect(next('0 0 * * *', '2018-11-03T12:00:00Z', 'America/Sao_Paulo')).toBe(
      '2018-11-04T03:00:00.000Z',
    );
  });
});

describe('periods', () => {
  const monthly = cron('0 0 1 * *');

  it('firstPeriod starts at creation and ends at the next firing', () => {
    expect(firstPeriod(new Date('2025-02-01T00:00:00Z'), monthly, UTC)).toEqual({
      periodStart: new Date('2025-02-01T00:00:00Z'),
      periodEnd: new Date('2025-03-01T00:00:00Z'),
    });
  });

  it('nextPeriod starts at the previous end and ends at the next firing', () => {
    expect(
      nextPeriod(new Date('2025-02-01T00:00:00Z'), new Date('2025-02-01T00:00:05Z'), monthly, UTC),
    ).toEqual({
      periodStart: new Date('2025-02-01T00:00:00Z'),
      periodEnd: new Date('2025-03-01T00:00:00Z'),
    });
  });

  it('nextPeriod after missed firings ends at the nearest firing after now', () => {
    expect(
      nextPeriod(new Date('2025-02-01T00:00:00Z'), new Date('2025-04-15T09:00:00Z'), monthly, UTC),
    ).toEqual({
      periodStart: new Date('2025-02-01T00:00:00Z'),
      periodEnd: new Date('2025-05-01T00:00:00Z'),
    });
  });

  it('nextPeriod when now is exactly on the next firing moves past it', () => {
    expect(
      nextPeriod(new Date('2025-02-01T00:00:00Z'), new Date('2025-03-01T00:00:00Z'), monthly, UTC)
        .periodEnd,
    ).toEqual(new Date('2025-04-01T00:00:00Z'));
  });

  it('nextPeriod with now before the previous end ignores now', () => {
    expect(
      nextPeriod(new Date('2025-02-01T00:00:00Z'), new Date('2025-01-31T23:59:00Z'), monthly, UTC)
        .periodEnd,
    ).toEqual(new Date('2025-03-01T00:00:00Z'));
  });
});

describe('validateResetSchedule', () => {
  it('accepts valid schedules', () => {
    for (const text of [
      '0 0 1 * *',
      '* * * * *',
      '*/15 0-23/2 1,15,L 1-12 0-7',
      '5/10 3 L 2 *',
      '0 0 29 2 *',
      '0 0 31 2 1',
      '59 23 31 12 7',
    ]) {
      expect(validateResetSchedule(cron(text)), text).toEqual([]);
    }
  });

  it('reports out-of-range values naming the field', () => {
    expect(messages('75 * * * *')).toEqual(['minute: 75 is out of range 0-59']);
    expect(messages('0 24 * * *')).toEqual(['hour: 24 is out of range 0-23']);
    expect(messages('0 0 0 * *')).toEqual(['day: 0 is out of range 1-31']);
    expect(messages('0 0 32 * *')).toEqual(['day: 32 is out of range 1-31']);
    expect(messages('0 0 * 13 *')).toEqual(['month: 13 is out of range 1-12']);
    expect(messages('0 0 * 0 *')).toEqual(['month: 0 is out of range 1-12']);
    expect(messages('0 0 * * 8')).toEqual(['weekday: 8 is out of range 0-7']);
    expect(messages('0 0 * * 1-9')).toEqual(['weekday: 9 is out of range 0-7']);
  });

  it('reports non-numbers, including names', () => {
    expect(messages('x * * * *')).toEqual(['minute: "x" is not a number']);
    expect(messages('0 0 * JAN *')).toEqual(['month: "JAN" is not a number']);
    expect(messages('0 0 * * MON')).toEqual(['weekday: "MON" is not a number']);
    expect(messages('1a * * * *')).toEqual(['minute: "1a" is not a number']);
    expect(messages('-1 * * * *')).toEqual([
      'minute: "-1" is not a valid range (expected a-b, e.g. 1-5)',
    ]);
  });

  it('reports empty fields, empty list elements and whitespace', () => {
    expect(validateResetSchedule({ ...cron('0 0 1 * *'), minute: '' })).toEqual([
      { field: 'minute', message: 'minute: must not be empty (use * for every value)' },
    ]);
    expect(messages('1,,2 * * * *')).toEqual(['minute: empty list element in "1,,2"']);
    expect(messages('0 0 1, * *')).toEqual(['day: empty list element in "1,"']);
    expect(validateResetSchedule({ ...cron('0 0 1 * *'), hour: ' 5' })).toEqual([
      { field: 'hour', message: 'hour: whitespace is not allowed in " 5"' },
    ]);
  });

  it('reports reversed and malformed ranges', () => {
    expect(messages('0 5-3 * * *')).toEqual([
      'hour: range 5-3 is reversed (the start must not be greater than the end)',
    ]);
    expect(messages('1- * * * *')).toEqual([
      'minute: "1-" is not a valid range (expected a-b, e.g. 1-5)',
    ]);
    expect(messages('1-2-3 * * * *')).toEqual([
      'minute: "1-2-3" is not a valid range (expected a-b, e.g. 1-5)',
    ]);
  });

  it('reports bad steps', () => {
    expect(messages('*/0 * * * *')).toEqual([
      'minute: step "0" in "*/0" must be a whole number from 1 to 59',
    ]);
    expect(messages('*/60 * * * *')).toEqual([
      'minute: step "60" in "*/60" must be a whole number from 1 to 59',
    ]);
    expect(messages('0 */x * * *')).toEqual([
      'hour: step "x" in "*/x" must be a whole number from 1 to 23',
    ]);
    expect(messages('0 0 * * */')).toEqual([
      'weekday: step "" in "*/" must be a whole number from 1 to 7',
    ]);
    expect(messages('1/2/3 * * * *')).toEqual(['minute: "1/2/3" has more than one step']);
  });

  it('reports L outside day, in a range or with a step', () => {
    expect(messages('0 L * * *')).toEqual([
      'hour: L (last day of the month) is only allowed in day',
    ]);
    expect(messages('0 0 L-5 * *')).toEqual(['day: L cannot be used in a range in "L-5"']);
    expect(messages('0 0 L/2 * *')).toEqual(['day: L cannot be combined with a step in "L/2"']);
  });

  it('reports fields that are not strings', () => {
    const schedule = { ...cron('0 0 1 * *'), month: 1 } as unknown as ResetSchedule;
    expect(validateResetSchedule(schedule)).toEqual([
      { field: 'month', message: 'month: must be a string' },
    ]);
  });

  it('reports every problem at once, each with its field', () => {
    expect(validateResetSchedule(cron('75 x 1 13 *'))).toEqual([
      { field: 'minute', message: 'minute: 75 is out of range 0-59' },
      { field: 'hour', message: 'hour: "x" is not a number' },
      { field: 'month', message: 'month: 13 is out of range 1-12' },
    ]);
  });

  it('rejects schedules that can never fire, with no field', () => {
    expect(validateResetSchedule(cron('0 0 31 2 *'))).toEqual([
      {
        field: undefined,
        message: 'schedule never fires: day "31" does not occur in month "2"',
      },
    ]);
    expect(messages('0 0 30,31 2 *')).toEqual([
      'schedule never fires: day "30,31" does not occur in month "2"',
    ]);
    expect(messages('0 0 31 4,6,9,11 *')).toEqual([
      'schedule never fires: day "31" does not occur in month "4,6,9,11"',
    ]);
    // `*/2` leaves weekday unrestricted, so day and weekday must both match.
    expect(messages('0 0 31 2 */2')).toHaveLength(1);
  });

  it('accepts schedules that fire rarely but do fire', () => {
    expect(messages('0 0 29 2 *')).toEqual([]);
    expect(messages('0 0 31 2,3 *')).toEqual([]);
    expect(messages('0 0 L 2 *')).toEqual([]);
    // Both restricted: any Monday in February fires.
    expect(messages('0 0 31 2 1')).toEqual([]);
  });
});

describe('parseResetSchedule and errors', () => {
  it('throws InvalidScheduleError naming the field', () => {
    let caught: unknown;
    try {
      parseResetSchedule(cron('75 0 1 * *'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidScheduleError);
    expect(caught).toMatchObject({
      name: 'InvalidScheduleError',
      field: 'minute',
      message: 'minute: 75 is out of range 0-59',
    });
  });

  it('throws with field undefined for a schedule that never fires', () => {
    expect(() => parseResetSchedule(cron('0 0 31 2 *'))).toThrowError(
      expect.objectContaining({ name: 'InvalidScheduleError', field: undefined }),
    );
  });

  it('a parsed schedule gives the same firings as the raw one', () => {
    const raw = cron('*/7 1-5 1,L */2 1-5');
    const parsed = parseResetSchedule(raw);
    expect(parsed).toBeInstanceOf(ParsedSchedule);
    expect(parsed.source).toEqual(raw);
    let after = new Date('2024-01-01T00:00:00Z');
    for (let i = 0; i < 50; i++) {
      const expected = nextFiring(after, raw, 'Europe/London');
      expect(nextFiring(after, parsed, 'Europe/London')).toEqual(expected);
      after = expected;
    }
  });

  it('nextFiring rejects invalid schedules, time zones and dates', () => {
    expect(() => nextFiring(new Date(0), cron('0 0 31 2 *'), UTC)).toThrow(InvalidScheduleError);
    expect(() => nextFiring(new Date(0), cron('0 0 1 * *'), 'Mars/Base')).toThrow(RangeError);
    expect(() => nextFiring(new Date(Number.NaN), cron('0 0 1 * *'), UTC)).toThrow(RangeError);
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA names', () => {
    for (const zone of ['Etc/UTC', 'UTC', 'Europe/Stockholm', 'America/New_York', 'Etc/GMT+3']) {
      expect(isValidTimeZone(zone), zone).toBe(true);
    }
  });

  it('rejects unknown names and fixed offsets', () => {
    for (const zone of ['Mars/Base', '', 'UTC+3', 'GMT-05:00', '+03:00', '-05', ' Etc/UTC', 'Z']) {
      expect(isValidTimeZone(zone), zone).toBe(false);
    }
  });
});

describe('performance', () => {
  it('typical calls take microseconds, not a walk over minutes', () => {
    const schedules = ['0 0 1 * *', '*/5 * * * *', '0 0 L 2 *', '30 2 * * 0', '0 0 29 2 *'].map(
      (text) => parseResetSchedule(cron(text)),
    );
    const started = performance.now();
    let calls = 0;
    for (const schedule of schedules) {
      for (let i = 0; i < 200; i++) {
        nextFiring(
          new Date(Date.UTC(2000, 0, 1) + i * 7_919_993_000),
          schedule,
          'America/New_York',
        );
        calls++;
      }
    }
    expect((performance.now() - started) / calls).toBeLessThan(1);
  });
});
