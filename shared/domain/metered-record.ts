/**
 * The metered ("golden") record a meter sends downstream: a final record when its period
 * closes, or a partial push when a threshold is reached (DOMAIN.md "Metered record").
 */
import { createHash } from 'node:crypto';
import type { PartialAggregate } from './aggregation.js';
import { type AverageParts, averagePartsOf, shownValue } from './average.js';
import { type DecimalOutput, decimalOutput } from './exact-decimal.js';
import type { AggregationType, FieldValue, Period } from './types.js';

/** `final` at period end; `partial` when a threshold fires. */
export type MeteredRecordType = 'final' | 'partial';

/** What the record needs to know about the meter (and the type it snapshotted). */
export interface MeterSnapshot {
  id: string;
  userId: string;
  meterKey: string;
  meterTypeId: string;
  meterTypeName: string;
  timezone: string;
  unit: string;
  aggregation: AggregationType;
  /** ISO timestamp of the meter's creation. */
  createdAt: string;
  deleteOnReset: boolean;
  customFields: Record<string, unknown>;
}

/** One group of the breakdown by the rule's group-by fields. */
export interface MeteredRecordGroup {
  fields: Record<string, FieldValue>;
  /** Exact: a number when it round-trips, else the canonical decimal string. */
  value: DecimalOutput;
  /** `average` only: the group's exact sum and count; `value` is their mean. */
  average?: AverageParts;
  count: number;
}

/** Record count, usage times and lateness of the period behind a metered record. */
export interface MeteredRecordMetaData {
  recordCount: number;
  /** ISO, `null` when the period had no usage. */
  firstUsageAt: string | null;
  lastUsageAt: string | null;
  /** Records that arrived after their own period was closed and were counted in this one. */
  lateRecords: number;
  aggregation: AggregationType;
}

/** The record sent to SQS/SNS. Times are UTC ISO strings with milliseconds. */
export interface MeteredRecord {
  /** Stable: the same meter, period, type and threshold always give the same id. */
  recordId: string;
  recordType: MeteredRecordType;
  /** Present only on partial records: the threshold that fired. */
  threshold?: string;
  /** The meter's id. */
  id: string;
  userId: string;
  meterTypeId: string;
  meterTypeName: string;
  timezone: string;
  meterKey: string;
  /**
   * 0 when the period had no usage (see `meterMetaData.recordCount`); the mean for `average`.
   * Exact: a JSON number when it round-trips, else the canonical decimal string (`DecimalOutput`).
   */
  value: DecimalOutput;
  /** `average` only: the exact sum and count of the values; `value` is their mean. */
  average?: AverageParts;
  unit: string;
  createdAt: string;
  updatedAt: string;
  periodStart: string;
  periodEnd: string;
  /** Sorted by the canonical group key, so equal aggregates give equal records. */
  groups: MeteredRecordGroup[];
  carryFirst: Record<string, FieldValue>;
  carryLast: Record<string, FieldValue>;
  deleteOnReset: boolean;
  customFields: Record<string, unknown>;
  meterMetaData: MeteredRecordMetaData;
}

/** Everything `buildMeteredRecord` needs; times are epoch milliseconds. */
export interface MeteredRecordInput {
  meter: MeterSnapshot;
  period: Period;
  aggregate: PartialAggregate;
  recordType: MeteredRecordType;
  /** Required for `partial` records, ignored for `final` ones. */
  threshold?: string;
  /** When the meter was last updated. */
  updatedAt: number;
  lateRecords: number;
}

