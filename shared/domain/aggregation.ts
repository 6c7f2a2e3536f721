/**
 * Partial aggregates of usage: what a meter holds for one period, per group and per carry
 * field. A batch of records is pre-aggregated with `aggregateSamples` and merged into stored
 * state with `mergeAggregates`; merge is associative, so any split of a record sequence into
 * consecutive chunks, merged in any tree shape, gives the same aggregate as the whole sequence.
 *
 * Values are exact decimals: big.js arithmetic, stored as canonical decimal strings
 * (`'0.3'`, `'-2'`, `'1000000'`; never exponent notation, never trailing zeros, never `-0`).
 *
 * For `average`, `value` is the exact sum of the values and `count` their number; the mean is
 * shown, never stored (see `meanOf`).
 *
 * `valueAt` is the usage time of the record that supplied `value` for the `last` aggregation
 * (needed to merge `last` correctly); it is always `null` for `sum`, `increment`, `min` and `max`.
 *
 * Ties: "sequence order" is the order records were applied (Kinesis order within a shard).
 * `last` and `carryLast` prefer the later record on equal usage times, `carryFirst` the
 * earlier one; `mergeAggregates(type, a, b)` treats every record of `a` as before every
 * record of `b`.
 */
import Big from 'big.js';
import { emptyValue, mergeValue, ValueAccumulator } from './aggregated-value.js';
import type { AggregationType, FieldValue } from './types.js';

/** One usage record as the aggregation sees it. */
export interface UsageSample {
  /** Decimal string; ignored by `increment`. */
  value: string;
  /** Event time, epoch milliseconds. */
  usageTime: number;
  /** The guiding rule's group-by fields -> values; absent when the rule has no groupBy. */
  groupValues?: Record<string, FieldValue>;
  /** Carry fields present on the record. */
  carry?: Record<string, FieldValue>;
  /** What the record adds to its group when that differs from `value` (`unique`: see unique-values.ts). */
  groupValue?: string;
}

/** A carried field value and the usage time of the record it came from. */
export interface CarriedValue {
  value: FieldValue;
  at: number;
}

/** The aggregate of one group (one combination of group-by values). */
export interface GroupAggregate {
  values: Record<string, FieldValue>;
  value: string | null;
  count: number;
  valueAt: number | null;
}

/** The aggregate of a consecutive run of usage records. */
export interface PartialAggregate {
  /** `'0'` when empty for sum/increment, `null` when empty for min/max/last. */
  value: string | null;
  count: number;
  firstUsageAt: number | null;
  lastUsageAt: number | null;
  /** Usage time behind `value` for `last`; `null` for the other aggregation types. */
  valueAt: number | null;
  /** Keyed by `groupKey(values)`; each group's `values` lists its fields in name order. */
  groups: Record<string, GroupAggregate>;
  carryFirst: Record<string, CarriedValue>;
  carryLast: Record<string, CarriedValue>;
}

/** Deterministic key of a group's values: JSON of its entries sorted by field name. */
export function groupKey(values: Record<string, FieldValue>): string {
  return JSON.stringify(sortedEntries(values));
}

