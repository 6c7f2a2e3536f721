import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDecimal } from '../../shared/domain/exact-decimal.js';
import { streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import { parseUsageRecord } from '../../shared/domain/usage-record.js';

const stream = streamConfigSchema.parse({
  name: 'usage-events',
  meterKey: 'k',
  guidingRules: [{ name: 'all', category: 'DEFAULT' }],
  maxFutureSkewSeconds: 3600,
});
const parse = (record: unknown, arrival = Date.parse('2100-01-01T00:00:00Z')) =>
  parseUsageRecord(Buffer.from(JSON.stringify(record)), arrival, stream);

describe('parseUsageRecord', () => {
  it('reads ISO timestamps exactly as Date.parse does, for any date, time, fraction and offset', () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 2099 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.option(fc.stringMatching(/^[0-9]{1,9}$/)),
        fc.oneof(
          fc.constant('Z'),
          fc
            .tuple(
              fc.constantFrom('+', '-'),
              fc.integer({ min: 0, max: 14 }),
              fc.constantFrom(0, 30, 45),
            )
            .map(([s, h, m]) => `${s}${pad(h)}:${pad(m)}`),
        ),
        (year, month, day, hour, minute, second, fraction, offset) => {
          const iso = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${fraction ? `.${fraction}` : ''}${offset}`;
          const result = parse({ userId: 'u', value: 1, timestamp: iso });
          const expected = Date.parse(iso);
          const calendarDate = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
          if (!calendarDate || Number.isNaN(expected)) {
            expect(result.ok).toBe(false);
            return;
          }
          expect(result.ok && result.record.usageTime).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps number values as their canonical decimals, and refuses those of more than 64 digits', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e20, max: 1e20, noNaN: true }), (value) => {
        const result = parse({ userId: 'u', value });
        const decimal = canonicalDecimal(value);
        // Values of more than 64 digits (e.g. 5e-324) are refused by the schema.
        if (decimal.length > 64) expect(result.ok).toBe(false);
        else expect(result.ok && result.record.value).toBe(decimal);
      }),
      { numRuns: 1000 },
    );
  });

  it('says in words what a value must be: no pattern, no schema jargon', () => {
    const messages = ['abc', '1.', '0x10', 'x'.repeat(65), true, {}, Number.MAX_VALUE].map(
      (value) => {
        const result = parse({ userId: 'u', value });
        return result.ok ? 'ok' : result.message;
      },
    );
    expect(messages).toEqual([
      'value: must be a finite number, or a decimal string such as "12.5"',
      'value: must be a finite number, or a decimal string such as "12.5"',
      'value: must be a finite number, or a decimal string such as "12.5"',
      'value: must be a decimal string of at most 64 characters',
      'value: must be a finite number',
      'value: must be a finite number',
      'value: must be less than 1e21 in magnitude, with at most 64 digits',
    ]);
  });

  it('accepts and refuses user ids exactly as the schema does', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (userId) => {
        const result = parse({ userId, value: 1 });
        const valid =
          userId.length >= 1 &&
          userId.length <= 256 &&
          userId.trim() === userId &&
          userId.isWellFormed() &&
          ![...userId].some((ch) => {
            const code = ch.charCodeAt(0);
            return code < 0x20 || (code >= 0x7f && code <= 0x9f);
          });
        expect(result.ok, JSON.stringify(userId)).toBe(valid);
      }),
      { numRuns: 1000 },
    );
  });
});
