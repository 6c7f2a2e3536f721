/**
 * Ingestion of one user's records of a batch (DESIGN.md 2.1, 2.2, 2.4, 2.5), one attempt at a
 * time: read the user's meters once; route and place every record (`decide`); de-duplicate by
 * event id; admit against capacity and item size; write each meter's share together with its
 * position for the shard; push the thresholds the writes reached. On a conflict (a meter changed
 * between read and write: a reset, a delete, a concurrent capacity-checked write) the attempt
 * starts over from a fresh read; records already applied are skipped by their sequence numbers.
 */
import type { StreamPosition } from '../domain/event-dedup.js';
import { ALREADY_METERED, type Decision, decide } from '../domain/ingest-decision.js';
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
import { planUniqueMeters } from './ingest-unique.js';
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
  /**
   * Stores data-correction entries at once. Refusals that depend on the meters' state
   * (capacity, maxDistinct) are stored before any write moves a meter's position past them: a
   * retry after a later failure would see the record as taken and neither count nor correct it.
   */
  holdRefusals?: (corrections: readonly UserCorrection[]) => Promise<void>;
}

/** Refusals decided against the meters' state, which a retry could not decide again. */
const STATEFUL_REFUSALS: ReadonlySet<string> = new Set([
  'CAPACITY_EXCEEDED',
  'UNIQUE_LIMIT_EXCEEDED',
]);

/** A record of the user that goes to data correction, and why. */
export interface UserCorrection {
  entry: Entry;
  reason: CorrectionReason;
  message: string;
  extra: Partial<DataCorrection>;
}

/** What became of one user's records, besides the counts. */
export interface UserOutcome {
  corrections: readonly UserCorrection[];
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
  if (!first) return { corrections: NONE, withOutbox: NONE };
  const userId = first.record.userId;
  const shardId = first.position.shardId;
  // Records a meter took in an attempt that then met a conflict (made on the first conflict).
  let metered: Set<string> | undefined;
  // De-duplication claims this invocation holds, by sequence number (with de-duplication on).
  const claims = stream.deduplication.enabled ? new Map<string, StreamPosition>() : undefined;

  // The decisions of the attempt that met a conflict, to find what its partial writes took.
  let conflicted: readonly Decision[] | undefined;
  // Stateful refusals already stored (see `holdRefusals`): they stay refused in every attempt.
  const held = new Map<string, Decision>();

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prepared = await readMeters(deps, stream, userId, now);
    const meters = prepared.map((p) => p.state);
    if (conflicted && metered) rememberTaken(metered, entries, conflicted, meters, shardId);
    const routing = new UserRouting(stream, meters);
    const decisions = decideAll(stream, entries, routing, metered, held);
    if (claims) {
      await deduplicate(deps.store, stream, entries, decisions, claims, now, counts, meters);
    }
    admitRecords(shardId, entries, decisions, routing.anyRejectsOverCapacity);
    const unique = await planUniqueMeters(deps.store, meters, shardId, entries, decisions, metered);
    await holdStatefulRefusals(deps, stream, { userId, entries, decisions, held, claims, counts });
    const batch = { prepared, shardId, entries, decisions, unique };
    const written = await writeMeters(deps.store, batch, now);
    if (written.includes('conflict')) {
      metered = rememberApplied(metered ?? new Set(), entries, decisions, meters, written);
      conflicted = decisions;
      continue;
    }
    const corrections = settle(userId, entries, decisions, counts);
    if (claims && claims.size > 0) {
      await releaseClaimsOfCorrected(deps.store, stream, entries, decisions, claims);
    }
    const withOutbox = await pushThresholds(deps.store, stream, written, batch, now, counts);
    return { corrections, withOutbox };
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
  const preparing = loaded.map((meter) => prepareMeter(deps.meterType, meter, now, stream));
  // Only meters closed on the way wait for their type; the rest are ready at once.
  return preparing.some((p) => p instanceof Promise)
    ? Promise.all(preparing)
    : (preparing as PreparedMeter[]);
}

/** The decision of every record, against the meters as read in this attempt. */
function decideAll(
  stream: StreamConfig,
  entries: readonly Entry[],
  routing: UserRouting,
  metered: ReadonlySet<string> | undefined,
  held: ReadonlyMap<string, Decision>,
): Decision[] {
  const decisions: Decision[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Entry;
    const wasMetered = metered?.has(entry.position.sequenceNumber) ?? false;
    decisions[i] =
      held.get(entry.position.sequenceNumber) ?? decide(stream, entry.record, routing, wasMetered);
  }
  return decisions;
}

/**
 * Stores the attempt's new stateful refusals before any meter is written (see `holdRefusals`),
 * releasing their event-id claims first so a stored refusal never keeps a claim.
 */
