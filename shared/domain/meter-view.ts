/**
 * A meter as the API shows it: its definition, what it inherited from its type, and the running
 * usage of its open period, totalled over the shards.
 */
import { type AverageParts, averagePartsOf, shownValue } from './average.js';
import { type DecimalOutput, decimalOutput } from './exact-decimal.js';
import type { MeterDefinition } from './meter.js';
import { emptyPeriodUsage, type MeterState, periodTotals } from './meter-usage.js';

/** The running usage of a meter's current period, as the API shows it. */
export interface MeterUsageView {
  /** Exact: a number when it round-trips, else the canonical decimal string (`DecimalOutput`); the mean for `average`. */
  value: DecimalOutput | null;
  /** `average` only: the exact sum and count behind `value`. */
  average?: AverageParts;
  groups: {
    fields: Record<string, unknown>;
    value: DecimalOutput | null;
    average?: AverageParts;
    count: number;
  }[];
  thresholdsReached: string[];
  meterMetaData: {
    recordCount: number;
    firstUsageAt: string | null;
    lastUsageAt: string | null;
    lateRecords: number;
  };
}

/** A meter as the API returns it: its definition, what it inherited, and its usage. */
export type MeterView = Omit<MeterDefinition, 'meterType'> &
  MeterDefinition['meterType'] & { meterTypeName: string } & MeterUsageView;

function isoOrNull(value: number | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function outputOrNull(value: string | null): DecimalOutput | null {
  return value === null ? null : decimalOutput(value);
}

/** The API's view of a meter: its definition, what it inherited, and its usage so far. */
export function meterViewOf(state: MeterState): MeterView {
  const type = state.meterType.aggregation.type;
  const totals = periodTotals(type, state.usage ?? emptyPeriodUsage());
  const groups = Object.keys(totals.agg.groups)
    .sort()
    .map((key) => {
      const value = totals.agg.groups[key]?.value ?? null;
      const count = totals.agg.groups[key]?.count ?? 0;
      return {
        fields: totals.agg.groups[key]?.values ?? {},
        value: outputOrNull(shownValue(type, value, count)),
        ...averagePartsOf(type, value, count),
        count,
      };
    });
  return {
    id: state.id,
    meterKey: state.meterKey,
    meterTypeId: state.meterTypeId,
    userId: state.userId,
    customFields: state.customFields ?? {},
    deleteOnReset: Boolean(state.deleteOnReset),
    ...state.meterType,
    meterTypeName: state.meterType.name,
    periodStart: state.periodStart,
    periodEnd: state.periodEnd,
    value: outputOrNull(shownValue(type, totals.agg.value, totals.agg.count)),
    ...averagePartsOf(type, totals.agg.value, totals.agg.count),
    groups,
    thresholdsReached: state.usage?.fired ?? [],
    meterMetaData: {
      recordCount: totals.agg.count,
      firstUsageAt: isoOrNull(totals.agg.firstUsageAt),
      lastUsageAt: isoOrNull(totals.agg.lastUsageAt),
      lateRecords: totals.late,
    },
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}
