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
  const stored = new Map<string, Refusal>();
  // De-duplication claims this invocation holds, by sequence number (with de-duplication on).
  const claims = stream.deduplication.enabled ? new Map<string, StreamPosition>() : undefined;

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const prepared = await readMeters(deps, stream, userId, now);
    const meters = prepared.map((p) => p.state);
    const routing = new UserRouting(stream, meters);
    const records = { entries, shardId, metered, stored };
    const decisions = decideAll(stream, records, routing);
    if (claims) {
      await deduplicate(deps.store, stream, entries, decisions, claims, now, counts, meters);
    }
    const taken = takenBy(records, decisions);
    admitRecords(shardId, entries, decisions, routing.anyRejectsOverCapacity, taken);
    const unique = await planUniqueMeters(deps.store, meters, shardId, entries, decisions, taken);
    // Claims go back before the refusals are stored: a stored record is skipped by every retry,
    // which could then never give its event id back for a producer's re-send.
    const redo =
      claims !== undefined &&
      (await releaseClaimsOfCorrected(deps.store, stream, entries, decisions, claims));
    await storeRefusals(deps, userId, entries, decisions, stored);
    // A duplicate of a record refused after claiming its event id is the event's record now:
    // decide again (the refused one stays refused), before anything is written.
    if (redo) continue;
    const batch = { prepared, shardId, entries, decisions, unique };
    const written = await writeMeters(deps.store, batch, now);
    if (written.some((result) => result === 'conflict' || result.conflict)) {
      metered = rememberApplied(metered ?? new Set(), batch, written);
      continue;
    }
    countMetered(decisions, counts);
    const withOutbox = await pushThresholds(deps.store, stream, written, batch, now, counts);
    return { withOutbox };
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

/** The user's records of the batch, and what earlier attempts of this invocation did with them. */
interface UserRecords {
  entries: readonly Entry[];
  shardId: string;
  /** Records a meter took in an attempt that met a conflict. */
  metered: ReadonlySet<string> | undefined;
  /** Refusals an earlier attempt stored in data correction. */
  stored: ReadonlyMap<string, Refusal>;
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
    const refused = stored.get(entry.position.sequenceNumber);
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

/** Stores this attempt's new refusals in data correction, before any meter is written; they stay. */
async function storeRefusals(
  deps: UserMeteringDeps,
  userId: string,
  entries: readonly Entry[],
  decisions: readonly Decision[],
  stored: Map<string, Refusal>,
): Promise<void> {
  let fresh: UserCorrection[] | undefined;
  const refusals: Refusal[] = [];
  for (let i = 0; i < entries.length; i++) {
    const decision = decisions[i];
    const entry = entries[i] as Entry;
    if (decision?.kind !== 'correct' || stored.has(entry.position.sequenceNumber)) continue;
    fresh ??= [];
    fresh.push({
      entry,
      reason: decision.reason,
      message: decision.message,
      extra: decision.meterIds ? { userId, meterIds: decision.meterIds } : { userId },
    });
    refusals.push(decision);
  }
  if (!fresh) return;
  await deps.storeCorrections(fresh);
  fresh.forEach(({ entry }, k) => {
    stored.set(entry.position.sequenceNumber, refusals[k] as Refusal);
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
