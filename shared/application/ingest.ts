/**
 * Ingestion: one Kinesis batch (one shard, in sequence order) becomes metered usage, exactly
 * once, or data-correction entries with a reason (DESIGN.md 2.1, 2.2, 2.4, 2.5).
 *
 * Per batch: 1. decode, enrich and validate every record; 2. per user (in parallel): read the
 * user's meters once, route each record with the guiding rules, place it in a period, check
 * the active window and capacity, de-duplicate by event id; 3. per meter: pre-aggregate the
 * batch and write it in ONE conditional update that also advances the meter's position for
 * this shard (a retried or replayed record is at or below it and is skipped); 4. push due
 * thresholds into the meter's outbox; 5. store what could not be metered in data correction.
 * Only infrastructure failures are reported back (as batch item failures, and as failures with
 * their cause for the log and the metrics); bad records never fail or block the batch.
 */
import { Aggregator, applyValue, groupKey, mergeAggregates } from '../domain/aggregation.js';
import {
  createRouter,
  type GuidingRule,
  groupValuesOf,
  keptValuesOf,
  type RoutingResult,
} from '../domain/guiding.js';
import type { MeterType } from '../domain/meter.js';
import type { MeterState, PeriodPlacement, PeriodRule, ShardSlot } from '../domain/meter-usage.js';
import {
  appliedSequence,
  bareSequence,
  closableAt,
  closePeriod,
  compareSequence,
  dueThresholdRecords,
  epochMillis,
  isActiveAt,
  periodTotals,
  placeInPeriod,
  placeUsageTime,
  sequenceAfter,
  sequenceKey,
} from '../domain/meter-usage.js';
import type { StreamConfig } from '../domain/schemas.js';
import { admitsWithinCapacity, hasThresholds } from '../domain/thresholds.js';
import type { FieldValue } from '../domain/types.js';
import type { UsageRecord } from '../domain/usage-record.js';
import { parseUsageRecord } from '../domain/usage-record.js';
import type {
  CorrectionReason,
  DataCorrection,
  DataCorrectionStore,
} from '../ports/data-correction-store.js';
import { correctionData, correctionIdFor } from '../ports/data-correction-store.js';
import type { IngestStore, StreamPosition } from '../ports/ingest-store.js';
import { forEachLimited } from './concurrency.js';

/** One record of a Kinesis batch, as the ingest use case sees it. */
export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** The record's bytes. */
  data: Uint8Array;
  /** When Kinesis received it, epoch ms (the default usage time). */
  arrivalTime: number;
}

/** Counts of one batch, for metrics. */
export interface IngestCounts {
  received: number;
  metered: number;
  corrected: Partial<Record<CorrectionReason, number>>;
  duplicates: number;
  metersUpdated: number;
  thresholdsFired: number;
  /** Records held back by infrastructure failures: the shard retries them. */
  failed: number;
}

/** Where in a batch an infrastructure failure held records back. */
export type IngestFailureStage = 'correction-lookup' | 'meter' | 'store-corrections';

/**
 * An infrastructure failure (DynamoDB unreachable, throttled, denied) that held records of the
 * batch back for a retry. It is handed to the caller rather than swallowed: every one must be
 * logged with its cause and counted (DESIGN.md 2.7).
 */
export interface IngestFailure {
  stage: IngestFailureStage;
  /** The error as caught. */
  error: unknown;
  /** How many of the batch's records it held back. */
  records: number;
  /** The user whose records it held back (stage `meter`). */
  userId?: string;
}

export interface IngestOutcome {
  /** Sequence numbers to report as batch item failures (infrastructure failures only). */
  failedSequenceNumbers: string[];
  /** The infrastructure failures behind them, with their causes. */
  failures: IngestFailure[];
  counts: IngestCounts;
  /** Meters that put records into their outbox (partial pushes, periods closed on the way). */
  metersWithOutbox: MeterState[];
}

export interface IngestDeps {
  store: IngestStore;
  corrections: DataCorrectionStore;
  /** Reads a meter type's current schedule when ingestion closes a period on the way. */
  meterType: (id: string) => Promise<MeterType | undefined>;
  now: () => Date;
  /** How many users are processed at once. */
  concurrency?: number;
}

const MAX_ATTEMPTS = 6;

/** A parsed record with its position. */
interface Entry {
  position: StreamRecord;
  record: UsageRecord;
  /** The record's sequence number, bare (see `compareSequence`), compared with the meters' positions. */
  seq: string;
}

