/**
 * Ingestion of one user's records of a batch (DESIGN.md 2.1, 2.2, 2.4, 2.5), one attempt at a
 * time: read the user's meters once; route and place every record (`decide`); de-duplicate by
 * event id; admit against capacity and item size; write each meter's share together with its
 * position for the shard; push the thresholds the writes reached. On a conflict (a meter changed
 * between read and write: a reset, a delete, a concurrent capacity-checked write) the attempt
 * starts over from a fresh read; records already applied are skipped by their sequence numbers.
 */
import type { StreamPosition } from '../domain/event-dedup.js';
import { type Decision, decide, type Refusal } from '../domain/ingest-decision.js';
import type { MeterState } from '../domain/meter-usage.js';
import { appliedSequence, compareSequence } from '../domain/meter-usage.js';
import { admitRecords } from '../domain/record-admission.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { hasThresholds } from '../domain/thresholds.js';
import type { UniquePlan } from '../domain/unique-values.js';
import { UserRouting } from '../domain/user-routing.js';
import type { CorrectionReason, DataCorrection } from '../ports/data-correction-store.js';
import type { EventClaims } from '../ports/event-claims.js';
import type { IngestCounts } from '../ports/ingest-metrics.js';
import type { ThresholdOutbox } from '../ports/threshold-outbox.js';
import type { UniqueValueClaims } from '../ports/unique-claims.js';
import type { UsageWriter } from '../ports/usage-writer.js';
import type { UserMeterReader } from '../ports/user-meter-reader.js';
import type { Entry } from './ingest-decode.js';
import { deduplicate, releaseClaimsOfCorrected } from './ingest-dedup.js';
import { NO_PLANS, planUniqueMeters } from './ingest-unique.js';
import {
  fireThresholds,
  type MeterTypeLookup,
  type PreparedMeter,
  prepareMeter,
  type WriteResult,
  writeMeter,
} from './ingest-write.js';

const MAX_ATTEMPTS = 6;

/** What metering one user's records needs. */
export interface UserMeteringDeps {
  store: UserMeterReader & UsageWriter & ThresholdOutbox & EventClaims & UniqueValueClaims;
  meterType: MeterTypeLookup;
  /** Stores records in data correction; called before any meter of the attempt is written. */
  storeCorrections: (corrections: readonly UserCorrection[]) => Promise<void>;
}

/** A record of the user that goes to data correction, and why. */
export interface UserCorrection {
  entry: Entry;
  reason: CorrectionReason;
  message: string;
  extra: Partial<DataCorrection>;
}

/** What became of one user's records, besides the counts and the stored corrections. */
export interface UserOutcome {
  /** Meters that put records into their outbox (partial pushes, periods closed on the way). */
  withOutbox: readonly MeterState[];
}

const NONE: readonly never[] = Object.freeze([]);

/** Meters the records of one user (in sequence order, all of one shard); throws when meters keep changing. */
export async function meterUserRecords(
  deps: UserMeteringDeps,
  stream: StreamConfig,
  entries: readonly Entry[],
  now: Date,
  counts: IngestCounts,
): Promise<UserOutcome> {
  const first = entries[0];
  if (!first) return { withOutbox: NONE };
  const userId = first.record.userId;
  const shardId = first.position.shardId;
  // Records a meter took in an attempt that then met a conflict (made on the first conflict).
  let metered: Set<string> | undefined;
  // Refusals stored in data correction by an earlier attempt, by sequence number: they stay.
  // Made on the first refusal: most users' records have none.
  let stored: Map<string, Refusal> | undefined;
  // De-duplication claims this invocation holds, by sequence number (with de-duplication on).
  const claims = stream.deduplication.enabled ? new Map<string, StreamPosition>() : undefined;

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prepared = await readMeters(deps, stream, userId, now);
    const meters = statesOf(prepared);
    const routing = new UserRouting(stream, meters);
    const records = { entries, shardId, metered, stored };
    const decisions = decideAll(stream, records, routing);
    if (claims) {
      await deduplicate(deps.store, stream, entries, decisions, claims, now, counts, meters);
    }
    const taken = takenBy(records, decisions);
    admitRecords(shardId, entries, decisions, routing.anyRejectsOverCapacity, taken);
    // Steps with nothing to do are not awaited at all: each await costs the user a turn.
    const unique = routing.anyUnique
      ? await planUniqueMeters(deps.store, meters, shardId, entries, decisions, taken)
      : NO_PLANS;
    // Claims go back before the refusals are stored: a stored record is skipped by every retry,
    // which could then never give its event id back for a producer's re-send.
    const redo =
      claims !== undefined &&
      (await releaseClaimsOfCorrected(deps.store, stream, entries, decisions, claims));
    const fresh = newRefusals(userId, entries, decisions, stored);
    if (fresh) stored = await storeRefusals(deps, fresh, stored ?? new Map());
    // A duplicate of a record refused after claiming its event id is the event's record now:
    // decide again (the refused one stays refused), before anything is written.
    if (redo) continue;
    const batch = { prepared, shardId, entries, decisions, unique };
    const written = await writeMeters(deps.store, batch, now);
    if (anyConflict(written)) {
      metered = rememberApplied(metered ?? new Set(), batch, written);
      continue;
    }
    countMetered(decisions, counts);
    const fired = anyThresholds(written)
      ? await pushThresholds(deps.store, stream, written, batch, now)
      : undefined;
    return { withOutbox: countWritten(written, fired, counts) };
  }
  throw new Error(`meters of user ${userId} kept changing; the batch will be retried`);
}

