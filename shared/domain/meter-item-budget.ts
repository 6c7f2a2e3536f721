/**
 * How much a meter item may still grow (DESIGN.md 4: an item holds at most 400 KB, and every
 * started KB costs a write unit): the room a meter has for new groups in this batch, and its
 * running value for capacity checks. Pure.
 */
import { groupKey } from './aggregation.js';
import type { MeterState } from './meter-usage.js';
import { periodTotals } from './meter-usage.js';
import type { FieldValue } from './types.js';

/** A meter item stays well below DynamoDB's 400 KB: new groups beyond this are refused. */
export const MAX_METER_ITEM_BYTES = 256 * 1024;

/** What a meter can still take in this batch, worked out from the meter as read. */
export interface MeterBudget {
  /** The open period's value so far (for capacity checks). */
  running: string | null;
  /** Bytes the item may still grow by before it reaches MAX_METER_ITEM_BYTES. */
  bytesLeft: number;
  /** Group keys the meter already keeps (in this period or the next): keeping them costs nothing. */
  groups: Set<string>;
}

/** The budget of a meter as read. */
export function meterBudgetOf(meter: MeterState): MeterBudget {
  return {
    running: periodTotals(meter.meterType.aggregation.type, meter.usage).agg.value,
    bytesLeft: MAX_METER_ITEM_BYTES - JSON.stringify(meter).length,
    groups: new Set(
      [...Object.values(meter.usage.shards), ...Object.values(meter.next.shards)].flatMap((slot) =>
        Object.keys(slot.agg.groups),
      ),
    ),
  };
}

/** A group's key and what keeping it as a new group costs in the item. */
export interface GroupCharge {
  key: string;
  /** A new group is kept in the slot and again in the final record of the period. */
  bytes: number;
}

/** The charge of a record's group values (undefined: the record keeps no group). */
export function groupChargeOf(
  groupValues: Record<string, FieldValue> | undefined,
): GroupCharge | undefined {
  if (groupValues === undefined) return undefined;
  const key = groupKey(groupValues);
  return { key, bytes: 2 * (2 * key.length + 120) };
}

/** Whether the budget has room for the group (a group it keeps already always fits). */
export function fitsGroup(budget: MeterBudget, charge: GroupCharge | undefined): boolean {
  return charge === undefined || budget.groups.has(charge.key) || budget.bytesLeft >= charge.bytes;
}

/** Charges the budget for the group, once per new group. */
export function chargeGroup(budget: MeterBudget, charge: GroupCharge | undefined): void {
  if (charge === undefined || budget.groups.has(charge.key)) return;
  budget.groups.add(charge.key);
  budget.bytesLeft -= charge.bytes;
}
