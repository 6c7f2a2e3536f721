/**
 * One meter's share of a batch from one shard (DESIGN.md 3, per-batch pre-aggregation and
 * exactly-once): the records it takes beyond its position for the shard, pre-aggregated per
 * period into the shard's slots, with the new position. Pure.
 */
import { Aggregator, mergeAggregates } from './aggregation.js';
import type { Decision, SequencedRecord } from './ingest-decision.js';
import { placementIn } from './ingest-decision.js';
import type { MeterState, PeriodUsage, ShardSlot } from './meter-usage.js';
import { appliedSequence, compareSequence, sequenceKey } from './meter-usage.js';
import type { AggregationType } from './types.js';
import { type UniqueNews, uniqueContribution } from './unique-values.js';

/** What one shard's records of a batch change in one meter. */
export interface ShardShare {
  /** The last sequence number taken, fixed width (the meter's new position for the shard). */
  newSeq: string;
  /** The shard's new slot in the open period, if the share has usage for it. */
  currentSlot?: ShardSlot;
  /** The shard's new slot in the next period, if the share has usage stamped after its end. */
  nextSlot?: ShardSlot;
}

/**
 * The meter's share of the batch: the records decided to apply to it, in sequence order,
 * skipping those at or below its position for the shard (applied before); undefined when there
 * are none. `records` must be in sequence order, as a shard delivers them. For a `unique` meter,
 * `news` says which records bring a new value (each adds 1, the others 0).
 */
export function shardShareOf(
  meter: MeterState,
  shardId: string,
  records: readonly SequencedRecord[],
  decisions: readonly Decision[],
  news?: UniqueNews,
): ShardShare | undefined {
  const applied = appliedSequence(meter, shardId);
  const type = meter.meterType.aggregation.type;
  let current: Aggregator | undefined;
  let next: Aggregator | undefined;
  let late = 0;
  let newSeq: string | undefined;
  for (let i = 0; i < records.length; i++) {
    const decision = decisions[i];
    if (decision?.kind !== 'apply') continue;
    const placement = placementIn(decision.targets, meter.id);
    if (placement === undefined) continue;
    const { record, seq } = records[i] as SequencedRecord;
    // Records come in sequence order: once past the position, all are.
    if (newSeq === undefined && compareSequence(seq, applied) <= 0) continue;
    newSeq = seq;
    if (placement === 'next') next ??= new Aggregator(type);
    else current ??= new Aggregator(type);
    const aggregator = (placement === 'next' ? next : current) as Aggregator;
    if (type === 'unique') {
      const { value, groupValue } = uniqueContribution(news, i);
      aggregator.add(value, record.usageTime, decision.groupValues, decision.carry, groupValue);
    } else {
      aggregator.add(record.value ?? '1', record.usageTime, decision.groupValues, decision.carry);
    }
    if (placement === 'late') late++;
  }
  if (newSeq === undefined) return undefined;
  return {
    newSeq: sequenceKey(newSeq),
    currentSlot: mergedSlot(type, meter.usage, shardId, current, late),
    nextSlot: mergedSlot(type, meter.next, shardId, next, 0),
  };
}

/** The shard's slot of a period with the share's aggregate merged in (undefined: no usage). */
function mergedSlot(
  type: AggregationType,
  usage: PeriodUsage,
  shardId: string,
  aggregator: Aggregator | undefined,
  late: number,
): ShardSlot | undefined {
  if (aggregator === undefined) return undefined;
  const old = usage.shards[shardId];
  const agg = aggregator.result();
  return {
    agg: old ? mergeAggregates(type, old.agg, agg) : agg,
    late: (old?.late ?? 0) + late,
  };
}

/** The meter with the share written into its slots and position (for a whole-item write). */
export function withShardShare(
  meter: MeterState,
  shardId: string,
  share: ShardShare | undefined,
  now: Date,
): MeterState {
  const currentSlot = share?.currentSlot;
  const nextSlot = share?.nextSlot;
  return {
    ...meter,
    usage: currentSlot
      ? { ...meter.usage, shards: { ...meter.usage.shards, [shardId]: currentSlot } }
      : meter.usage,
    next: nextSlot
      ? { ...meter.next, shards: { ...meter.next.shards, [shardId]: nextSlot } }
      : meter.next,
    seq: share ? { ...meter.seq, [shardId]: share.newSeq } : meter.seq,
    updatedAt: now.toISOString(),
  };
}
