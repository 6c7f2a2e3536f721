/**
 * One aggregated value and the rules of each aggregation type for it: adding a record (in one
 * pass, or one record at a time) and merging two runs of records in sequence order. Exact
 * decimals throughout (see exact-decimal.ts). Pure.
 */
import Big from 'big.js';
import { canonicalDecimal, ExactSum } from './exact-decimal.js';
import type { AggregationType } from './types.js';

/** The running aggregated value after one more record (assumed latest, for `last`). */
export function applyValue(
  type: AggregationType,
  current: string | null,
  sampleValue: string,
): string {
  switch (type) {
    case 'sum':
    case 'average':
    case 'unique':
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

/**
 * The value of no records: 0 for sums and counts, none for min, max and last. An `average`
 * keeps the exact sum of its values as its value (the count is the aggregate's `count`); the
 * mean is worked out only where it is shown (`meanOf`), so merging stays exact.
 */
export function emptyValue(type: AggregationType): string | null {
  return type === 'sum' || type === 'increment' || type === 'average' || type === 'unique'
    ? '0'
    : null;
}

/** Mutable single-pass accumulator of one aggregated value (the total, or one group). */
export class ValueAccumulator {
  count = 0;
  private readonly sum = new ExactSum();
  private extreme: Big | null = null;
  private lastValue: Big | null = null;
  private lastAt: number | null = null;

  constructor(private readonly type: AggregationType) {}

  /** `value` is the parsed `text` for min, max and last; sums add `text`; increment neither. */
  add(value: Big | null, at: number, text: string): void {
    this.count += 1;
    if (this.type === 'sum' || this.type === 'average' || this.type === 'unique') {
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
      case 'average':
      case 'unique':
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

/** An aggregated value, with the usage time behind it for `last`. */
export interface ValueWithTime {
  value: string | null;
  valueAt: number | null;
}

/** The value of `a`'s records followed by `b`'s (see `mergeAggregates`). */
export function mergeValue(
  type: AggregationType,
  a: ValueWithTime,
  b: ValueWithTime,
): ValueWithTime {
  switch (type) {
    case 'sum':
    case 'average':
    case 'unique':
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
