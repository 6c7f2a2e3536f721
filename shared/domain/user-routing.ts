/**
 * How one user's meters take records: the guiding-rule router over the meters as read, and per
 * route what every record it routes shares (its meters, their open periods, the target lists).
 * Built once per user and batch attempt and asked once per record, so it hands out shared,
 * frozen lists and decisions instead of building new ones for every record.
 */
import { GuidingRouter, type RoutingResult } from './guiding.js';
import type { MeterState, PeriodPlacement } from './meter-usage.js';
import { epochMillis, placeInPeriod, placeUsageTime } from './meter-usage.js';
import type { StreamConfig } from './stream-schemas.js';
import type { AggregationType, FieldValue } from './types.js';

/** A meter that takes a record, and the period it takes it in. */
export interface Target {
  meter: MeterState;
  placement: PeriodPlacement;
}

/** The decision to count a record in these meters' periods, with the field values they keep. */
export interface ApplyDecision {
  kind: 'apply';
  targets: readonly Target[];
  groupValues?: Record<string, FieldValue>;
  carry?: Record<string, FieldValue>;
}

/** Whether a meter of this aggregation reads the record's value (`increment` and `unique` do not). */
export function needsRecordValue(type: AggregationType): boolean {
  return type !== 'increment' && type !== 'unique';
}

/** A user's meter as guiding rules see it. */
interface Candidate {
  meter: MeterState;
  category: string;
}

/** What the records of one route share. */
export interface RouteFacts {
  meters: readonly MeterState[];
  /** Whether any of the meters has an active window (`activeFrom` or `activeTo`). */
  hasActiveWindow: boolean;
  /** Whether any of the meters needs a record value (all but `increment` and `unique`). */
  needsValue: boolean;
  /** Whether any of the meters counts distinct values of a field (`unique`). */
  hasUnique: boolean;
  /** Whether its records keep field values: the rule groups by some, or the stream carries some. */
  keepsFields: boolean;
}

/** A meter that is a route's only one: its open period in epoch ms, and its target lists. */
interface SingleTargets {
  meter: MeterState;
  start: number;
  end: number;
  lists: Partial<Record<PeriodPlacement, readonly Target[]>>;
}

const NO_TARGETS: readonly Target[] = Object.freeze([]);

/**
 * The guiding-rule router of one user's meters, with per-route caches. Decisions made through
 * it share their target lists and, for records that keep no field values, the decision objects
 * themselves (frozen).
 */
export class UserRouting {
  private readonly router: GuidingRouter<Candidate>;
  /** Whether any of the user's meters refuses records over its capacity. */
  readonly anyRejectsOverCapacity: boolean;
  /** Whether any of the user's meters counts distinct values of a field (`unique`). */
  readonly anyUnique: boolean;
  /** Whether the stream carries fields of its records. */
  private readonly carries: boolean;
  // Short lists searched in order (a user has a few meters and routes), created on first use
  // with room for one: a user's routing is built for every batch, so it must be cheap.
  private facts: { routed: RoutingResult<Candidate>; facts: RouteFacts }[] | undefined;
  private singleTargets: SingleTargets[] | undefined;
  private applyDecisions: { targets: readonly Target[]; decision: ApplyDecision }[] | undefined;

  constructor(stream: StreamConfig, meters: readonly MeterState[]) {
    // One loop over the meters, without callbacks: this runs for every user of every batch.
    const candidates: Candidate[] = [];
    let rejects = false;
    let unique = false;
    for (const meter of meters) {
      // A meter whose last period was closed (deleted on reset, past its active window) takes no usage.
      if (meter.endedAt === undefined)
        candidates.push({ meter, category: meter.meterType.category });
      if (meter.meterType.capacityPolicy === 'reject') rejects = true;
      if (meter.meterType.aggregation.type === 'unique') unique = true;
    }
    this.router = new GuidingRouter(stream.guidingRules, candidates);
    this.anyRejectsOverCapacity = rejects;
    this.anyUnique = unique;
    this.carries = stream.carryFirst.length > 0 || stream.carryLast.length > 0;
  }

  /** The meters of the first guiding rule that matches the record and has some, or why none. */
  route(fields: Record<string, unknown>): RoutingResult<Candidate> {
    return this.router.route(fields);
  }

  /** What the records of one route share: its meters, whether any has an active window or needs a value. */
  factsOf(routed: RoutingResult<Candidate> & { ok: true }): RouteFacts {
    for (const known of this.facts ?? []) if (known.routed === routed) return known.facts;
    // One loop, no callbacks: this runs for every route of every user of every batch.
    const meters: MeterState[] = [];
    const facts = {
      meters,
      hasActiveWindow: false,
      needsValue: false,
      hasUnique: false,
      keepsFields: this.carries || (routed.rule.groupBy?.length ?? 0) > 0,
    };
    for (const { meter } of routed.meters) {
      meters.push(meter);
      const type = meter.meterType;
      if (type.activeFrom !== undefined || type.activeTo !== undefined) {
        facts.hasActiveWindow = true;
      }
      if (needsRecordValue(type.aggregation.type)) facts.needsValue = true;
      if (type.aggregation.type === 'unique') facts.hasUnique = true;
    }
    this.facts = appended(this.facts, { routed, facts });
    return facts;
  }

  /** The meters among `meters` that take a record of this usage time, with its period. */
  targetsOf(meters: readonly MeterState[], usageTime: number): readonly Target[] {
    if (meters.length === 1) {
      const single = this.singleTargetsOf(meters[0] as MeterState);
      // The period's bounds are read once per meter, not per record.
      const placement = placeInPeriod(usageTime, single.start, single.end);
      // A meter deleted at its period end has no next period to count this record in.
      if (placement === 'next' && single.meter.deleteOnReset) return NO_TARGETS;
      let list = single.lists[placement];
      if (!list) {
        list = Object.freeze([Object.freeze({ meter: single.meter, placement })]);
        single.lists[placement] = list;
      }
      return list;
    }
    return placedIn(meters, usageTime);
  }

  private singleTargetsOf(meter: MeterState): SingleTargets {
    for (const known of this.singleTargets ?? []) if (known.meter === meter) return known;
    const single: SingleTargets = {
      meter,
      start: epochMillis(meter.periodStart),
      end: epochMillis(meter.periodEnd),
      lists: {},
    };
    this.singleTargets = appended(this.singleTargets, single);
    return single;
  }

  /** The decision to apply a record that keeps no field values to these targets. */
  applyTo(targets: readonly Target[]): ApplyDecision {
    for (const known of this.applyDecisions ?? []) {
      if (known.targets === targets) return known.decision;
    }
    const decision: ApplyDecision = Object.freeze({ kind: 'apply', targets });
    this.applyDecisions = appended(this.applyDecisions, { targets, decision });
    return decision;
  }
}

/** The list with the item added (a new one-item list for none). */
function appended<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

/** Every meter with the period it takes this usage time in, but for meters deleted before it. */
function placedIn(meters: readonly MeterState[], usageTime: number): Target[] {
  return meters
    .map((meter) => ({ meter, placement: placeUsageTime(meter, usageTime) }))
    .filter((t) => !(t.placement === 'next' && t.meter.deleteOnReset));
}
