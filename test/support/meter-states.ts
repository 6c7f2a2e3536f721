/** Meters and streams built in memory, for unit tests of the ingestion rules (no store). */
import { emptyAggregate } from '../../shared/domain/aggregation.js';
import type { MeterTypeSnapshot } from '../../shared/domain/meter.js';
import type { MeterState, ShardSlot } from '../../shared/domain/meter-usage.js';
import { type StreamConfig, streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import type { AggregationType } from '../../shared/domain/types.js';

/** A meter of user `u1` in January 2025 (UTC), with an empty open period. */
export function meterState(
  overrides: Partial<Omit<MeterState, 'meterType'>> & {
    meterType?: Partial<MeterTypeSnapshot>;
  } = {},
): MeterState {
  const { meterType, ...rest } = overrides;
  return {
    id: 'm1',
    meterKey: 'k',
    meterTypeId: 't1',
    userId: 'u1',
    customFields: {},
    deleteOnReset: false,
    periodStart: '2025-01-01T00:00:00.000Z',
    periodEnd: '2025-02-01T00:00:00.000Z',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    usage: { shards: {}, fired: [] },
    next: { shards: {}, fired: [] },
    seq: {},
    outbox: {},
    version: 1,
    ...rest,
    meterType: {
      name: 'calls',
      category: 'DEFAULT',
      unit: 'call',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
      timezone: 'UTC',
      capacityPolicy: 'notify',
      thresholds: [],
      gracePeriodSeconds: 3600,
      ...meterType,
    },
  };
}

/** A slot holding `value` of `count` records (for a meter as read). */
export function slotOf(type: AggregationType, value: string, count: number): ShardSlot {
  return { agg: { ...emptyAggregate(type), value, count }, late: 0 };
}

/** A stream configuration with one catch-all rule unless overridden. */
export function streamOf(overrides: Record<string, unknown> = {}): StreamConfig {
  return streamConfigSchema.parse({
    name: 'usage-events',
    meterKey: 'k',
    guidingRules: [{ name: 'all', category: 'DEFAULT' }],
    ...overrides,
  });
}

/** Epoch ms of an ISO time. */
export const at = (iso: string): number => Date.parse(iso);
