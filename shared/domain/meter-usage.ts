/**
 * The running state of a meter and the pure rules that move it: which period a usage time
 * belongs to, the totals of a period, thresholds that are due, and closing a period into
 * its final record (the outbox). Ingestion, the reset and the sweeper all use these rules.
 *
 * Usage of a period is kept per Kinesis shard ("slot"): each shard only ever rewrites its own
 * slot, so shards never overwrite each other's usage and never retry because of each other.
 * The period's totals are the merge of all slots, in shard-id order.
 */
import type { PartialAggregate } from './aggregation.js';
import { emptyAggregate, mergeAggregates } from './aggregation.js';
import { shownValue } from './average.js';
import type { MeterDefinition } from './meter.js';
import type { MeteredRecord, MeterSnapshot } from './metered-record.js';
import { buildMeteredRecord } from './metered-record.js';
import { nextPeriod } from './schedule.js';
import { effectiveThresholds, thresholdsToFire } from './thresholds.js';
import type { AggregationType, ResetSchedule } from './types.js';

/** One shard's share of a period's usage. */
export interface ShardSlot {
  agg: PartialAggregate;
  /** Records counted here although their own period had already closed. */
  late: number;
}

/** The usage of one period: a slot per shard, and the thresholds already pushed. */
export interface PeriodUsage {
  shards: Record<string, ShardSlot>;
  fired: string[];
}

/** A meter with its running usage, as stored. */
export interface MeterState extends MeterDefinition {
  /** Usage of [periodStart, periodEnd). */
  usage: PeriodUsage;
  /** Usage stamped at or after periodEnd that arrived while the period was still in grace. */
  next: PeriodUsage;
  /** Per shard: the last sequence number applied to this meter (fixed width, see `sequenceKey`). */
  seq: Record<string, string>;
  /** Metered records closed or fired but not yet sent, by recordId. */
  outbox: Record<string, MeteredRecord>;
  version: number;
  /** Set when the meter was deleted through the API: it takes no usage and closes at this time. */
  retiredAt?: string;
  /** Set when the meter's last period was closed: it takes no more usage and has no next period. */
  endedAt?: string;
}

/** Carry fields a stream keeps for its records. */
export interface CarryFields {
  carryFirst: readonly string[];
  carryLast: readonly string[];
}

/** Usage with nothing in it. */
export function emptyPeriodUsage(): PeriodUsage {
  return { shards: {}, fired: [] };
}

/** Kinesis sequence numbers are decimal strings of up to 128 digits; padded, they compare as strings. */
export function sequenceKey(sequenceNumber: string): string {
  return sequenceNumber.padStart(128, '0');
}

/**
 * A sequence number, or a `sequenceKey`, without its leading zeros ('' stays ''): the form
 * `compareSequence` takes. Ingestion compares every record's position this way, without
 * building a padded copy of each.
 */
export function bareSequence(sequenceNumberOrKey: string): string {
  const last = sequenceNumberOrKey.length - 1;
  let i = 0;
  while (i < last && sequenceNumberOrKey.charCodeAt(i) === 48) i++;
  return i === 0 ? sequenceNumberOrKey : sequenceNumberOrKey.slice(i);
}

