/** Admission: capacity and item size decided before anything is written (no store). */
import { describe, expect, it } from 'vitest';
import type { Decision, SequencedRecord } from '../../shared/domain/ingest-decision.js';
import {
  chargeGroup,
  fitsGroup,
  groupChargeOf,
  MAX_METER_ITEM_BYTES,
  meterBudgetOf,
} from '../../shared/domain/meter-item-budget.js';
import type { MeterState, PeriodPlacement } from '../../shared/domain/meter-usage.js';
import { admitRecords } from '../../shared/domain/record-admission.js';
import type { FieldValue } from '../../shared/domain/types.js';
import { at, meterState, slotOf } from '../support/meter-states.js';

const SHARD = 'shardId-000000000000';

const entry = (seq: number, value: string): SequencedRecord => ({
  seq: String(seq),
  record: { userId: 'u1', value, usageTime: at('2025-01-15T00:00:00Z'), fields: {} },
});

const apply = (
  meters: MeterState[],
  placement: PeriodPlacement = 'current',
  groupValues?: Record<string, FieldValue>,
): Decision => ({
  kind: 'apply',
  targets: meters.map((meter) => ({ meter, placement })),
  ...(groupValues ? { groupValues } : {}),
});

const kinds = (decisions: Decision[]) =>
  decisions.map((d) => (d.kind === 'correct' ? d.reason : d.kind));

describe('admitRecords: capacity', () => {
  const capped = meterState({
    meterType: { capacity: 10, capacityPolicy: 'reject' },
    usage: { shards: { [SHARD]: slotOf('sum', '6', 3) }, fired: [] },
  });

  it('admits records one by one against the running value and refuses the one over capacity', () => {
    const records = [entry(1, '3'), entry(2, '2'), entry(3, '1')];
    const decisions = records.map(() => apply([capped]));
    admitRecords(SHARD, records, decisions, true);
    expect(kinds(decisions)).toEqual(['apply', 'CAPACITY_EXCEEDED', 'apply']);
    expect(decisions[1]).toEqual({
      kind: 'correct',
      reason: 'CAPACITY_EXCEEDED',
      message: 'the record would take meter m1 over its capacity of 10',
      meterIds: ['m1'],
    });
  });

  it('does not count records of the next period against this period’s capacity', () => {
    const records = [entry(1, '50')];
    const decisions = [apply([capped], 'next')];
    admitRecords(SHARD, records, decisions, true);
    expect(kinds(decisions)).toEqual(['apply']);
  });

  it('charges nothing for records at or below the meter’s position for the shard', () => {
    const replayed = { ...capped, seq: { [SHARD]: '2' } };
    const records = [entry(1, '9'), entry(2, '9'), entry(3, '4')];
    const decisions = records.map(() => apply([replayed]));
    admitRecords(SHARD, records, decisions, true);
    expect(kinds(decisions)).toEqual(['apply', 'apply', 'apply']);
  });

  it('refuses a record whole when one target refuses it, and charges no other target', () => {
    const open = meterState({ id: 'open', meterType: { capacity: 5, capacityPolicy: 'reject' } });
    const records = [entry(1, '5'), entry(2, '5')];
    const decisions = [apply([open, capped]), apply([open])];
    admitRecords(SHARD, records, decisions, true);
    // The first would take m1 to 11: refused in both meters, so `open` still takes the second.
    expect(kinds(decisions)).toEqual(['CAPACITY_EXCEEDED', 'apply']);
  });

  it('leaves every decision alone when no meter rejects and no record keeps a group', () => {
    const records = [entry(1, '1000')];
    const decisions = [apply([meterState({ meterType: { capacity: 1 } })])];
    admitRecords(SHARD, records, decisions, false);
    expect(kinds(decisions)).toEqual(['apply']);
  });
});

describe('admitRecords: item size', () => {
  /** A meter item that has `left` bytes of room before the budget. */
  const nearlyFull = (left: number) => {
    const meter = meterState({ customFields: { pad: '' } });
    const pad = MAX_METER_ITEM_BYTES - JSON.stringify(meter).length - left;
    return meterState({ customFields: { pad: 'x'.repeat(pad) } });
  };
  const groupBytes = (values: Record<string, FieldValue>) => groupChargeOf(values)?.bytes ?? 0;

  it('admits a new group while it fits the budget and refuses the first that does not', () => {
    const cost = groupBytes({ region: 'eu' });
    const meter = nearlyFull(cost + cost - 1);
    const records = [entry(1, '1'), entry(2, '1'), entry(3, '1')];
    const decisions = [
      apply([meter], 'current', { region: 'eu' }),
      apply([meter], 'current', { region: 'us' }),
      apply([meter], 'current', { region: 'eu' }),
    ];
    admitRecords(SHARD, records, decisions, false);
    expect(kinds(decisions)).toEqual(['apply', 'CAPACITY_EXCEEDED', 'apply']);
    expect(decisions[1]).toMatchObject({
      reason: 'CAPACITY_EXCEEDED',
      message: 'meter m1 keeps too many groups in this period to take another',
    });
  });

  it('always admits a group the meter keeps already', () => {
    const full = nearlyFull(0);
    const key = '[["region","eu"]]';
    const agg = { ...slotOf('sum', '1', 1).agg };
    agg.groups = { [key]: { values: { region: 'eu' }, value: '1', count: 1, valueAt: null } };
    const meter = { ...full, usage: { shards: { [SHARD]: { agg, late: 0 } }, fired: [] } };
    const decisions = [apply([meter], 'current', { region: 'eu' })];
    admitRecords(SHARD, [entry(1, '1')], decisions, false);
    expect(kinds(decisions)).toEqual(['apply']);
  });
});

describe('meter item budget', () => {
  it('starts from the item as read and charges each new group once', () => {
    const meter = meterState();
    const budget = meterBudgetOf(meter);
    expect(budget.bytesLeft).toBe(MAX_METER_ITEM_BYTES - JSON.stringify(meter).length);
    const charge = groupChargeOf({ region: 'eu' });
    expect(charge).toEqual({ key: '[["region","eu"]]', bytes: 2 * (2 * 17 + 120) });
    chargeGroup(budget, charge);
    chargeGroup(budget, charge);
    expect(budget.bytesLeft).toBe(MAX_METER_ITEM_BYTES - JSON.stringify(meter).length - 308);
    expect(fitsGroup({ ...budget, bytesLeft: 0 }, charge)).toBe(true);
    expect(fitsGroup({ ...budget, bytesLeft: 0, groups: new Set() }, charge)).toBe(false);
    expect(groupChargeOf(undefined)).toBeUndefined();
  });
});
