/**
 * What happens to one usage record (DESIGN.md 2.1, 2.5): which of the user's meters take it and
 * in which period, or the reason it goes to data correction. Decided before anything is
 * written, from the meters as read; pure.
 */
import type { RoutingFailureReason } from './guiding.js';
import { keptFieldValues } from './kept-fields.js';
import type { MeterState, PeriodPlacement } from './meter-usage.js';
import { isActiveAt } from './meter-usage.js';
import type { StreamConfig } from './stream-schemas.js';
import { uniqueValueOf } from './unique-field.js';
import type { UsageRecord } from './usage-record.js';
import type { ApplyDecision, RouteFacts, Target, UserRouting } from './user-routing.js';
import { needsRecordValue } from './user-routing.js';

/** A usage record with its sequence number, bare (see `bareSequence`), as a batch holds it. */
export interface SequencedRecord {
  record: UsageRecord;
  seq: string;
}

/** Why ingestion refuses a routed record (the data-correction reason codes it gives). */
export type RefusalReason =
  | RoutingFailureReason
  | 'INVALID_RECORD'
  | 'OUTSIDE_ACTIVE_WINDOW'
  | 'CAPACITY_EXCEEDED'
  | 'LATE_RECORD'
  | 'UNIQUE_LIMIT_EXCEEDED';

/** The decision to put a record into data correction. */
export interface Refusal {
  kind: 'correct';
  reason: RefusalReason;
  message: string;
  /** The meters involved (e.g. the one whose capacity the record would exceed). */
  meterIds?: string[];
}

/** The decision to skip a record a meter already took (in an earlier attempt, or a duplicate). */
export interface AlreadyMetered {
  kind: 'already-metered';
}

export type Decision = ApplyDecision | Refusal | AlreadyMetered;

/** Shared by every record it describes, so frozen. */
export const ALREADY_METERED: AlreadyMetered = Object.freeze({ kind: 'already-metered' });

/**
 * Decides what happens to one record: routed by the guiding rules, within the meters' active
 * windows, with a value where a meter needs one, placed in a period (late ones per the stream's
 * policy), with the field values the meters keep. `alreadyMetered`: a meter took the record in
 * an earlier attempt of this batch, so it is never sent to data correction for where it falls
 * now (it would be counted and corrected): a record that no longer routes, or whose meters are
 * gone or outside their window, is skipped; a late one counts late whatever the late policy.
 */
export function decide(
  stream: StreamConfig,
  record: UsageRecord,
  routing: UserRouting,
  alreadyMetered: boolean,
): Decision {
  const routed = routing.route(record.fields);
  if (!routed.ok) {
    if (alreadyMetered) return ALREADY_METERED;
    return routingRefusal(stream, record, routed.reason);
  }
  const facts = routing.factsOf(routed);
  const active = facts.hasActiveWindow ? activeAt(facts.meters, record.usageTime) : facts.meters;
  if (active.length === 0) {
    if (alreadyMetered) return ALREADY_METERED;
    return {
      kind: 'correct',
      reason: 'OUTSIDE_ACTIVE_WINDOW',
      message: `${new Date(record.usageTime).toISOString()} is outside the active window of the meter type`,
      meterIds: facts.meters.map((meter) => meter.id),
    };
  }
  if (record.value === undefined && needsValue(facts, active)) {
    return {
      kind: 'correct',
      reason: 'INVALID_RECORD',
      message: `${stream.fields.value}: is required`,
    };
  }
  if (facts.hasUnique) {
    const refusal = missingUniqueValue(record, active);
    if (refusal) return refusal;
  }
  const targets = routing.targetsOf(active, record.usageTime);
  const refusal = placementRefusal(stream, record, active, targets);
  if (refusal && alreadyMetered) {
    if (targets.length === 0) return ALREADY_METERED;
  } else if (refusal) return refusal;
  // Most routes keep no field values: their records share one decision per list of targets.
  if (!facts.keepsFields) return routing.applyTo(targets);
  const kept = keptFieldValues(stream, routed.rule, record.fields);
  if (!kept.ok) return { kind: 'correct', reason: 'INVALID_RECORD', message: kept.message };
  if (!kept.groupValues && !kept.carry) return routing.applyTo(targets);
  return { kind: 'apply', targets, groupValues: kept.groupValues, carry: kept.carry };
}

/** Why a record the guiding rules cannot route goes to data correction. */
function routingRefusal(
  stream: StreamConfig,
  record: UsageRecord,
  reason: RoutingFailureReason,
): Refusal {
  return reason === 'NO_MATCHING_RULE'
    ? {
        kind: 'correct',
        reason: 'NO_MATCHING_RULE',
        message: 'no guiding rule matches the record',
      }
    : {
        kind: 'correct',
        reason: 'NO_METER',
        message: `user '${record.userId}' has no meter under meter key '${stream.meterKey}' in the category of a matching rule`,
      };
}

/** Whether a meter active at the record's time needs a value (all but `increment` and `unique` do). */
function needsValue(facts: RouteFacts, active: readonly MeterState[]): boolean {
  return active === facts.meters
    ? facts.needsValue
    : active.some((meter) => needsRecordValue(meter.meterType.aggregation.type));
}

/** Why the record cannot be counted by a unique meter it routes to: its field is missing or not a scalar. */
function missingUniqueValue(
  record: UsageRecord,
  active: readonly MeterState[],
): Refusal | undefined {
  for (const meter of active) {
    const field = meter.meterType.aggregation.field;
    if (meter.meterType.aggregation.type !== 'unique' || field === undefined) continue;
    const value = uniqueValueOf(field, record.fields);
    if (!value.ok) {
      return {
        kind: 'correct',
        reason: 'INVALID_RECORD',
        message: value.message,
        meterIds: [meter.id],
      };
    }
  }
  return undefined;
}

/**
 * Why the record cannot be counted in the periods it falls in: no meter has a period for it
 * (deleted at the end of the one before), or it is late and the stream corrects late records.
 */
function placementRefusal(
  stream: StreamConfig,
  record: UsageRecord,
  active: readonly MeterState[],
  targets: readonly Target[],
): Refusal | undefined {
  if (targets.length === 0) {
    return {
      kind: 'correct',
      reason: 'NO_METER',
      message: `the meters of user '${record.userId}' are deleted at the end of the period before ${new Date(record.usageTime).toISOString()}`,
      meterIds: active.map((meter) => meter.id),
    };
  }
  if (
    stream.lateRecordPolicy === 'data-correction' &&
    targets.some((t) => t.placement === 'late')
  ) {
    return {
      kind: 'correct',
      reason: 'LATE_RECORD',
      message: `${new Date(record.usageTime).toISOString()} belongs to a period that is already closed`,
      meterIds: targets.filter((t) => t.placement === 'late').map((t) => t.meter.id),
    };
  }
  return undefined;
}

// The helpers here keep closures out of the per-record functions that call them: a closure
// over a record's values would cost its caller a heap-allocated context on every call.

/** The meters whose active window includes the usage time. */
function activeAt(meters: readonly MeterState[], usageTime: number): MeterState[] {
  return meters.filter((meter) => isActiveAt(meter, usageTime));
}

/** The period a meter takes a record in, if it is one of the record's targets. */
export function placementIn(
  targets: readonly Target[],
  meterId: string,
): PeriodPlacement | undefined {
  for (const target of targets) if (target.meter.id === meterId) return target.placement;
  return undefined;
}
