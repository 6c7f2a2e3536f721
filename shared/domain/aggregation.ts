/**
 * Partial aggregates of usage: what a meter holds for one period, per group and per carry
 * field. A batch of records is pre-aggregated with `aggregateSamples` and merged into stored
 * state with `mergeAggregates`; merge is associative, so any split of a record sequence into
 * consecutive chunks, merged in any tree shape, gives the same aggregate as the whole sequence.
 *
 * Values are exact decimals: big.js arithmetic, stored as canonical decimal strings
 * (`'0.3'`, `'-2'`, `'1000000'`; never exponent notation, never trailing zeros, never `-0`).
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

/** Canonical decimal string of a decimal string or number; throws on an invalid decimal. */
export function canonicalDecimal(value: string | number): string {
  return new Big(value).toFixed();
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
    aggregator.add(sample.value, sample.usageTime, sample.groupValues, sample.carry);
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

  /** Adds one record: `value` is a decimal string (ignored by increment), `at` its usage time. */
  add(
    value: string,
    at: number,
    groupValues?: Record<string, FieldValue>,
    carry?: Record<string, FieldValue>,
  ): void {
    if (!Number.isFinite(at)) throw new RangeError(`usageTime must be a finite number: ${at}`);
    const type = this.type;
    // Parse once per record; increment ignores the value (it may even be absent upstream).
    // Sums add the decimal text (see ExactSum); min, max and last compare Big values.
    const parsed = type === 'increment' || type === 'sum' ? null : new Big(value);
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
      group.acc.add(parsed, at, value);
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

/** The running aggregated value after one more record (assumed latest, for `last`). */
export function applyValue(
  type: AggregationType,
  current: string | null,
  sampleValue: string,
): string {
  switch (type) {
    case 'sum':
      return new Big(current ?? 0).plus(sampleValue).toFixed();
    case 'increment':
      return new Big(current ?? 0).plus(1).toFixed();
    case 'min':
    case 'max': {
      const next = new Big(sampleValue);
      if (current === null) return next.toFixed();
      const cur = new Big(current);
      const replace = type === 'min' ? next.lt(cur) : next.gt(cur);
      return (replace ? next : cur).toFixed();
    }
    case 'last':
      return canonicalDecimal(sampleValue);
  }
}

function emptyValue(type: AggregationType): string | null {
  return type === 'sum' || type === 'increment' ? '0' : null;
}

/**
 * An exact running sum of canonical decimal strings. While every value has at most 6 decimals
 * and the total stays within 2^53 units of the finest scale seen, it adds integers (exact, and
 * far cheaper than big.js per record); past that it continues in big.js.
 */
class ExactSum {
  private scaled = 0;
  private scale = 0;
  private big: Big | null = null;

  add(text: string): void {
    if (this.big === null) {
      if (this.addScaled(text)) return;
      this.big = new Big(`${this.scaled}e-${this.scale}`);
    }
    this.big = this.big.plus(text);
  }

  private addScaled(text: string): boolean {
    const plain = plainDecimalParts(text);
    if (plain === undefined || plain.decimals > MAX_SCALE) return false;
    let units = plain.units;
    let scaled = this.scaled;
    if (plain.decimals > this.scale) scaled *= 10 ** (plain.decimals - this.scale);
    else units *= 10 ** (this.scale - plain.decimals);
    const next = scaled + units;
    if (
      !Number.isSafeInteger(units) ||
      !Number.isSafeInteger(scaled) ||
      !Number.isSafeInteger(next)
    )
      return false;
    this.scaled = next;
    this.scale = Math.max(this.scale, plain.decimals);
    return true;
  }

  toFixed(): string {
    return this.big === null ? scaledToFixed(this.scaled, this.scale) : this.big.toFixed();
  }
}

const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/**
 * The canonical decimal of a finite number with at most 6 decimals, as `String(value)` writes
 * it, found with integer arithmetic (several times cheaper than number-to-string for values
 * like 0.3); undefined for anything else. The smallest scale k at which some integer m has
 * m / 10^k === value gives the shortest decimal that reads back as the value, which is what
 * `String` prints. With |m| < 2^50 the decimals of that scale lie farther apart than the
 * number's precision, so m is the only candidate and Math.round finds it.
 */
export function decimalOfNumber(value: number): string | undefined {
  if (Number.isInteger(value)) {
    return Math.abs(value) < 2 ** 50 ? String(value === 0 ? 0 : value) : undefined;
  }
  for (let scale = 1; scale <= MAX_SCALE; scale++) {
    const power = POWERS_OF_TEN[scale] as number;
    const units = Math.round(value * power);
    if (!(Math.abs(units) < 2 ** 50)) return undefined;
    if (units / power === value) return scaledToFixed(units, scale);
  }
  return undefined;
}

/** Decimals the integer fast path of ExactSum keeps; finer values are summed by big.js. */
const MAX_SCALE = 6;

/**
 * A plain decimal (`-?digits[.digits]`, at most 17 characters) as an integer of units of its
 * last decimal place; undefined for anything else (exponents, signs, spaces: big.js decides).
 */
function plainDecimalParts(text: string): { units: number; decimals: number } | undefined {
  const length = text.length;
  if (length === 0 || length > 17) return undefined;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const firstDigit = i;
  let units = 0;
  let dot = -1;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 && dot === -1 && i > firstDigit && i < length - 1) dot = i;
    else if (code >= 48 && code <= 57) units = units * 10 + (code - 48);
    else return undefined;
  }
  if (i === firstDigit) return undefined;
  return { units: firstDigit === 1 ? -units : units, decimals: dot === -1 ? 0 : length - dot - 1 };
}