async function holdStatefulRefusals(
  deps: UserMeteringDeps,
  stream: StreamConfig,
  attempt: {
    userId: string;
    entries: readonly Entry[];
    decisions: readonly Decision[];
    held: Map<string, Decision>;
    claims: ReadonlyMap<string, StreamPosition> | undefined;
    counts: IngestCounts;
  },
): Promise<void> {
  const { userId, entries, decisions, held, claims, counts } = attempt;
  if (!deps.holdRefusals) return;
  const fresh = decisions.map((decision, i) =>
    decision?.kind === 'correct' &&
    STATEFUL_REFUSALS.has(decision.reason) &&
    !held.has((entries[i] as Entry).position.sequenceNumber)
      ? decision
      : undefined,
  );
  if (fresh.every((decision) => decision === undefined)) return;
  const refused = fresh.map((decision) => decision ?? ALREADY_METERED);
  if (claims && claims.size > 0) {
    await releaseClaimsOfCorrected(deps.store, stream, entries, refused, claims);
  }
  // Only refusals: nothing is counted as metered here.
  await deps.holdRefusals(settle(userId, entries, refused, counts));
  fresh.forEach((decision, i) => {
    if (decision) held.set((entries[i] as Entry).position.sequenceNumber, decision);
  });
}

/** Writes every meter's share of the batch (all at once). */
async function writeMeters(
  writer: UsageWriter & UniqueValueClaims,
  batch: WrittenBatch,
  now: Date,
): Promise<WriteResult[]> {
  const { prepared, shardId, entries, decisions, unique } = batch;
  const write = (meter: PreparedMeter) =>
    writeMeter(writer, meter, shardId, entries, decisions, now, unique.get(meter.state.id));
  if (prepared.length === 1) return [await write(prepared[0] as PreparedMeter)];
  return Promise.all(prepared.map(write));
}

/**
 * Remembers records that a meter took in the attempt that met a conflict, as the meter's shard
 * position now shows them (a unique meter may have written some runs of the batch before it).
 */
function rememberTaken(
  metered: Set<string>,
  entries: readonly Entry[],
  decisions: readonly Decision[],
  meters: readonly MeterState[],
  shardId: string,
): void {
  for (const meter of meters) {
    const applied = appliedSequence(meter, shardId);
    entries.forEach((entry, i) => {
      const decision = decisions[i];
      if (decision?.kind !== 'apply' || compareSequence(entry.seq, applied) > 0) return;
      if (decision.targets.some((t) => t.meter.id === meter.id)) {
        metered.add(entry.position.sequenceNumber);
      }
    });
  }
}

/** Remembers records a meter took, so a retry after a conflict never sends them to correction. */
function rememberApplied(
  metered: Set<string>,
  entries: readonly Entry[],
  decisions: readonly Decision[],
  meters: readonly MeterState[],
  written: readonly WriteResult[],
): Set<string> {
  written.forEach((result, m) => {
    const meter = meters[m];
    if (result === 'conflict' || !result.wrote || !meter) return;
    entries.forEach((entry, i) => {
      const decision = decisions[i];
      if (decision?.kind === 'apply' && decision.targets.some((t) => t.meter.id === meter.id)) {
        metered.add(entry.position.sequenceNumber);
      }
    });
  });
  return metered;
}

/** Counts the metered records; the ones that go to data correction, with the user. */
function settle(
  userId: string,
  entries: readonly Entry[],
  decisions: readonly Decision[],
  counts: IngestCounts,
): readonly UserCorrection[] {
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
  return corrections ?? NONE;
}

/** The batch as written: the meters as read, the shard's records with their decisions, unique meters' plans. */
interface WrittenBatch {
  prepared: readonly PreparedMeter[];
  shardId: string;
  entries: readonly Entry[];
  decisions: readonly Decision[];
  unique: ReadonlyMap<string, UniquePlan>;
}

/** Counts the meters written and pushes their reached thresholds; the meters with an outbox. */
async function pushThresholds(
  outbox: ThresholdOutbox,
  stream: StreamConfig,
  written: readonly WriteResult[],
  batch: WrittenBatch,
  now: Date,
  counts: IngestCounts,
): Promise<readonly MeterState[]> {
  let withOutbox: MeterState[] | undefined;
  for (const [m, result] of written.entries()) {
    if (result === 'conflict' || !result.state) continue;
    if (result.wrote) counts.metersUpdated++;
    const before = batch.prepared[m]?.state;
    const applied = before && {
      before,
      shardId: batch.shardId,
      records: batch.entries,
      decisions: batch.decisions,
      news: batch.unique.get(before.id)?.news,
    };
    const fired = hasThresholds(result.state.meterType)
      ? await fireThresholds(outbox, result.state, now, stream, applied)
      : 0;
    counts.thresholdsFired += fired;
    if (fired > 0 || Object.keys(result.state.outbox).length > 0) {
      withOutbox ??= [];
      withOutbox.push(result.state);
    }
  }
  return withOutbox ?? NONE;
}