/** A meter that takes a record, and the period it takes it in. */
interface Target {
  meter: MeterState;
  placement: PeriodPlacement;
}

type Decision =
  | {
      kind: 'apply';
      targets: readonly Target[];
      groupValues?: Record<string, FieldValue>;
      carry?: Record<string, FieldValue>;
    }
  | { kind: 'correct'; reason: CorrectionReason; message: string; meterIds?: string[] }
  | { kind: 'already-metered' };

function newCounts(received: number): IngestCounts {
  return {
    received,
    metered: 0,
    corrected: {},
    duplicates: 0,
    metersUpdated: 0,
    thresholdsFired: 0,
    failed: 0,
  };
}

/** Meters one batch of one shard. */
export async function ingestBatch(
  deps: IngestDeps,
  stream: StreamConfig,
  records: readonly StreamRecord[],
): Promise<IngestOutcome> {
  const now = deps.now();
  const counts = newCounts(records.length);
  const corrections: DataCorrection[] = [];
  const correct = (
    position: StreamRecord,
    reason: CorrectionReason,
    message: string,
    extra: Partial<DataCorrection> = {},
  ) => {
    counts.corrected[reason] = (counts.corrected[reason] ?? 0) + 1;
    corrections.push({
      id: correctionIdFor(stream.name, position.shardId, position.sequenceNumber),
      reason,
      message,
      streamName: stream.name,
      shardId: position.shardId,
      sequenceNumber: position.sequenceNumber,
      partitionKey: position.partitionKey,
      ...correctionData(position.data),
      receivedAt: new Date(position.arrivalTime).toISOString(),
      correctedAt: now.toISOString(),
      ...extra,
    });
  };

  const byUser = new Map<string, Entry[]>();
  let previous = '';
  let ascending = true;
  for (const position of records) {
    const parsed = parseUsageRecord(position.data, position.arrivalTime, stream);
    if (!parsed.ok) {
      correct(
        position,
        parsed.reason,
        parsed.message,
        parsed.userId ? { userId: parsed.userId } : {},
      );
      continue;
    }
    const seq = bareSequence(position.sequenceNumber);
    if (ascending && !sequenceAfter(seq, previous)) ascending = false;
    previous = seq;
    const entry = { position, record: parsed.record, seq };
    const list = byUser.get(parsed.record.userId);
    if (list) list.push(entry);
    else byUser.set(parsed.record.userId, [entry]);
  }
  // Every step below relies on a shard's records coming in sequence order, as Kinesis and the
  // event-source mapping hand them over: a meter's position only moves forward. Should a batch
  // ever come otherwise, each user's records are put in order and a repeated record kept once.
  if (!ascending) {
    for (const [userId, list] of byUser) byUser.set(userId, inSequenceOrder(list));
  }

  const failed: string[] = [];
  const failures: IngestFailure[] = [];
  // Records a failure held back are retried from its lowest sequence number.
  const fail = (failure: IngestFailure, sequenceNumbers: readonly string[]) => {
    failures.push(failure);
    counts.failed += failure.records;
    for (const sequenceNumber of sequenceNumbers) failed.push(sequenceNumber);
  };
  const metersWithOutbox: MeterState[] = [];
  const first = records[0];
  if (!first) return { failedSequenceNumbers: [], failures, counts, metersWithOutbox };
  try {
    await skipPreviouslyCorrected(deps, stream, first.shardId, byUser);
  } catch (error) {
    fail({ stage: 'correction-lookup', error, records: records.length }, [first.sequenceNumber]);
    return { failedSequenceNumbers: failed, failures, counts, metersWithOutbox };
  }
  await forEachLimited([...byUser.values()], deps.concurrency ?? 8, async (entries) => {
    try {
      const result = await meterUserEntries(deps, stream, entries, now, counts);
      for (const c of result.corrections) correct(c.entry.position, c.reason, c.message, c.extra);
      for (const meter of result.withOutbox) metersWithOutbox.push(meter);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const first = entries[0];
      if (!first) return;
      const userId = first.record.userId;
      fail({ stage: 'meter', error, records: entries.length, userId }, [
        first.position.sequenceNumber,
      ]);
    }
  });

  try {
    if (corrections.length > 0) {
      // Fixed-width keys sort like the sequence numbers they stand for.
      const highest =
        corrections.map((c) => sequenceKey(c.sequenceNumber)).sort()[corrections.length - 1] ?? '';
      await deps.corrections.raiseHighWaterMark(stream.name, first.shardId, highest);
      await deps.corrections.putAll(corrections);
    }
  } catch (error) {
    fail(
      { stage: 'store-corrections', error, records: corrections.length },
      corrections.map((c) => c.sequenceNumber),
    );
  }
  return { failedSequenceNumbers: lowest(failed), failures, counts, metersWithOutbox };
}

