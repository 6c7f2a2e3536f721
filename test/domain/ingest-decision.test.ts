/** What happens to one record, decided from the user's meters as read (no store). */
import { describe, expect, it } from 'vitest';
import { ALREADY_METERED, decide, placementIn } from '../../shared/domain/ingest-decision.js';
import type { MeterState } from '../../shared/domain/meter-usage.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import type { UsageRecord } from '../../shared/domain/usage-record.js';
import { UserRouting } from '../../shared/domain/user-routing.js';
import { at, meterState, streamOf } from '../support/meter-states.js';

const record = (fields: Record<string, unknown> = {}, extra: Partial<UsageRecord> = {}) => ({
  userId: 'u1',
  value: '2',
  usageTime: at('2025-01-15T00:00:00Z'),
  fields: { userId: 'u1', ...fields },
  ...extra,
});

const decideFor = (
  meters: MeterState[],
  r: UsageRecord,
  stream: StreamConfig = streamOf(),
  alreadyMetered = false,
) => decide(stream, r, new UserRouting(stream, meters), alreadyMetered);

describe('decide', () => {
  it('applies a record to every meter of the matching rule, in the open period', () => {
    const meters = [meterState({ id: 'a' }), meterState({ id: 'b' })];
    const decision = decideFor(meters, record());
    expect(decision).toMatchObject({ kind: 'apply' });
    if (decision.kind !== 'apply') return;
    expect(decision.targets.map((t) => [t.meter.id, t.placement])).toEqual([
      ['a', 'current'],
      ['b', 'current'],
    ]);
  });

  it('sends a record no rule matches to NO_MATCHING_RULE, one without a meter to NO_METER', () => {
    const stream = streamOf({
      guidingRules: [
        {
          name: 'api',
          category: 'API',
          conditions: [{ field: 'kind', type: 'string', value: 'api' }],
        },
      ],
    });
    expect(decideFor([meterState()], record({ kind: 'web' }), stream)).toMatchObject({
      kind: 'correct',
      reason: 'NO_MATCHING_RULE',
    });
    expect(decideFor([meterState()], record({ kind: 'api' }), stream)).toMatchObject({
      kind: 'correct',
      reason: 'NO_METER',
    });
  });

  it('skips an unroutable record that a meter already took in an earlier attempt', () => {
    expect(decideFor([], record(), streamOf(), true)).toBe(ALREADY_METERED);
  });

  it('sends a record outside the meter type’s active window to OUTSIDE_ACTIVE_WINDOW', () => {
    const meter = meterState({ meterType: { activeFrom: '2025-01-20T00:00:00.000Z' } });
    expect(decideFor([meter], record())).toEqual({
      kind: 'correct',
      reason: 'OUTSIDE_ACTIVE_WINDOW',
      message: '2025-01-15T00:00:00.000Z is outside the active window of the meter type',
      meterIds: ['m1'],
    });
  });

  it('needs a value for every aggregation but increment', () => {
    const noValue = record({}, { value: undefined });
    expect(decideFor([meterState()], noValue)).toMatchObject({
      kind: 'correct',
      reason: 'INVALID_RECORD',
      message: 'value: is required',
    });
    const counter = meterState({ meterType: { aggregation: { type: 'increment' } } });
    expect(decideFor([counter], noValue)).toMatchObject({ kind: 'apply' });
  });

  it('counts a late record in the current period and marks it late, by default', () => {
    const decision = decideFor(
      [meterState()],
      record({}, { usageTime: at('2024-12-31T23:00:00Z') }),
    );
    expect(decision.kind === 'apply' && decision.targets[0]?.placement).toBe('late');
  });

  it('sends a late record to LATE_RECORD when the stream says so', () => {
    const stream = streamOf({ lateRecordPolicy: 'data-correction' });
    const late = record({}, { usageTime: at('2024-12-31T23:00:00Z') });
    expect(decideFor([meterState()], late, stream)).toEqual({
      kind: 'correct',
      reason: 'LATE_RECORD',
      message: '2024-12-31T23:00:00.000Z belongs to a period that is already closed',
      meterIds: ['m1'],
    });
  });

  it('places a record after the period end in the next period, unless the meter is deleted then', () => {
    const next = record({}, { usageTime: at('2025-02-01T00:00:00Z') });
    const decision = decideFor([meterState()], next);
    expect(decision.kind === 'apply' && decision.targets[0]?.placement).toBe('next');
    expect(decideFor([meterState({ deleteOnReset: true })], next)).toMatchObject({
      kind: 'correct',
      reason: 'NO_METER',
      meterIds: ['m1'],
    });
  });

  it('takes no record into a meter whose last period has closed', () => {
    const ended = meterState({ endedAt: '2025-01-10T00:00:00.000Z' });
    expect(decideFor([ended], record())).toMatchObject({ kind: 'correct', reason: 'NO_METER' });
  });

  it('keeps the group-by and carry values of a record, and refuses a value too large to keep', () => {
    const stream = streamOf({
      guidingRules: [{ name: 'all', category: 'DEFAULT', groupBy: ['region'] }],
      carryLast: ['plan'],
    });
    expect(decideFor([meterState()], record({ region: 'eu', plan: 'pro' }), stream)).toMatchObject({
      kind: 'apply',
      groupValues: { region: 'eu' },
      carry: { plan: 'pro' },
    });
    expect(decideFor([meterState()], record({ plan: 'pro' }), stream)).toMatchObject({
      groupValues: { region: null },
    });
    expect(decideFor([meterState()], record({ region: 'x'.repeat(257) }), stream)).toEqual({
      kind: 'correct',
      reason: 'INVALID_RECORD',
      message: 'region: must be at most 256 characters',
    });
  });

  it('hands every record that keeps nothing the same frozen decision of its route', () => {
    const stream = streamOf();
    const routing = new UserRouting(stream, [meterState()]);
    const first = decide(stream, record(), routing, false);
    const second = decide(
      stream,
      record({}, { usageTime: at('2025-01-20T00:00:00Z') }),
      routing,
      false,
    );
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe('placementIn', () => {
  it('finds the period a meter takes a record in, if the meter is a target', () => {
    const targets = [{ meter: meterState({ id: 'a' }), placement: 'next' as const }];
    expect(placementIn(targets, 'a')).toBe('next');
    expect(placementIn(targets, 'b')).toBeUndefined();
  });
});
