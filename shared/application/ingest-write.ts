/**
 * Writing a batch into one meter (DESIGN.md 2.1, 2.4, 2.5): the meter made ready (its open
 * period closed on the way when the reset is late), its share of the batch written in one
 * conditional update together with its new position for the shard, then thresholds the write
 * reached pushed into its outbox.
 */
import type { Decision } from '../domain/ingest-decision.js';
import type { MeterType } from '../domain/meter.js';
import type { MeterState, PeriodRule } from '../domain/meter-usage.js';
import { closableAt, closePeriod, dueThresholdRecords } from '../domain/meter-usage.js';
import { shardShareOf, withShardShare } from '../domain/shard-share.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { type AppliedBatch, thresholdCrossings } from '../domain/threshold-crossing.js';
import type { UniquePlan } from '../domain/unique-values.js';
import type { ThresholdOutbox } from '../ports/threshold-outbox.js';
import type { UniqueValueClaims } from '../ports/unique-claims.js';
import type { UsageWriter } from '../ports/usage-writer.js';
import type { Entry } from './ingest-decode.js';
import { writeUniqueMeter } from './ingest-unique.js';

/** Reads a meter type's current schedule when ingestion closes a period on the way. */
export type MeterTypeLookup = (id: string) => Promise<MeterType | undefined>;

/** A meter as read, possibly with its period closed in memory; `replaceVersion` asks for a whole-item write. */
export interface PreparedMeter {
  state: MeterState;
  replaceVersion?: number;
  /** The open period was closed in memory: the meter must be written even without new usage. */
  closed: boolean;
}

/**
 * Closes the meter's open period on the way when its end plus grace has passed (the reset is
 * late), so usage of the new period never lands in the old one. The write happens with the
 * batch's usage, conditioned on the meter's version. Only meters closed on the way wait for
 * their type; the rest are ready at once.
 */
export function prepareMeter(
  meterType: MeterTypeLookup,
  meter: MeterState,
  now: Date,
  stream: StreamConfig,
): PreparedMeter | Promise<PreparedMeter> {
  if (now.getTime() < closableAt(meter)) {
    // A capacity-rejecting meter admits records against its exact value, and a unique meter its
    // new values against maxDistinct: write it whole, by version.
    return meter.meterType.capacityPolicy === 'reject' ||
      meter.meterType.aggregation.type === 'unique'
      ? { state: meter, replaceVersion: meter.version, closed: false }
      : { state: meter, closed: false };
  }
  return closeOnTheWay(meterType, meter, now, stream);
}

async function closeOnTheWay(
  meterType: MeterTypeLookup,
  meter: MeterState,
  now: Date,
  stream: StreamConfig,
): Promise<PreparedMeter> {
  const type = await meterType(meter.meterTypeId);
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

/**
 * A meter written (`wrote`: something changed), or a conflict: it changed since it was read. A
 * unique meter may meet its conflict after writing some runs of the batch: `conflict` with the
 * state its last run left.
 */
export type WriteResult =
  | 'conflict'
  | { wrote: boolean; state: MeterState | undefined; conflict?: boolean };

/**
 * Writes one meter's share of the batch, as decided and admitted. Records at or below the
 * meter's position for this shard were applied before and are skipped. A meter closed in
 * memory, or capacity-rejecting, is written whole, conditioned on its version; a unique meter
 * too, together with the claims of its new values (`unique`: its plan).
 */
export async function writeMeter(
  writer: UsageWriter & UniqueValueClaims,
  prepared: PreparedMeter,
  shardId: string,
  entries: readonly Entry[],
  decisions: readonly Decision[],
  now: Date,
  unique?: UniquePlan,
): Promise<WriteResult> {
  const meter = prepared.state;
  if (meter.meterType.aggregation.type === 'unique') {
    const batch = { shardId, entries, decisions };
    const version = prepared.replaceVersion ?? meter.version;
    return writeUniqueMeter(writer, meter, version, prepared.closed, batch, unique, now);
  }
  const share = shardShareOf(meter, shardId, entries, decisions);
  // A meter closed in memory is written even without a share of the batch.
  if (share === undefined && !prepared.closed) return { wrote: false, state: meter };
  if (prepared.replaceVersion !== undefined) {
    const expectedVersion = prepared.replaceVersion;
    const state = withShardShare(meter, shardId, share, now);
    if (!(await writer.replaceMeter(state, expectedVersion))) return 'conflict';
    return { wrote: true, state: { ...state, version: expectedVersion + 1 } };
  }
  if (share === undefined) return { wrote: false, state: meter };
  const state = await writer.writeShardUsage({
    meter,
    shardId,
    expectedSeq: meter.seq[shardId],
    newSeq: share.newSeq,
    currentSlot: share.currentSlot,
    nextSlot: share.nextSlot,
    now,
  });
  return state ? { wrote: true, state } : 'conflict';
}

/**
 * Puts thresholds reached and not yet pushed into the outbox; how many fired. With the batch
 * just written, each partial record carries the usage right after the record that crossed it.
 */
export async function fireThresholds(
  outbox: ThresholdOutbox,
  meter: MeterState,
  now: Date,
  stream: StreamConfig,
  batch?: AppliedBatch,
): Promise<number> {
  const reachedAt =
    batch && ((names: readonly string[]) => thresholdCrossings(meter, batch, names));
  const due = dueThresholdRecords(meter, now, stream, reachedAt);
  if (due.records.length === 0) return 0;
  // A false answer means the period moved on or another shard fired them first: nothing is lost,
  // the state-based check runs again on the next write or at period end.
  return (await outbox.addThresholdRecords(meter, due.records, due.fired, now))
    ? due.records.length
    : 0;
}