/**
 * A record put into data correction by an earlier attempt of this batch stays there: were it
 * metered now (say its meter was created in between), it would be in both. Records at or below
 * the shard's correction high-water mark are looked up and dropped from this attempt; the
 * mark keeps the look-up to retried stretches of the stream.
 */
async function skipPreviouslyCorrected(
  deps: IngestDeps,
  stream: StreamConfig,
  shardId: string,
  byUser: Map<string, Entry[]>,
): Promise<void> {
  const mark = await deps.corrections.highWaterMark(stream.name, shardId);
  if (mark === undefined) return;
  const idOf = (entry: Entry) =>
    correctionIdFor(stream.name, entry.position.shardId, entry.position.sequenceNumber);
  const bareMark = bareSequence(mark);
  const candidates = [...byUser.values()]
    .flat()
    .filter((entry) => compareSequence(entry.seq, bareMark) <= 0);
  if (candidates.length === 0) return;
  const corrected = await deps.corrections.existingIds(candidates.map(idOf));
  if (corrected.size === 0) return;
  for (const [userId, entries] of byUser) {
    const remaining = entries.filter((entry) => !corrected.has(idOf(entry)));
    if (remaining.length > 0) byUser.set(userId, remaining);
    else byUser.delete(userId);
  }
}

/** The entries sorted by sequence number, each sequence number once. */
function inSequenceOrder(entries: readonly Entry[]): Entry[] {
  const sorted = [...entries].sort((a, b) => compareSequence(a.seq, b.seq));
  return sorted.filter((entry, i) => i === 0 || sorted[i - 1]?.seq !== entry.seq);
}

/** The lowest sequence number of the list (Lambda resumes from the lowest reported failure). */
function lowest(sequenceNumbers: string[]): string[] {
  if (sequenceNumbers.length === 0) return [];
  return [sequenceNumbers.reduce((a, b) => (sequenceKey(a) <= sequenceKey(b) ? a : b))];
}

interface UserCorrection {
  entry: Entry;
  reason: CorrectionReason;
  message: string;
  extra: Partial<DataCorrection>;
}

/**
 * Meters the records of one user. On a conflict (the meter changed between read and write:
 * a reset, a delete, a concurrent capacity-checked write) it reads the meters again and starts
 * over; records already applied are skipped by their sequence numbers.
 */
async function meterUserEntries(
  deps: IngestDeps,
  stream: StreamConfig,
  entries: readonly Entry[],
  now: Date,
  counts: IngestCounts,
): Promise<{ corrections: readonly UserCorrection[]; withOutbox: readonly MeterState[] }> {
  const first = entries[0];
  if (!first) return { corrections: [], withOutbox: [] };
  const userId = first.record.userId;
  const shardId = first.position.shardId;
  // Records a meter took in an attempt that then met a conflict (made on the first conflict).
  let metered: Set<string> | undefined;
  // De-duplication claims this invocation holds, by sequence number (with de-duplication on).
  const claims = stream.deduplication.enabled ? new Map<string, StreamPosition>() : undefined;

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const loaded = await deps.store.loadMeters(stream.meterKey, userId);
    const preparing = loaded.map((meter) => prepareMeter(deps, meter, now, stream));
    // Only meters closed on the way wait for their type; the rest are ready at once.
    const prepared = preparing.some((p) => p instanceof Promise)
      ? await Promise.all(preparing)
      : (preparing as PreparedMeter[]);
    const meters = prepared.map((p) => p.state);
    const routing = new UserRouting(stream, meters);
    const decisions: Decision[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      decisions[i] = decide(stream, entries[i] as Entry, routing, metered);
    }
    if (claims) await deduplicate(deps, stream, entries, decisions, claims, now, counts);
    admitRecords(shardId, entries, decisions, routing.anyRejectsOverCapacity);

    const applied =
      prepared.length === 1
        ? [await writeMeter(deps, prepared[0] as PreparedMeter, shardId, entries, decisions, now)]
        : await Promise.all(
            prepared.map((meter) => writeMeter(deps, meter, shardId, entries, decisions, now)),
          );
    if (applied.includes('conflict')) {
      const taken = metered ?? new Set<string>();
      applied.forEach((result, i) => {
        if (result !== 'conflict' && result.wrote)
          markApplied(taken, entries, decisions, meters[i]);
      });
      metered = taken;
      continue;
    }

    let corrections: UserCorrection[] | undefined;
    for (let i = 0; i < entries.length; i++) {
      const decision = decisions[i];
      if (decision?.kind === 'apply') counts.metered++;
      else if (decision?.kind === 'correct') {
        corrections ??= [];
        corrections.push({
          entry: entries[i] as Entry,
          reason: decision.reason,
          message: decision.message,
          extra: decision.meterIds ? { userId, meterIds: decision.meterIds } : { userId },
        });
      }
    }
    if (claims && claims.size > 0) {
      await releaseClaimsOfCorrected(deps, stream, entries, decisions, claims);
    }

    let withOutbox: MeterState[] | undefined;
    for (const result of applied) {
      if (result === 'conflict' || !result.state) continue;
      if (result.wrote) counts.metersUpdated++;
      const fired = hasThresholds(result.state.meterType)
        ? await fireThresholds(deps, result.state, now, stream)
        : 0;
      counts.thresholdsFired += fired;
      if (fired > 0 || Object.keys(result.state.outbox).length > 0) {
        withOutbox ??= [];
        withOutbox.push(result.state);
      }
    }
    return { corrections: corrections ?? NONE, withOutbox: withOutbox ?? NONE };
  }
  throw new Error(`meters of user ${userId} kept changing; the batch will be retried`);
}