/** Whether bare sequence number `a` comes after `b` (one string comparison, for the hot path). */
export function sequenceAfter(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/** The last sequence number of the shard applied to the meter, bare ('' when none yet). */
export function appliedSequence(meter: Pick<MeterState, 'seq'>, shardId: string): string {
  return bareSequence(meter.seq[shardId] ?? '');
}

/** Compares two bare sequence numbers as the integers they stand for ('' is below all). */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The totals of a period: every shard slot merged in shard-id order. */
export function periodTotals(type: AggregationType, usage: PeriodUsage): ShardSlot {
  let agg = emptyAggregate(type);
  let late = 0;
  for (const shardId of Object.keys(usage.shards).sort()) {
    const slot = usage.shards[shardId];
    if (!slot) continue;
    agg = mergeAggregates(type, agg, slot.agg);
    late += slot.late;
  }
  return { agg, late };
}

/** Where a usage time falls for this meter's open period. */
export type PeriodPlacement = 'current' | 'next' | 'late';

/** Places a usage time: in the open period, after it (the next one), or before it (late). */
export function placeUsageTime(
  state: Pick<MeterState, 'periodStart' | 'periodEnd'>,
  usageTime: number,
): PeriodPlacement {
  return placeInPeriod(usageTime, epochMillis(state.periodStart), epochMillis(state.periodEnd));
}

/** `placeUsageTime` for a period already in epoch ms: [start, end). */
export function placeInPeriod(usageTime: number, start: number, end: number): PeriodPlacement {
  if (usageTime < start) return 'late';
  if (usageTime >= end) return 'next';
  return 'current';
}

/**
 * Epoch ms of an ISO-8601 time the service wrote (period bounds, active windows). Ingestion asks
 * for the same few instants for every meter and record, so parses are memoized; the memo is
 * cleared when it grows past a few thousand distinct instants, which bounds its memory.
 */
export function epochMillis(iso: string): number {
  let ms = parsedInstants.get(iso);
  if (ms === undefined) {
    if (parsedInstants.size >= MAX_PARSED_INSTANTS) parsedInstants.clear();
    ms = Date.parse(iso);
    parsedInstants.set(iso, ms);
  }
  return ms;
}

const parsedInstants = new Map<string, number>();
const MAX_PARSED_INSTANTS = 4096;

/** Whether the meter type's active window includes the usage time. */
export function isActiveAt(meter: Pick<MeterDefinition, 'meterType'>, usageTime: number): boolean {
  const { activeFrom, activeTo } = meter.meterType;
  if (activeFrom !== undefined && usageTime < epochMillis(activeFrom)) return false;
  if (activeTo !== undefined && usageTime >= epochMillis(activeTo)) return false;
  return true;
}

/** When the open period may be closed: its end plus the grace period (or at once when retired). */
export function closableAt(
  state: Pick<MeterState, 'periodEnd' | 'meterType' | 'retiredAt' | 'endedAt'>,
): number {
  if (state.endedAt !== undefined) return Number.POSITIVE_INFINITY;
  if (state.retiredAt !== undefined)
    return Math.min(
      Date.parse(state.retiredAt),
      epochMillis(state.periodEnd) + state.meterType.gracePeriodSeconds * 1000,
    );
  return epochMillis(state.periodEnd) + state.meterType.gracePeriodSeconds * 1000;
}

/** What a metered record needs to know about the meter. */
export function recordSnapshotOf(state: MeterDefinition): MeterSnapshot {
  return {
    id: state.id,
    userId: state.userId,
    meterKey: state.meterKey,
    meterTypeId: state.meterTypeId,
    meterTypeName: state.meterType.name,
    timezone: state.meterType.timezone,
    unit: state.meterType.unit,
    aggregation: state.meterType.aggregation.type,
    createdAt: state.createdAt,
    deleteOnReset: state.deleteOnReset,
    customFields: state.customFields,
  };
}

/** Keeps only the carry fields the stream names for first and for last values. */
function withCarryFields(agg: PartialAggregate, carry: CarryFields | undefined): PartialAggregate {
  if (!carry) return agg;
  const pick = (values: PartialAggregate['carryFirst'], fields: readonly string[]) =>
    Object.fromEntries(Object.entries(values).filter(([field]) => fields.includes(field)));
  return {
    ...agg,
    carryFirst: pick(agg.carryFirst, carry.carryFirst),
    carryLast: pick(agg.carryLast, carry.carryLast),
  };
}

/**
 * The period's totals at the moment each of the named thresholds was reached, where known
 * (see `thresholdCrossings`); a threshold absent from the answer reports the totals as they are.
 */
export type ReachedAt = (names: readonly string[]) => ReadonlyMap<string, ShardSlot>;

/**
 * Partial records for thresholds the open period has reached but not yet pushed
 * (state-based, so a retry or a crash can delay a push but never lose or repeat it). Each
 * carries the usage at the moment its threshold was reached when `reachedAt` knows it.
 */
export function dueThresholdRecords(
  state: MeterState,
  now: Date,
  carry?: CarryFields,
  reachedAt?: ReachedAt,
): { records: MeteredRecord[]; fired: string[] } {
  const type = state.meterType.aggregation.type;
  const totals = periodTotals(type, state.usage);
  // An average's thresholds compare its mean, as shown, not the sum it keeps.
  const names = thresholdsToFire(
    effectiveThresholds(state.meterType),
    state.meterType.capacity,
    shownValue(type, totals.agg.value, totals.agg.count),
    state.usage.fired,
  );
  const period = {
    periodStart: Date.parse(state.periodStart),
    periodEnd: Date.parse(state.periodEnd),
  };
  const crossings = names.length > 0 && reachedAt ? reachedAt(names) : undefined;
  const records = names.map((threshold) => {
    const at = crossings?.get(threshold) ?? totals;
    return buildMeteredRecord({
      meter: recordSnapshotOf(state),
      period,
      aggregate: withCarryFields(at.agg, carry),
      recordType: 'partial',
      threshold,
      updatedAt: now.getTime(),
      lateRecords: at.late,
    });
  });
  return { records, fired: names };
}

/** The schedule that decides the next period: the type's current one, or the snapshot's. */
export interface PeriodRule {
  resetSchedule: ResetSchedule;
  timezone: string;
}

/**
 * Whether closing the open period ends the meter: it was deleted through the API (retired) by
 * the period's end, the type's active window ends within it, or it is to be deleted on reset
 * and holds no usage of the next period (which would otherwise be lost).
 */
function isLastPeriod(state: MeterState): boolean {
  const periodEnd = Date.parse(state.periodEnd);
  if (state.retiredAt !== undefined) return Date.parse(state.retiredAt) <= periodEnd;
  const activeTo = state.meterType.activeTo;
  if (activeTo !== undefined && Date.parse(activeTo) <= periodEnd) return true;
  return state.deleteOnReset && Object.keys(state.next.shards).length === 0;
}

/**
 * The records that closing the open period (ending at `periodEnd`) sends: due thresholds, then
 * the final record, which a period that ends the meter's active window (or never opened) sends
 * only with usage.
 */
function closingRecords(
  state: MeterState,
  now: Date,
  periodEnd: number,
  onlyWithUsage: boolean,
  carry: CarryFields | undefined,
): MeteredRecord[] {
  const records = dueThresholdRecords(state, now, carry).records;
  const totals = periodTotals(state.meterType.aggregation.type, state.usage);
  if (onlyWithUsage && totals.agg.count === 0) return records;
  records.push(
    buildMeteredRecord({
      meter: recordSnapshotOf(state),
      period: { periodStart: Date.parse(state.periodStart), periodEnd },
      aggregate: withCarryFields(totals.agg, carry),
      recordType: 'final',
      updatedAt: Date.parse(state.updatedAt),
      lateRecords: totals.late,
    }),
  );
  return records;
}

/** Epoch ms of the type's `activeFrom`; minus infinity when it has none. */
function activeFromOf(state: Pick<MeterState, 'meterType'>): number {
  const { activeFrom } = state.meterType;
  return activeFrom === undefined ? Number.NEGATIVE_INFINITY : epochMillis(activeFrom);
}

/**
 * The period after the open one: it starts at the old end, or at `activeFrom` when that is still
 * ahead (no period opens before it), and ends at the next firing after its start (the nearest
 * future one when firings were missed).
 */
function periodAfter(
  state: MeterState,
  now: Date,
  rule: PeriodRule,
): { periodStart: Date; periodEnd: Date } {
  const start = Math.max(epochMillis(state.periodEnd), activeFromOf(state));
  return nextPeriod(new Date(start), now, rule.resetSchedule, rule.timezone);
}

/**
 * Closes the open period: pushes any due threshold, puts the final record into the outbox and
 * opens the next period, which starts at the old end and ends at the next firing after it (the
 * nearest future firing when firings were missed). Usage already stamped in the next period
 * carries over. When this is the meter's last period (see `isLastPeriod`) it sets `endedAt`
 * and opens none; a period that reaches `activeTo` sends a final record only if it had usage.
 */
export function closePeriod(
  state: MeterState,
  now: Date,
  rule: PeriodRule,
  carry?: CarryFields,
): { state: MeterState; records: MeteredRecord[] } {
  const last = isLastPeriod(state);
  const retiredAt = state.retiredAt === undefined ? undefined : Date.parse(state.retiredAt);
  const periodEnd = last && retiredAt !== undefined ? retiredAt : Date.parse(state.periodEnd);
  const endsByActiveWindow = last && retiredAt === undefined && !state.deleteOnReset;
  // A period that lies wholly before the type's activeFrom (a meter deleted before it opened, or
  // one created before meters waited for activeFrom) sends nothing: it cannot hold usage.
  const neverOpened = periodEnd <= Math.max(Date.parse(state.periodStart), activeFromOf(state));
  const records = closingRecords(state, now, periodEnd, endsByActiveWindow || neverOpened, carry);
  const outbox = { ...state.outbox };
  for (const record of records) outbox[record.recordId] = record;
  if (last) {
    const endedAt = new Date(periodEnd).toISOString();
    return {
      state: {
        ...state,
        outbox,
        usage: emptyPeriodUsage(),
        next: emptyPeriodUsage(),
        endedAt,
        updatedAt: now.toISOString(),
      },
      records,
    };
  }
  // A meter retired during the grace period still owes the usage stamped after the period end:
  // its next period ends at its retirement.
  const next =
    retiredAt !== undefined
      ? { periodStart: new Date(state.periodEnd), periodEnd: new Date(retiredAt) }
      : periodAfter(state, now, rule);
  return {
    state: {
      ...state,
      meterType: { ...state.meterType, resetSchedule: rule.resetSchedule, timezone: rule.timezone },
      periodStart: next.periodStart.toISOString(),
      periodEnd: next.periodEnd.toISOString(),
      usage: state.next,
      next: emptyPeriodUsage(),
      outbox,
      updatedAt: now.toISOString(),
    },
    records,
  };
}
