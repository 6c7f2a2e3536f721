/**
 * The moment a threshold was reached (README "partial push": the period's usage at the moment
 * the threshold was reached). A batch is written in one update, so the value after the write can
 * lie well past a threshold; the partial record instead carries the meter's usage right after the
 * record that crossed it, as the batch applied it: what the other shards had applied before the
 * write, this shard's usage before the batch, then the batch's records in sequence order. Pure.
 */
import { aggregateSample, mergeAggregates } from './aggregation.js';
import { shownValue } from './average.js';
import type { Decision, SequencedRecord } from './ingest-decision.js';
import { placementIn } from './ingest-decision.js';
import {
  appliedSequence,
  compareSequence,
  type MeterState,
  periodTotals,
  type ShardSlot,
} from './meter-usage.js';
import { effectiveThresholds, reachedThresholds } from './thresholds.js';
import { type UniqueNews, uniqueContribution } from './unique-values.js';

/** One shard's batch as it was written into a meter: the meter before and after the write. */
export interface AppliedBatch {
  /** The meter as read before the write (its slot for the shard, its position). */
  before: MeterState;
  shardId: string;
  records: readonly SequencedRecord[];
  decisions: readonly Decision[];
  /** For a `unique` meter: the records that brought a new value (see unique-values.ts). */
  news?: UniqueNews;
}

/**
 * For each named threshold that a record of the batch crossed: the open period's totals right
 * after that record. A threshold not crossed by this batch (reached earlier, e.g. fired late after
 * a failed push, or by a lowered limit) is absent; its partial record carries the totals as they
 * are. `after` is the meter as the write left it: its other shards' slots are what they had
 * applied before this batch.
 */
export function thresholdCrossings(
  after: MeterState,
  batch: AppliedBatch,
  names: readonly string[],
): Map<string, ShardSlot> {
  const crossings = new Map<string, ShardSlot>();
  const { before, shardId } = batch;
  if (names.length === 0 || before.periodStart !== after.periodStart) return crossings;
  const type = after.meterType.aggregation.type;
  const others = { ...after.usage.shards };
  delete others[shardId];
  const otherTotals = periodTotals(type, { shards: others, fired: [] });
  const own = before.usage.shards[shardId];
  let running: ShardSlot = own
    ? { agg: mergeAggregates(type, otherTotals.agg, own.agg), late: otherTotals.late + own.late }
    : otherTotals;
  const wanted = effectiveThresholds(after.meterType).filter((t) => names.includes(t.name));
  const applied = appliedSequence(before, shardId);
  for (let i = 0; i < batch.records.length && crossings.size < wanted.length; i++) {
    const decision = batch.decisions[i];
    if (decision?.kind !== 'apply') continue;
    const placement = placementIn(decision.targets, after.id);
    // Records of the next period do not count in this one; those at or below the position
    // were applied by an earlier attempt and are already in `own`.
    if (placement === undefined || placement === 'next') continue;
    const { record, seq } = batch.records[i] as SequencedRecord;
    if (compareSequence(seq, applied) <= 0) continue;
    const contribution =
      type === 'unique' ? uniqueContribution(batch.news, i) : { value: record.value ?? '1' };
    const sample = aggregateSample(type, {
      ...contribution,
      usageTime: record.usageTime,
      groupValues: decision.groupValues,
      carry: decision.carry,
    });
    running = {
      agg: mergeAggregates(type, running.agg, sample),
      late: running.late + (placement === 'late' ? 1 : 0),
    };
    const reached = reachedThresholds(
      wanted.filter((t) => !crossings.has(t.name)),
      after.meterType.capacity,
      // What firing compares (meter-usage.ts): the mean for `average`, not its running sum.
      shownValue(type, running.agg.value, running.agg.count),
    );
    for (const name of reached) crossings.set(name, running);
  }
  return crossings;
}