const NONE: readonly never[] = Object.freeze([]);

/** Remembers records a meter took, so a retry after a conflict never sends them to correction. */
function markApplied(
  metered: Set<string>,
  entries: readonly Entry[],
  decisions: Decision[],
  meter: MeterState | undefined,
) {
  if (!meter) return;
  entries.forEach((entry, i) => {
    const decision = decisions[i];
    if (decision?.kind === 'apply' && decision.targets.some((t) => t.meter.id === meter.id)) {
      metered.add(entry.position.sequenceNumber);
    }
  });
}

/**
 * Closes the meter's open period on the way when its end plus grace has passed (the reset is
 * late), so usage of the new period never lands in the old one. The write happens with the
 * batch's usage, conditioned on the meter's version.
 */
function prepareMeter(
  deps: IngestDeps,
  meter: MeterState,
  now: Date,
  stream: StreamConfig,
): PreparedMeter | Promise<PreparedMeter> {
  if (now.getTime() < closableAt(meter)) {
    // A capacity-rejecting meter admits records against its exact value: write it whole, by version.
    return meter.meterType.capacityPolicy === 'reject'
      ? { state: meter, replaceVersion: meter.version, closed: false }
      : { state: meter, closed: false };
  }
  return closeOnTheWay(deps, meter, now, stream);
}

async function closeOnTheWay(
  deps: IngestDeps,
  meter: MeterState,
  now: Date,
  stream: StreamConfig,
): Promise<PreparedMeter> {
  const type = await deps.meterType(meter.meterTypeId);
  const rule: PeriodRule = {
    resetSchedule: type?.resetSchedule ?? meter.meterType.resetSchedule,
    timezone: type?.timezone ?? meter.meterType.timezone,
  };
  return {
    state: closePeriod(meter, now, rule, stream).state,
    replaceVersion: meter.version,
    closed: true,
  };
}

/** A meter as read, possibly with its period closed in memory; `replaceVersion` asks for a whole-item write. */
interface PreparedMeter {
  state: MeterState;
  replaceVersion?: number;
  /** The open period was closed in memory: the meter must be written even without new usage. */
  closed: boolean;
}

/**
 * How one user's meters (as read in this attempt) take records: the guiding-rule router and,
 * per route, what every record it routes shares. Decisions made through it share their target
 * lists and, for records that keep no field values, the decision objects themselves (frozen).
 */
class UserRouting {
  readonly route: (fields: Record<string, unknown>) => RoutingResult<Candidate>;
  /** Whether any of the user's meters refuses records over its capacity. */
  readonly anyRejectsOverCapacity: boolean;
  // Short lists searched in order (a user has a few meters and routes), created on first use
  // with room for one: a user's routing is built for every batch, so it must be cheap.
  private facts: { routed: RoutingResult<Candidate>; facts: RouteFacts }[] | undefined;
  private singleTargets: SingleTargets[] | undefined;
  private applyDecisions: { targets: readonly Target[]; decision: Decision }[] | undefined;