/** The user's meters, each ready to take this batch (see `prepareMeter`). */
async function readMeters(
  deps: UserMeteringDeps,
  stream: StreamConfig,
  userId: string,
  now: Date,
): Promise<PreparedMeter[]> {
  const loaded = await deps.store.loadMeters(stream.meterKey, userId);
  // A loop, not map and some with callbacks: this runs for every user of every batch.
  const preparing: (PreparedMeter | Promise<PreparedMeter>)[] = new Array(loaded.length);
  let waits = false;
  for (let m = 0; m < loaded.length; m++) {
    const meter = prepareMeter(deps.meterType, loaded[m] as MeterState, now, stream);
    if (meter instanceof Promise) waits = true;
    preparing[m] = meter;
  }
  // Only meters closed on the way wait for their type; the rest are ready at once.
  return waits ? Promise.all(preparing) : (preparing as PreparedMeter[]);
}

/** The meters' states as read (or closed in memory). */
function statesOf(prepared: readonly PreparedMeter[]): MeterState[] {
  const states: MeterState[] = new Array(prepared.length);
  for (let m = 0; m < prepared.length; m++) states[m] = (prepared[m] as PreparedMeter).state;
  return states;
}

/** Whether any meter met a conflict (a unique meter may have written some runs first). */
function anyConflict(written: readonly WriteResult[]): boolean {
  for (const result of written) if (result === 'conflict' || result.conflict) return true;
  return false;
}

/** The user's records of the batch, and what earlier attempts of this invocation did with them. */
interface UserRecords {
  entries: readonly Entry[];
  shardId: string;
  /** Records a meter took in an attempt that met a conflict. */
  metered: ReadonlySet<string> | undefined;
  /** Refusals an earlier attempt stored in data correction (none yet: undefined). */
  stored: ReadonlyMap<string, Refusal> | undefined;
}

/**
 * The decision of every record, against the meters as read in this attempt. A refusal stored
 * by an earlier attempt stands. A record a meter already took (in an earlier attempt, or a
 * crashed invocation: its meter's position is past it) is never refused for where it falls now.
 */
function decideAll(stream: StreamConfig, records: UserRecords, routing: UserRouting): Decision[] {
  const { entries, shardId, metered, stored } = records;
  const decisions: Decision[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Entry;
    const refused = stored?.get(entry.position.sequenceNumber);
    if (refused) {
      decisions[i] = refused;
      continue;
    }
    const wasMetered = metered?.has(entry.position.sequenceNumber) ?? false;
    let decision = decide(stream, entry.record, routing, wasMetered);
    if (decision.kind === 'correct' && !wasMetered && routedMeterTook(routing, entry, shardId)) {
      decision = decide(stream, entry.record, routing, true);
    }
    decisions[i] = decision;
  }
  return decisions;
}

/**
 * Whether a meter the record routes to is past it on this shard: it took the record (every
 * record it refused was stored in data correction before it was written past it, and is not
 * in this batch any more, see `skipPreviouslyCorrected`).
 */
function routedMeterTook(routing: UserRouting, entry: Entry, shardId: string): boolean {
  const routed = routing.route(entry.record.fields);
  if (!routed.ok) return false;
  return routing
    .factsOf(routed)
    .meters.some((meter) => compareSequence(entry.seq, appliedSequence(meter, shardId)) <= 0);
}

/** Whether a meter took record `i` before: in an earlier attempt, or it is past its position. */
function takenBy(records: UserRecords, decisions: readonly Decision[]): (i: number) => boolean {
  const { entries, shardId, metered } = records;
  return (i) => {
    const entry = entries[i] as Entry;
    if (metered?.has(entry.position.sequenceNumber)) return true;
    const decision = decisions[i];
    return (
      decision?.kind === 'apply' &&
      decision.targets.some(
        (t) => compareSequence(entry.seq, appliedSequence(t.meter, shardId)) <= 0,
      )
    );
  };
}

/** This attempt's refusals not stored yet, with what their entries say; undefined when none. */
function newRefusals(
  userId: string,
  entries: readonly Entry[],
  decisions: readonly Decision[],
  stored: ReadonlyMap<string, Refusal> | undefined,
): { correction: UserCorrection; refusal: Refusal }[] | undefined {
  let fresh: { correction: UserCorrection; refusal: Refusal }[] | undefined;
  for (let i = 0; i < entries.length; i++) {
    const decision = decisions[i];
    const entry = entries[i] as Entry;
    if (decision?.kind !== 'correct' || stored?.has(entry.position.sequenceNumber)) continue;
    fresh ??= [];
    const extra = decision.meterIds ? { userId, meterIds: decision.meterIds } : { userId };
    fresh.push({
      correction: { entry, reason: decision.reason, message: decision.message, extra },
      refusal: decision,
    });
  }
  return fresh;
}