/** The canonical decimal of `scaled` × 10^-`scale` (a safe integer): no trailing zeros, no -0. */
function scaledToFixed(scaled: number, scale: number): string {
  if (scaled === 0) return '0';
  let units = Math.abs(scaled);
  let places = scale;
  while (places > 0 && units % 10 === 0) {
    units /= 10;
    places--;
  }
  const sign = scaled < 0 ? '-' : '';
  if (places === 0) return `${sign}${units}`;
  const power = POWERS_OF_TEN[places] as number;
  let whole = Math.floor(units / power);
  // Below 2^53 the rounded quotient never reaches the next whole number (doubles there lie
  // closer than 2 / power); the check keeps that from being a silent assumption.
  if (whole * power > units) whole--;
  const fraction = String(units - whole * power);
  const zeros = places - fraction.length;
  return `${sign}${whole}.${zeros > 0 ? '0'.repeat(zeros) : ''}${fraction}`;
}

/** Mutable single-pass accumulator of one aggregated value (the total, or one group). */
class ValueAccumulator {
  count = 0;
  private readonly sum = new ExactSum();
  private extreme: Big | null = null;
  private lastValue: Big | null = null;
  private lastAt: number | null = null;

  constructor(private readonly type: AggregationType) {}

  /** `value` is the parsed `text` for min, max and last; sums add `text`; increment neither. */
  add(value: Big | null, at: number, text: string): void {
    this.count += 1;
    if (this.type === 'sum') {
      this.sum.add(text);
      return;
    }
    if (value === null) return;
    switch (this.type) {
      case 'min':
        if (this.extreme === null || value.lt(this.extreme)) this.extreme = value;
        return;
      case 'max':
        if (this.extreme === null || value.gt(this.extreme)) this.extreme = value;
        return;
      case 'last':
        if (this.lastAt === null || at >= this.lastAt) {
          this.lastValue = value;
          this.lastAt = at;
        }
        return;
      case 'increment':
        return;
    }
  }

  result(): { value: string | null; valueAt: number | null } {
    switch (this.type) {
      case 'sum':
        return { value: this.sum.toFixed(), valueAt: null };
      case 'increment':
        return { value: String(this.count), valueAt: null };
      case 'min':
      case 'max':
        return { value: this.extreme === null ? null : this.extreme.toFixed(), valueAt: null };
      case 'last':
        return {
          value: this.lastValue === null ? null : this.lastValue.toFixed(),
          valueAt: this.lastAt,
        };
    }
  }
}

interface ValueWithTime {
  value: string | null;
  valueAt: number | null;
}

function mergeValue(type: AggregationType, a: ValueWithTime, b: ValueWithTime): ValueWithTime {
  switch (type) {
    case 'sum':
    case 'increment': {
      const sum = new ExactSum();
      sum.add(a.value ?? '0');
      sum.add(b.value ?? '0');
      return { value: sum.toFixed(), valueAt: null };
    }
    case 'min':
    case 'max': {
      if (a.value === null) return { value: canonicalOrNull(b.value), valueAt: null };
      if (b.value === null) return { value: canonicalDecimal(a.value), valueAt: null };
      const aValue = new Big(a.value);
      const bValue = new Big(b.value);
      const takeB = type === 'min' ? bValue.lt(aValue) : bValue.gt(aValue);
      return { value: (takeB ? bValue : aValue).toFixed(), valueAt: null };
    }
    case 'last': {
      if (a.value === null || a.valueAt === null) {
        return { value: canonicalOrNull(b.value), valueAt: b.valueAt };
      }
      if (b.value === null || b.valueAt === null) {
        return { value: canonicalDecimal(a.value), valueAt: a.valueAt };
      }
      // b is later in sequence order, so it wins ties.
      return b.valueAt >= a.valueAt
        ? { value: canonicalDecimal(b.value), valueAt: b.valueAt }
        : { value: canonicalDecimal(a.value), valueAt: a.valueAt };
    }
  }
}

/** Stored state may come back from DynamoDB in another spelling; merge always canonicalizes. */
function canonicalOrNull(value: string | null): string | null {
  return value === null ? null : canonicalDecimal(value);
}

function mergeGroups(
  type: AggregationType,
  a: Record<string, GroupAggregate>,
  b: Record<string, GroupAggregate>,
): Record<string, GroupAggregate> {
  if (Object.keys(a).length === 0 && Object.keys(b).length === 0) return {};
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
  if (Object.keys(a).length === 0 && Object.keys(b).length === 0) return {};
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