  constructor(stream: StreamConfig, meters: readonly MeterState[]) {
    // A meter whose last period was closed (deleted on reset, past its active window) takes no usage.
    const candidates = meters
      .filter((meter) => meter.endedAt === undefined)
      .map((meter) => ({ meter, category: meter.meterType.category }));
    this.route = createRouter(stream.guidingRules, candidates);
    this.anyRejectsOverCapacity = meters.some(
      (meter) => meter.meterType.capacityPolicy === 'reject',
    );
  }

  /** What the records of one route share: its meters, whether any has an active window or needs a value. */
  factsOf(routed: RoutingResult<Candidate> & { ok: true }): RouteFacts {
    for (const known of this.facts ?? []) if (known.routed === routed) return known.facts;
    const meters = routed.meters.map((m) => m.meter);
    const facts = {
      meters,
      hasActiveWindow: meters.some(
        (meter) =>
          meter.meterType.activeFrom !== undefined || meter.meterType.activeTo !== undefined,
      ),
      needsValue: meters.some((meter) => meter.meterType.aggregation.type !== 'increment'),
    };
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
  applyTo(targets: readonly Target[]): Decision {
    for (const known of this.applyDecisions ?? []) {
      if (known.targets === targets) return known.decision;
    }
    const decision: Decision = Object.freeze({ kind: 'apply', targets });
    this.applyDecisions = appended(this.applyDecisions, { targets, decision });
    return decision;
  }
}

/** A meter that is a route's only one: its open period in epoch ms, and its target lists. */
interface SingleTargets {
  meter: MeterState;
  start: number;
  end: number;
  lists: Partial<Record<PeriodPlacement, readonly Target[]>>;
}

/** The list with the item added (a new one-item list for none). */
function appended<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

/** A user's meter as guiding rules see it. */
interface Candidate {
  meter: MeterState;
  category: string;
}

interface RouteFacts {
  meters: readonly MeterState[];
  hasActiveWindow: boolean;
  needsValue: boolean;
}

const NO_TARGETS: readonly Target[] = Object.freeze([]);

// The helpers below keep closures out of the per-record functions that call them: a closure
// over a record's values would cost its caller a heap-allocated context on every call.

/** The meters whose active window includes the usage time. */
function activeAt(meters: readonly MeterState[], usageTime: number): MeterState[] {
  return meters.filter((meter) => isActiveAt(meter, usageTime));
}

/** Every meter with the period it takes this usage time in, but for meters deleted before it. */
function placedIn(meters: readonly MeterState[], usageTime: number): Target[] {
  return meters
    .map((meter) => ({ meter, placement: placeUsageTime(meter, usageTime) }))
    .filter((t) => !(t.placement === 'next' && t.meter.deleteOnReset));
}

/** Decides what happens to one record: which meters take it in which period, or why not. */
function decide(
  stream: StreamConfig,
  entry: Entry,
  routing: UserRouting,
  metered: ReadonlySet<string> | undefined,
): Decision {
  const { record } = entry;
  const routed = routing.route(record.fields);
  if (!routed.ok) {
    if (metered?.has(entry.position.sequenceNumber)) return { kind: 'already-metered' };
    return routed.reason === 'NO_MATCHING_RULE'
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
  const facts = routing.factsOf(routed);
  const active = facts.hasActiveWindow ? activeAt(facts.meters, record.usageTime) : facts.meters;
  if (active.length === 0) {
    return {
      kind: 'correct',
      reason: 'OUTSIDE_ACTIVE_WINDOW',
      message: `${new Date(record.usageTime).toISOString()} is outside the active window of the meter type`,
      meterIds: facts.meters.map((meter) => meter.id),
    };
  }
  const needsValue =
    active === facts.meters
      ? facts.needsValue
      : active.some((meter) => meter.meterType.aggregation.type !== 'increment');
  if (record.value === undefined && needsValue) {
    return {
      kind: 'correct',
      reason: 'INVALID_RECORD',
      message: `${stream.fields.value}: is required`,
    };
  }
  const targets = routing.targetsOf(active, record.usageTime);
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
  const kept = keptFieldValues(stream, routed.rule, record.fields);
  if (!kept.ok) return { kind: 'correct', reason: 'INVALID_RECORD', message: kept.message };
  if (!kept.groupValues && !kept.carry) return routing.applyTo(targets);
  return { kind: 'apply', targets, groupValues: kept.groupValues, carry: kept.carry };
}

const carryFields = new WeakMap<StreamConfig, readonly string[]>();

/** The stream's carry fields, first and last together, worked out once per stream. */
function carryFieldsOf(stream: StreamConfig): readonly string[] {
  let fields = carryFields.get(stream);
  if (!fields) {
    fields = [...new Set([...stream.carryFirst, ...stream.carryLast])];
    carryFields.set(stream, fields);
  }
  return fields;
}

/**
 * The values a meter keeps of a record: its group-by fields (missing ones are null) and the
 * stream's carry fields that it has. A value too large or too deep to keep refuses the record.
 */
function keptFieldValues(
  stream: StreamConfig,
  rule: GuidingRule,
  fields: Record<string, unknown>,
):
  | { ok: true; groupValues?: Record<string, FieldValue>; carry?: Record<string, FieldValue> }
  | { ok: false; message: string } {
  const carryFields = carryFieldsOf(stream);
  if ((rule.groupBy === undefined || rule.groupBy.length === 0) && carryFields.length === 0)
    return NOTHING_KEPT;
  const groups = groupValuesOf(rule, fields);
  if (!groups.ok) return groups;
  const carry = keptValuesOf(fields, carryFields, true);
  if (!carry.ok) return carry;
  return { ok: true, groupValues: groups.values, carry: carry.values };
}

const NOTHING_KEPT = Object.freeze({ ok: true } as const);

/**
 * De-duplicates by event id (when the stream enables it): the first position to claim an id
 * meters it; a later one is a duplicate, unless the holder is an earlier record of this same
 * shard that no meter took (it went nowhere), in which case this one takes the claim over.
 * A record that crashed half-way finds its own claim and goes on.
 */
async function deduplicate(
  deps: IngestDeps,
  stream: StreamConfig,
  entries: readonly Entry[],
  decisions: Decision[],
  claims: Map<string, StreamPosition>,
  now: Date,
  counts: IngestCounts,
): Promise<void> {
  if (!stream.deduplication.enabled) return;
  const expiresAt = Math.floor(now.getTime() / 1000) + stream.deduplication.windowHours * 3600;
  const inBatch = new Set(entries.map((e) => e.position.sequenceNumber));
  // Within the batch the first record of an event id is the one that claims it; the rest are
  // its duplicates. The claims themselves go out concurrently.
  const firstOfKey = new Map<string, number>();
  const claimants: number[] = [];
  entries.forEach((entry, i) => {
    const key = dedupKeyOf(entry.record);
    if (decisions[i]?.kind !== 'apply' || key === undefined) return;
    if (firstOfKey.has(key)) {
      decisions[i] = { kind: 'already-metered' };
      counts.duplicates++;
      return;
    }
    firstOfKey.set(key, i);
    claimants.push(i);
  });
  await forEachLimited(claimants, DEDUP_CONCURRENCY, async (i) => {
    const entry = entries[i];
    const decision = decisions[i];
    const eventId = entry ? dedupKeyOf(entry.record) : undefined;
    if (!entry || decision?.kind !== 'apply' || eventId === undefined) return;
    const position = {
      shardId: entry.position.shardId,
      sequenceNumber: entry.position.sequenceNumber,
    };
    const claim = await deps.store.claimEvent(stream.name, eventId, position, expiresAt, now);
    if (claim.claimed) {
      claims.set(position.sequenceNumber, position);
      return;
    }
    const holder = claim.holder;
    const holderWentNowhere =
      holder.shardId === position.shardId &&
      !inBatch.has(holder.sequenceNumber) &&
      compareSequence(bareSequence(holder.sequenceNumber), entry.seq) < 0 &&
      decision.targets.every(
        (t) =>
          compareSequence(
            appliedSequence(t.meter, holder.shardId),
            bareSequence(holder.sequenceNumber),
          ) < 0,
      );
    if (
      holderWentNowhere &&
      (await deps.store.takeOverClaim(stream.name, eventId, holder, position, expiresAt))
    ) {
      claims.set(position.sequenceNumber, position);
      return;
    }
    decisions[i] = { kind: 'already-metered' };
    counts.duplicates++;
  });
}

/** De-duplication claims of one user's records in flight at once. */
const DEDUP_CONCURRENCY = 16;

/**
 * The de-duplication key of a record: its event id, per user. A producer's retry repeats the
 * whole record, user included; two customers' records never cancel each other out.
 */
function dedupKeyOf(record: UsageRecord): string | undefined {
  return record.eventId === undefined ? undefined : JSON.stringify([record.userId, record.eventId]);
}

async function releaseClaimsOfCorrected(
  deps: IngestDeps,
  stream: StreamConfig,
  entries: readonly Entry[],
  decisions: Decision[],
  claims: Map<string, StreamPosition>,
): Promise<void> {
  if (claims.size === 0) return;
  for (const [i, entry] of entries.entries()) {
    const position = claims.get(entry.position.sequenceNumber);
    const eventId = dedupKeyOf(entry.record);
    if (position && eventId !== undefined && decisions[i]?.kind === 'correct') {
      await deps.store.releaseClaim(stream.name, eventId, position);
    }
  }
}

/** A meter item stays well below DynamoDB's 400 KB: new groups beyond this are refused. */
const MAX_METER_ITEM_BYTES = 256 * 1024;

/**
 * Decides, before anything is written, which records every target meter can take: a
 * capacity-rejecting meter admits records one by one against its running value, and no meter
 * takes a new group once its item would grow past MAX_METER_ITEM_BYTES. A record one target
 * refuses goes to data correction whole, so it is never counted in some meters and not others.
 */
function admitRecords(
  shardId: string,
  entries: readonly Entry[],
  decisions: Decision[],
  anyRejectsOverCapacity: boolean,
): void {
  // Worked out only for meters that need it (capacity-rejecting, or taking grouped records).
  const budgets = new Map<
    string,
    { running: string | null; bytesLeft: number; groups: Set<string> }
  >();
  const budgetOf = (meter: MeterState) => {
    let budget = budgets.get(meter.id);
    if (!budget) {
      budget = {
        running: periodTotals(meter.meterType.aggregation.type, meter.usage).agg.value,
        bytesLeft: MAX_METER_ITEM_BYTES - JSON.stringify(meter).length,
        groups: new Set(
          [...Object.values(meter.usage.shards), ...Object.values(meter.next.shards)].flatMap(
            (slot) => Object.keys(slot.agg.groups),
          ),
        ),
      };
      budgets.set(meter.id, budget);
    }
    return budget;
  };
  entries.forEach((entry, i) => {
    const decision = decisions[i];
    if (decision?.kind !== 'apply') return;
    if (
      !decision.groupValues &&
      !(
        anyRejectsOverCapacity &&
        decision.targets.some((t) => t.meter.meterType.capacityPolicy === 'reject')
      )
    )
      return;
    const seq = entry.seq;
    const takers = decision.targets.filter(
      (t) => compareSequence(seq, appliedSequence(t.meter, shardId)) > 0,
    );
    const key = decision.groupValues ? groupKey(decision.groupValues) : undefined;
    // A new group is kept in the slot and again in the final record of the period.
    const groupCost = key === undefined ? 0 : 2 * (2 * key.length + 120);
    const value = entry.record.value ?? '1';
    for (const { meter, placement } of takers) {
      const budget = budgetOf(meter);
      const type = meter.meterType.aggregation.type;
      if (
        meter.meterType.capacityPolicy === 'reject' &&
        placement !== 'next' &&
        !admitsWithinCapacity(type, budget.running, value, meter.meterType.capacity)
      ) {
        decisions[i] = {
          kind: 'correct',
          reason: 'CAPACITY_EXCEEDED',
          message: `the record would take meter ${meter.id} over its capacity of ${meter.meterType.capacity}`,
          meterIds: [meter.id],
        };
        return;
      }
      if (key !== undefined && !budget.groups.has(key) && budget.bytesLeft < groupCost) {
        decisions[i] = {
          kind: 'correct',
          reason: 'CAPACITY_EXCEEDED',
          message: `meter ${meter.id} keeps too many groups in this period to take another`,
          meterIds: [meter.id],
        };
        return;
      }
    }
    for (const { meter, placement } of takers) {
      const budget = budgetOf(meter);
      if (meter.meterType.capacityPolicy === 'reject' && placement !== 'next') {
        budget.running = applyValue(meter.meterType.aggregation.type, budget.running, value);
      }
      if (key !== undefined && !budget.groups.has(key)) {
        budget.groups.add(key);
        budget.bytesLeft -= groupCost;
      }
    }
  });
}

type WriteResult = 'conflict' | { wrote: boolean; state: MeterState | undefined };

/**
 * Writes one meter's share of the batch, as admitted by `admitRecords`. Records at or below
 * the meter's position for this shard were applied before and are skipped. A meter closed in
 * memory, or capacity-rejecting, is written whole, conditioned on its version.
 */
async function writeMeter(
  deps: IngestDeps,
  prepared: PreparedMeter,
  shardId: string,
  entries: readonly Entry[],
  decisions: Decision[],
  now: Date,
): Promise<WriteResult> {
  const meter = prepared.state;
  const applied = appliedSequence(meter, shardId);
  const type = meter.meterType.aggregation.type;
  // The batch's records for this meter, pre-aggregated in sequence order per period.
  let current: Aggregator | undefined;
  let next: Aggregator | undefined;
  let late = 0;
  let newSeq: string | undefined;
  for (let i = 0; i < entries.length; i++) {
    const decision = decisions[i];
    if (decision?.kind !== 'apply') continue;
    const placement = placementIn(decision.targets, meter.id);
    if (placement === undefined) continue;
    const entry = entries[i] as Entry;
    const seq = entry.seq;
    // A user's entries are in sequence order (see ingestBatch): once past the position, all are.
    if (newSeq === undefined && compareSequence(seq, applied) <= 0) continue;
    newSeq = seq;
    const { record } = entry;
    if (placement === 'next') next ??= new Aggregator(type);
    else current ??= new Aggregator(type);
    const aggregator = (placement === 'next' ? next : current) as Aggregator;
    aggregator.add(record.value ?? '1', record.usageTime, decision.groupValues, decision.carry);
    if (placement === 'late') late++;
  }
  if (newSeq === undefined && !prepared.closed) return { wrote: false, state: meter };
  // The meter keeps its position per shard as a fixed-width key.
  const newSeqKey = newSeq === undefined ? undefined : sequenceKey(newSeq);

  const slotOf = (
    usage: MeterState['usage'],
    aggregator: Aggregator | undefined,
    extraLate: number,
  ): ShardSlot | undefined => {
    if (aggregator === undefined) return undefined;
    const old = usage.shards[shardId];
    const agg = aggregator.result();
    return {
      agg: old ? mergeAggregates(type, old.agg, agg) : agg,
      late: (old?.late ?? 0) + extraLate,
    };
  };
  const currentSlot = slotOf(meter.usage, current, late);
  const nextSlot = slotOf(meter.next, next, 0);

  if (prepared.replaceVersion !== undefined) {
    const expectedVersion = prepared.replaceVersion;
    const state: MeterState = {
      ...meter,
      usage: currentSlot
        ? { ...meter.usage, shards: { ...meter.usage.shards, [shardId]: currentSlot } }
        : meter.usage,
      next: nextSlot
        ? { ...meter.next, shards: { ...meter.next.shards, [shardId]: nextSlot } }
        : meter.next,
      seq: newSeqKey ? { ...meter.seq, [shardId]: newSeqKey } : meter.seq,
      updatedAt: now.toISOString(),
    };
    if (!(await deps.store.replaceMeter(state, expectedVersion))) return 'conflict';
    return { wrote: true, state: { ...state, version: expectedVersion + 1 } };
  }
  const state = await deps.store.writeShardUsage({
    meter,
    shardId,
    expectedSeq: meter.seq[shardId],
    newSeq: newSeqKey as string,
    currentSlot,
    nextSlot,
    now,
  });
  return state ? { wrote: true, state } : 'conflict';
}

/** The period a meter takes a record in, if it is one of the record's targets. */
function placementIn(targets: readonly Target[], meterId: string): PeriodPlacement | undefined {
  for (const target of targets) if (target.meter.id === meterId) return target.placement;
  return undefined;
}

/** Puts thresholds reached and not yet pushed into the outbox; how many fired. */
async function fireThresholds(
  deps: IngestDeps,
  meter: MeterState,
  now: Date,
  stream: StreamConfig,
): Promise<number> {
  const due = dueThresholdRecords(meter, now, stream);
  if (due.records.length === 0) return 0;
  // A false answer means the period moved on or another shard fired them first: nothing is lost,
  // the state-based check runs again on the next write or at period end.
  return (await deps.store.addThresholdRecords(meter, due.records, due.fired, now))
    ? due.records.length
    : 0;
}