/** Deterministic UUID-shaped (version 5 style) id of a meter's final or partial record. */
export function recordIdFor(
  meterId: string,
  periodStart: number,
  recordType: MeteredRecordType,
  threshold?: string,
): string {
  if (recordType === 'partial' && threshold === undefined) {
    throw new TypeError('A partial metered record needs the threshold that fired it');
  }
  // JSON of an array keeps the parts unambiguous (no separator can be forged by a meter id).
  const name = JSON.stringify([
    'metered-record/v1',
    meterId,
    periodStart,
    recordType,
    recordType === 'partial' ? threshold : null,
  ]);
  const bytes = createHash('sha256').update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50; // version 5
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Builds the metered record of a meter's period aggregate. */
export function buildMeteredRecord(input: MeteredRecordInput): MeteredRecord {
  const { meter, period, aggregate, recordType } = input;
  const groups = Object.entries(aggregate.groups)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(
      ([, group]): MeteredRecordGroup => ({
        fields: Object.fromEntries(Object.entries(group.values)),
        value: toOutput(shownValue(meter.aggregation, group.value, group.count)),
        ...averagePartsOf(meter.aggregation, group.value, group.count),
        count: group.count,
      }),
    );
  return {
    recordId: recordIdFor(meter.id, period.periodStart, recordType, input.threshold),
    recordType,
    ...(recordType === 'partial' ? { threshold: input.threshold } : {}),
    id: meter.id,
    userId: meter.userId,
    meterTypeId: meter.meterTypeId,
    meterTypeName: meter.meterTypeName,
    timezone: meter.timezone,
    meterKey: meter.meterKey,
    value: toOutput(shownValue(meter.aggregation, aggregate.value, aggregate.count)),
    ...averagePartsOf(meter.aggregation, aggregate.value, aggregate.count),
    unit: meter.unit,
    createdAt: meter.createdAt,
    updatedAt: toIso(input.updatedAt),
    periodStart: toIso(period.periodStart),
    periodEnd: toIso(period.periodEnd),
    groups,
    carryFirst: Object.fromEntries(
      Object.entries(aggregate.carryFirst).map(([field, carried]) => [field, carried.value]),
    ),
    carryLast: Object.fromEntries(
      Object.entries(aggregate.carryLast).map(([field, carried]) => [field, carried.value]),
    ),
    deleteOnReset: meter.deleteOnReset,
    customFields: structuredClone(meter.customFields),
    meterMetaData: {
      recordCount: aggregate.count,
      firstUsageAt: aggregate.firstUsageAt === null ? null : toIso(aggregate.firstUsageAt),
      lastUsageAt: aggregate.lastUsageAt === null ? null : toIso(aggregate.lastUsageAt),
      lateRecords: input.lateRecords,
      aggregation: meter.aggregation,
    },
  };
}

/** A decimal as written on the way out (exact); an empty aggregate (null) is 0. */
function toOutput(value: string | null): DecimalOutput {
  return value === null ? 0 : decimalOutput(value);
}

function toIso(epochMillis: number): string {
  return new Date(epochMillis).toISOString();
}

/** A JSON value with the keys of every object sorted, so equal values print equal bytes. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

/**
 * The record with its fields in the declared order and free-form maps key-sorted. A record read
 * back from storage (whose maps come in any order) then prints the same JSON as when it was
 * built, so what is kept in history and what is sent are the same bytes on every retry.
 */
export function canonicalMeteredRecord(record: MeteredRecord): MeteredRecord {
  const meta = record.meterMetaData;
  return {
    recordId: record.recordId,
    recordType: record.recordType,
    ...(record.threshold !== undefined ? { threshold: record.threshold } : {}),
    id: record.id,
    userId: record.userId,
    meterTypeId: record.meterTypeId,
    meterTypeName: record.meterTypeName,
    timezone: record.timezone,
    meterKey: record.meterKey,
    value: record.value,
    ...(record.average
      ? { average: { sum: record.average.sum, count: record.average.count } }
      : {}),
    unit: record.unit,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    periodStart: record.periodStart,
    periodEnd: record.periodEnd,
    groups: record.groups.map((group) => ({
      fields: sortedKeys(group.fields) as Record<string, FieldValue>,
      value: group.value,
      ...(group.average ? { average: { sum: group.average.sum, count: group.average.count } } : {}),
      count: group.count,
    })),
    carryFirst: sortedKeys(record.carryFirst) as Record<string, FieldValue>,
    carryLast: sortedKeys(record.carryLast) as Record<string, FieldValue>,
    deleteOnReset: record.deleteOnReset,
    customFields: sortedKeys(record.customFields) as Record<string, unknown>,
    meterMetaData: {
      recordCount: meta.recordCount,
      firstUsageAt: meta.firstUsageAt,
      lastUsageAt: meta.lastUsageAt,
      lateRecords: meta.lateRecords,
      aggregation: meta.aggregation,
    },
  };
}
