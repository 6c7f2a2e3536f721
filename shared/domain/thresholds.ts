/**
 * Thresholds and capacity. Firing is state based (DESIGN.md 2.4): a threshold fires when it
 * is reached and has not yet fired this period, so a retried batch can neither miss it nor
 * fire it twice. All comparisons are exact decimal comparisons.
 */
import Big from 'big.js';
import { applyValue } from './aggregated-value.js';
import type { AggregationType, CapacityPolicy, Threshold } from './types.js';

/** Name of the threshold that stands for "capacity reached" under the `notify` policy. */
export const CAPACITY_THRESHOLD_NAME = 'capacity';

/** The parts of a meter type that decide its thresholds. */
export interface ThresholdSettings {
  thresholds?: Threshold[];
  capacity?: number;
  capacityPolicy?: CapacityPolicy;
}

/** A threshold's limit as a decimal string; `undefined` for a percent without capacity. */
export function thresholdLimit(
  threshold: Threshold,
  capacity: string | number | undefined,
): string | undefined {
  if ('value' in threshold) return new Big(threshold.value).toFixed();
  if (capacity === undefined) return undefined;
  // times(0.01) rather than div(100): multiplication is exact, division rounds to Big.DP.
  return new Big(capacity).times(threshold.percent).times('0.01').toFixed();
}

/** Names of the thresholds whose limit is at or below `value`, in threshold order. */
export function reachedThresholds(
  thresholds: readonly Threshold[],
  capacity: string | number | undefined,
  value: string | null,
): string[] {
  if (value === null) return [];
  const current = new Big(value);
  return thresholds
    .filter((threshold) => {
      const limit = thresholdLimit(threshold, capacity);
      return limit !== undefined && current.gte(limit);
    })
    .map((threshold) => threshold.name);
}

/** Thresholds reached by `value` that have not fired yet this period. */
export function thresholdsToFire(
  thresholds: readonly Threshold[],
  capacity: string | number | undefined,
  value: string | null,
  alreadyFired: readonly string[],
): string[] {
  const fired = new Set(alreadyFired);
  return reachedThresholds(thresholds, capacity, value).filter((name) => !fired.has(name));
}

/** Whether `effectiveThresholds` has any, without building the list (asked per meter write). */
export function hasThresholds(meterType: ThresholdSettings): boolean {
  return (
    (meterType.thresholds?.length ?? 0) > 0 ||
    ((meterType.capacityPolicy ?? 'notify') === 'notify' && meterType.capacity !== undefined)
  );
}

/**
 * The meter type's thresholds plus, under the `notify` policy (the default) with a capacity,
 * one named `capacity` at the capacity. A user threshold already named `capacity` is kept
 * instead of it, so names stay unique.
 */
export function effectiveThresholds(meterType: ThresholdSettings): Threshold[] {
  const thresholds = [...(meterType.thresholds ?? [])];
  const policy = meterType.capacityPolicy ?? 'notify';
  if (
    policy === 'notify' &&
    meterType.capacity !== undefined &&
    !thresholds.some((threshold) => threshold.name === CAPACITY_THRESHOLD_NAME)
  ) {
    thresholds.push({ name: CAPACITY_THRESHOLD_NAME, value: meterType.capacity });
  }
  return thresholds;
}

/**
 * For the `reject` policy: whether a record may be applied. It is refused only when it would
 * leave the value above capacity *and* raise it; a record that lowers an already exceeded
 * value (a negative correction, or after the capacity was lowered) is admitted. For `last`,
 * the record is assumed to be the latest (see `applyValue`).
 */
export function admitsWithinCapacity(
  type: AggregationType,
  current: string | null,
  sampleValue: string,
  capacity: number | undefined,
): boolean {
  if (capacity === undefined) return true;
  const next = new Big(applyValue(type, current, sampleValue));
  if (next.lte(capacity)) return true;
  return current !== null && next.lte(current);
}
