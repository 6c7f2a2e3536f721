/**
 * What a dry run tells about one record (issue 13): the outcome ingestion would give it, in
 * words a user reads. It describes decisions made by the ingestion rules themselves
 * (`parseUsageRecord`, `decide`, `admitRecords`); it decides nothing. Pure.
 */
import { groupKey } from './aggregation.js';
import type { RuleVerdict } from './guiding.js';
import type { Decision, RefusalReason } from './ingest-decision.js';
import type { PeriodPlacement } from './meter-usage.js';
import { nextPeriod } from './schedule.js';
import type { FieldValue } from './types.js';
import type { UsageRecord } from './usage-record.js';
import type { Target } from './user-routing.js';

/** The data-correction reason a dry-run record would get. */
export type DryRunReason = RefusalReason | 'FUTURE_TIMESTAMP';

/** A meter a record would update, and where. */
export interface DryRunMeter {
  id: string;
  meterTypeId: string;
  meterTypeName: string;
  category: string;
  /** `current`: the open period; `next`: the one after it; `late`: the open one, marked late. */
  placement: PeriodPlacement;
  periodStart: string;
  periodEnd: string;
  /** The group the record counts in (the rule's group-by fields), absent without group-by. */
  groupKey?: string;
  groupValues?: Record<string, FieldValue>;
}

/** A record as validation and enrichment left it. */
export interface DryRunRecord {
  userId: string;
  value?: string;
  usageTime: string;
  eventId?: string;
  /** The enriched record: what guiding rules, group-by and carry fields read. */
  fields: Record<string, unknown>;
}

/** The outcome of one record of a dry run. */
export interface DryRunResult {
  index: number;
  outcome: 'metered' | 'data-correction';
  /** Absent when the record did not pass validation. */
  record?: DryRunRecord;
  /** Every guiding rule's verdict, in order; absent when the record did not pass validation. */
  rules?: RuleVerdict[];
  /** The rule that routed it (metered, and refusals after routing). */
  rule?: string;
  category?: string;
  /** The meters it would update; empty when it goes to data correction. */
  meters: DryRunMeter[];
  correction?: { reason: DryRunReason; message: string; meterIds?: string[] };
}

/** The outcome of a record that did not pass validation and enrichment. */
export function unreadableResult(
  index: number,
  reason: DryRunReason,
  message: string,
): DryRunResult {
  return { index, outcome: 'data-correction', meters: [], correction: { reason, message } };
}

/**
 * The outcome of a record that passed validation, from ingestion's decision on it; `now` places
 * a record that falls in the next period (its end is the schedule's next firing).
 */
export function decidedResult(
  index: number,
  record: UsageRecord,
  rules: RuleVerdict[],
  decision: Decision,
  now: Date,
): DryRunResult {
  const base = { index, record: recordOf(record), rules };
  const routedBy = rules.find((r) => r.matches && r.hasMeter);
  const routed = routedBy ? { rule: routedBy.name, category: routedBy.category } : {};
  if (decision.kind === 'apply') {
    const meters = decision.targets.map((t) => meterOf(t, decision.groupValues, now));
    return { ...base, outcome: 'metered', ...routed, meters };
  }
  if (decision.kind === 'correct') {
    const { reason, message, meterIds } = decision;
    const correction = meterIds ? { reason, message, meterIds } : { reason, message };
    return { ...base, outcome: 'data-correction', ...routed, meters: [], correction };
  }
  // Not reached: a dry run has no earlier attempt, so `decide` is never told a record was taken.
  return { ...base, outcome: 'metered', ...routed, meters: [] };
}

function recordOf(record: UsageRecord): DryRunRecord {
  return {
    userId: record.userId,
    ...(record.value === undefined ? {} : { value: record.value }),
    usageTime: new Date(record.usageTime).toISOString(),
    ...(record.eventId === undefined ? {} : { eventId: record.eventId }),
    fields: record.fields,
  };
}

function meterOf(
  { meter, placement }: Target,
  groupValues: Record<string, FieldValue> | undefined,
  now: Date,
): DryRunMeter {
  const period =
    placement === 'next'
      ? nextPeriod(
          new Date(meter.periodEnd),
          now,
          meter.meterType.resetSchedule,
          meter.meterType.timezone,
        )
      : undefined;
  return {
    id: meter.id,
    meterTypeId: meter.meterTypeId,
    meterTypeName: meter.meterType.name,
    category: meter.meterType.category,
    placement,
    periodStart: period ? period.periodStart.toISOString() : meter.periodStart,
    periodEnd: period ? period.periodEnd.toISOString() : meter.periodEnd,
    ...(groupValues ? { groupKey: groupKey(groupValues), groupValues } : {}),
  };
}