/** Stores new refusals in data correction, before any meter is written; they stay (in `stored`). */
async function storeRefusals(
  deps: UserMeteringDeps,
  fresh: readonly { correction: UserCorrection; refusal: Refusal }[],
  stored: Map<string, Refusal>,
): Promise<Map<string, Refusal>> {
  await deps.storeCorrections(fresh.map((f) => f.correction));
  for (const { correction, refusal } of fresh) {
    stored.set(correction.entry.position.sequenceNumber, refusal);
  }
  return stored;
}

/** Writes every meter's share of the batch (all at once). */
async function writeMeters(
  writer: UsageWriter & UniqueValueClaims,
  batch: WrittenBatch,
  now: Date,
): Promise<WriteResult[]> {
  const { prepared, shardId, entries, decisions, unique } = batch;
  // Most users have one meter: written without a callback and a list of promises.
  const only = prepared.length === 1 ? prepared[0] : undefined;
  if (only) {
    return [
      await writeMeter(writer, only, shardId, entries, decisions, now, unique.get(only.state.id)),
    ];
  }
  return Promise.all(
    prepared.map((meter) =>
      writeMeter(writer, meter, shardId, entries, decisions, now, unique.get(meter.state.id)),
    ),
  );
}

/**
 * Remembers records a meter took in an attempt that met a conflict, so a retry never sends them
 * to correction: those it targeted up to its position after the write (a unique meter may have
 * written some runs of the batch before its conflict).
 */
function rememberApplied(
  metered: Set<string>,
  batch: WrittenBatch,
  written: readonly WriteResult[],
): Set<string> {
  const { entries, decisions, shardId } = batch;
  written.forEach((result, m) => {
    const meter = batch.prepared[m]?.state;
    if (result === 'conflict' || !result.wrote || !meter) return;
    const through = result.state && appliedSequence(result.state, shardId);
    entries.forEach((entry, i) => {
      const decision = decisions[i];
      if (decision?.kind !== 'apply' || !decision.targets.some((t) => t.meter.id === meter.id)) {
        return;
      }
      if (through === undefined || compareSequence(entry.seq, through) <= 0) {
        metered.add(entry.position.sequenceNumber);
      }
    });
  });
  return metered;
}

/** Counts the metered records. */
function countMetered(decisions: readonly Decision[], counts: IngestCounts): void {
  for (const decision of decisions) if (decision?.kind === 'apply') counts.metered++;
}

/** The batch as written: the meters as read, the shard's records with their decisions, unique meters' plans. */
interface WrittenBatch {
  prepared: readonly PreparedMeter[];
  shardId: string;
  entries: readonly Entry[];
  decisions: readonly Decision[];
  unique: ReadonlyMap<string, UniquePlan>;
}

/** Whether any meter written has thresholds to push (most have none: nothing to wait for). */
function anyThresholds(written: readonly WriteResult[]): boolean {
  for (const result of written) {
    if (result !== 'conflict' && result.state && hasThresholds(result.state.meterType)) return true;
  }
  return false;
}

/** Pushes the thresholds each meter written reached into its outbox; how many fired, per meter. */
async function pushThresholds(
  outbox: ThresholdOutbox,
  stream: StreamConfig,
  written: readonly WriteResult[],
  batch: WrittenBatch,
  now: Date,
): Promise<number[]> {
  const fired: number[] = written.map(() => 0);
  for (const [m, result] of written.entries()) {
    if (result === 'conflict' || !result.state || !hasThresholds(result.state.meterType)) continue;
    const before = batch.prepared[m]?.state;
    const applied = before && {
      before,
      shardId: batch.shardId,
      records: batch.entries,
      decisions: batch.decisions,
      news: batch.unique.get(before.id)?.news,
    };
    fired[m] = await fireThresholds(outbox, result.state, now, stream, applied);
  }
  return fired;
}

/** Counts the meters written and the thresholds they fired; the meters with an outbox. */
function countWritten(
  written: readonly WriteResult[],
  fired: readonly number[] | undefined,
  counts: IngestCounts,
): readonly MeterState[] {
  let withOutbox: MeterState[] | undefined;
  for (let m = 0; m < written.length; m++) {
    const result = written[m];
    if (result === undefined || result === 'conflict' || !result.state) continue;
    if (result.wrote) counts.metersUpdated++;
    const firedHere = fired?.[m] ?? 0;
    counts.thresholdsFired += firedHere;
    if (firedHere > 0 || Object.keys(result.state.outbox).length > 0) {
      withOutbox ??= [];
      withOutbox.push(result.state);
    }
  }
  return withOutbox ?? NONE;
}