function sortedEntries(values: Record<string, FieldValue>): [string, FieldValue][] {
  return Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The aggregate of no records. */
export function emptyAggregate(type: AggregationType): PartialAggregate {
  return {
    value: emptyValue(type),
    count: 0,
    firstUsageAt: null,
    lastUsageAt: null,
    valueAt: null,
    groups: {},
    carryFirst: {},
    carryLast: {},
  };
}

/** The aggregate of a single record. */
export function aggregateSample(type: AggregationType, sample: UsageSample): PartialAggregate {
  return aggregateSamples(type, [sample]);
}

/** The aggregate of `a`'s records followed by `b`'s records; pure, inputs are not mutated. */
export function mergeAggregates(
  type: AggregationType,
  a: PartialAggregate,
  b: PartialAggregate,
): PartialAggregate {
  const merged = mergeValue(type, a, b);
  return {
    value: merged.value,
    count: a.count + b.count,
    firstUsageAt: minTime(a.firstUsageAt, b.firstUsageAt),
    lastUsageAt: maxTime(a.lastUsageAt, b.lastUsageAt),
    valueAt: merged.valueAt,
    groups: mergeGroups(type, a.groups, b.groups),
    carryFirst: mergeCarry(a.carryFirst, b.carryFirst, 'first'),
    carryLast: mergeCarry(a.carryLast, b.carryLast, 'last'),
  };
}

/** The aggregate of a record sequence in one pass; equal to folding `mergeAggregates`. */
export function aggregateSamples(
  type: AggregationType,
  samples: readonly UsageSample[],
): PartialAggregate {
  const aggregator = new Aggregator(type);
  for (const sample of samples) {
    aggregator.add(
      sample.value,
      sample.usageTime,
      sample.groupValues,
      sample.carry,
      sample.groupValue,
    );
  }
  return aggregator.result();
}

/**
 * Aggregates records one at a time, in sequence order, without keeping them: what
 * `aggregateSamples` does for a list, for callers that would otherwise build the list only to
 * fold it (ingestion, once per meter per batch).
 */
export class Aggregator {
  private readonly total: ValueAccumulator;
  private groups: Map<
    string,
    { values: Record<string, FieldValue>; acc: ValueAccumulator }
  > | null = null;
  private carryFirst: Map<string, CarriedValue> | null = null;
  private carryLast: Map<string, CarriedValue> | null = null;
  private firstUsageAt: number | null = null;
  private lastUsageAt: number | null = null;

  constructor(private readonly type: AggregationType) {
    this.total = new ValueAccumulator(type);
  }

  /**
   * Adds one record: `value` is a decimal string (ignored by increment), `at` its usage time;
   * `groupValue`, when given, is what the record adds to its group instead of `value` (a unique
   * count: the value may be new to its group but not to the period).
   */
  add(
    value: string,
    at: number,
    groupValues?: Record<string, FieldValue>,
    carry?: Record<string, FieldValue>,
    groupValue: string = value,
  ): void {
    if (!Number.isFinite(at)) throw new RangeError(`usageTime must be a finite number: ${at}`);
    const type = this.type;
    // Parse once per record; increment ignores the value (it may even be absent upstream).
    // Sums add the decimal text (see ExactSum); min, max and last compare Big values.
    const parsed =
      type === 'increment' || type === 'sum' || type === 'average' || type === 'unique'
        ? null
        : new Big(value);
    this.total.add(parsed, at, value);
    if (this.firstUsageAt === null || at < this.firstUsageAt) this.firstUsageAt = at;
    if (this.lastUsageAt === null || at > this.lastUsageAt) this.lastUsageAt = at;

    if (groupValues !== undefined) {
      const entries = sortedEntries(groupValues);
      const key = JSON.stringify(entries);
      this.groups ??= new Map();
      let group = this.groups.get(key);
      if (group === undefined) {
        // Fields in name order, so equal groups print alike whichever record came first.
        group = { values: Object.fromEntries(entries), acc: new ValueAccumulator(type) };
        this.groups.set(key, group);
      }
      group.acc.add(parsed, at, groupValue);
    }

    if (carry !== undefined) {
      this.carryFirst ??= new Map();
      this.carryLast ??= new Map();
      for (const [field, fieldValue] of Object.entries(carry)) {
        const first = this.carryFirst.get(field);
        if (first === undefined || at < first.at) {
          this.carryFirst.set(field, { value: fieldValue, at });
        }
        const last = this.carryLast.get(field);
        if (last === undefined || at >= last.at)
          this.carryLast.set(field, { value: fieldValue, at });
      }
    }
  }

  /** How many records were added. */
  get count(): number {
    return this.total.count;
  }

  /** The aggregate of the records added so far. */
  result(): PartialAggregate {
    const total = this.total.result();
    const groups: Record<string, GroupAggregate> = {};
    for (const [key, { values, acc }] of this.groups ?? []) {
      const result = acc.result();
      // A group key is the JSON text of an array (`[[...]]`), so it is never `__proto__`.
      groups[key] = { values, value: result.value, count: acc.count, valueAt: result.valueAt };
    }
    return {
      value: total.value,
      count: this.total.count,
      firstUsageAt: this.firstUsageAt,
      lastUsageAt: this.lastUsageAt,
      valueAt: total.valueAt,
      groups,
      carryFirst: this.carryFirst ? Object.fromEntries(this.carryFirst) : {},
      carryLast: this.carryLast ? Object.fromEntries(this.carryLast) : {},
    };
  }
}

function mergeGroups(
  type: AggregationType,
  a: Record<string, GroupAggregate>,
  b: Record<string, GroupAggregate>,
): Record<string, GroupAggregate> {
  if (isEmptyRecord(a) && isEmptyRecord(b)) return {};
  const merged = new Map<string, GroupAggregate>();
  for (const [key, group] of Object.entries(a)) merged.set(key, copyGroup(group));
  for (const [key, bGroup] of Object.entries(b)) {
    const aGroup = merged.get(key);
    if (aGroup === undefined) {
      merged.set(key, copyGroup(bGroup));
      continue;
    }
    const value = mergeValue(type, aGroup, bGroup);
    merged.set(key, {
      values: aGroup.values,
      value: value.value,
      count: aGroup.count + bGroup.count,
      valueAt: value.valueAt,
    });
  }
  return Object.fromEntries(merged);
}

function mergeCarry(
  a: Record<string, CarriedValue>,
  b: Record<string, CarriedValue>,
  keep: 'first' | 'last',
): Record<string, CarriedValue> {
  if (isEmptyRecord(a) && isEmptyRecord(b)) return {};
  const merged = new Map<string, CarriedValue>();
  for (const [field, carried] of Object.entries(a)) merged.set(field, { ...carried });
  for (const [field, bCarried] of Object.entries(b)) {
    const aCarried = merged.get(field);
    const takeB =
      aCarried === undefined ||
      (keep === 'first' ? bCarried.at < aCarried.at : bCarried.at >= aCarried.at);
    if (takeB) merged.set(field, { ...bCarried });
  }
  return Object.fromEntries(merged);
}

/** Whether a record has no own keys, found without listing them (merges run for every write). */
function isEmptyRecord(record: object): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

function copyGroup(group: GroupAggregate): GroupAggregate {
  return { ...group, values: copyRecord(group.values) };
}

/**
 * Copies own enumerable entries. `Object.fromEntries` defines properties (it never invokes
 * the `__proto__` setter), so a field literally named `__proto__` stays an ordinary key.
 */
function copyRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record));
}

function minTime(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function maxTime(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
