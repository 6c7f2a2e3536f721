/**
 * The `average` aggregation as it is shown: the meter keeps the exact sum of the values and
 * their count (merged like a sum, so any split of the records over batches, shards and retries
 * gives the same two numbers); records and the API show the mean, `meanOf(sum, count)`, beside
 * both. Pure.
 */
import { meanOf } from './exact-decimal.js';
import type { AggregationType } from './types.js';

/** What an average is made of: the exact sum (canonical decimal) and the number of values. */
export interface AverageParts {
  sum: string;
  count: number;
}

/** The value to show: the mean for `average` (null without values), else the value as kept. */
export function shownValue(
  type: AggregationType,
  value: string | null,
  count: number,
): string | null {
  return type === 'average' ? meanOf(value ?? '0', count) : value;
}

/** `{ average: { sum, count } }` for `average`, else nothing: spread it beside `value`. */
export function averagePartsOf(
  type: AggregationType,
  value: string | null,
  count: number,
): { average?: AverageParts } {
  return type === 'average' ? { average: { sum: value ?? '0', count } } : {};
}
