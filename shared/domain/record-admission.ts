/**
 * Admission (DESIGN.md 2.1): before anything is written, which records every target meter can
 * take. A capacity-rejecting meter admits records one by one against its running value, and no
 * meter takes a new group once its item would grow past its budget. A record one target refuses
 * goes to data correction whole, so it is never counted in some meters and not others. Pure.
 */
import { applyValue } from './aggregated-value.js';
import type { Decision, Refusal, SequencedRecord } from './ingest-decision.js';
import {
  chargeGroup,
  fitsGroup,
  type GroupCharge,
  groupChargeOf,
  type MeterBudget,
  meterBudgetOf,
} from './meter-item-budget.js';
import type { MeterState } from './meter-usage.js';
import { appliedSequence, compareSequence } from './meter-usage.js';
import { admitsWithinCapacity } from './thresholds.js';
import type { ApplyDecision, Target } from './user-routing.js';

/**
 * Turns the apply decisions of records that some target cannot take into refusals
 * (CAPACITY_EXCEEDED), in sequence order. Records at or below a meter's position for the shard
 * were taken before and cost that meter nothing. `anyRejectsOverCapacity`: whether any of the
 * user's meters refuses records over its capacity (when none does and no record keeps a
 * group, nothing needs admitting). `taken(i)`: a meter took record `i` in an earlier attempt of
 * this batch; it is admitted whatever it costs, since refusing it would count it and correct it.
 */
export function admitRecords(
  shardId: string,
  records: readonly SequencedRecord[],
  decisions: Decision[],
  anyRejectsOverCapacity: boolean,
  taken?: (index: number) => boolean,
): void {
  // Worked out only for meters that need it (capacity-rejecting, or taking grouped records).
  let budgets: Map<string, MeterBudget> | undefined;
  for (let i = 0; i < records.length; i++) {
    const decision = decisions[i];
    if (decision?.kind !== 'apply') continue;
    if (!decision.groupValues && !(anyRejectsOverCapacity && anyRejects(decision.targets)))
      continue;
    budgets ??= new Map();
    const refusal = admit(shardId, records[i] as SequencedRecord, decision, budgets, taken?.(i));
    if (refusal) decisions[i] = refusal;
  }
}

/** Whether any of the targets refuses records over its capacity. */
function anyRejects(targets: readonly Target[]): boolean {
  for (const target of targets) if (target.meter.meterType.capacityPolicy === 'reject') return true;
  return false;
}

/**
 * Admits one record into all its targets' budgets, or refuses it without charging any. A record
 * already `taken` by a meter is admitted past capacity (the item budget keeps slack below 400 KB).
 */
function admit(
  shardId: string,
  { record, seq }: SequencedRecord,
  decision: ApplyDecision,
  budgets: Map<string, MeterBudget>,
  taken = false,
): Refusal | undefined {
  const takers = decision.targets.filter(
    (t) => compareSequence(seq, appliedSequence(t.meter, shardId)) > 0,
  );
  const group = groupChargeOf(decision.groupValues);
  const value = record.value ?? '1';
  for (const { meter, placement } of taken ? [] : takers) {
    const refusal = refusalBy(meter, placement, budgetFor(budgets, meter), value, group);
    if (refusal) return refusal;
  }
  for (const { meter, placement } of takers) {
    const budget = budgetFor(budgets, meter);
    if (countsAgainstCapacity(meter, placement)) {
      budget.running = applyValue(meter.meterType.aggregation.type, budget.running, value);
    }
    chargeGroup(budget, group);
  }
  return undefined;
}

/** Why the meter cannot take the record, if it cannot. */
function refusalBy(
  meter: MeterState,
  placement: Target['placement'],
  budget: MeterBudget,
  value: string,
  group: GroupCharge | undefined,
): Refusal | undefined {
  const type = meter.meterType.aggregation.type;
  if (
    countsAgainstCapacity(meter, placement) &&
    !admitsWithinCapacity(type, budget.running, value, meter.meterType.capacity)
  ) {
    return {
      kind: 'correct',
      reason: 'CAPACITY_EXCEEDED',
      message: `the record would take meter ${meter.id} over its capacity of ${meter.meterType.capacity}`,
      meterIds: [meter.id],
    };
  }
  if (!fitsGroup(budget, group)) {
    return {
      kind: 'correct',
      reason: 'CAPACITY_EXCEEDED',
      message: `meter ${meter.id} keeps too many groups in this period to take another`,
      meterIds: [meter.id],
    };
  }
  return undefined;
}

/** Whether a record placed so counts against the meter's capacity (the next period starts afresh). */
function countsAgainstCapacity(meter: MeterState, placement: Target['placement']): boolean {
  return meter.meterType.capacityPolicy === 'reject' && placement !== 'next';
}

function budgetFor(budgets: Map<string, MeterBudget>, meter: MeterState): MeterBudget {
  let budget = budgets.get(meter.id);
  if (!budget) {
    budget = meterBudgetOf(meter);
    budgets.set(meter.id, budget);
  }
  return budget;
}
