/** The aggregations as the console offers and describes them. */
import type { Schemas } from './api/schemas.js';

type Aggregation = Schemas['Aggregation'];

/** Every aggregation the API accepts, in the order the form offers them. */
export const AGGREGATIONS = [
  'sum',
  'increment',
  'min',
  'max',
  'last',
  'average',
  'unique',
] as const satisfies readonly Aggregation['type'][];

/** The API's default for `maxDistinct` (the form's placeholder) and its largest value. */
export const DEFAULT_MAX_DISTINCT = 100_000;
export const MAX_MAX_DISTINCT = 1_000_000;

/**
 * Whether meters of this aggregation may refuse records past capacity (`reject`): an average
 * may fall with the next record and a unique count is bounded by `maxDistinct` instead, so the
 * API answers 400 to `reject` with either.
 */
export function mayRejectByCapacity(type: Aggregation['type']): boolean {
  return type !== 'average' && type !== 'unique';
}

/** The aggregation in words, e.g. `unique values of deviceId (at most 100000 per period)`. */
export function aggregationInWords(aggregation: Aggregation): string {
  if (aggregation.type !== 'unique') return aggregation.type;
  const most =
    aggregation.maxDistinct === undefined ? '' : ` (at most ${aggregation.maxDistinct} per period)`;
  return `unique values of ${aggregation.field ?? '(no field)'}${most}`;
}
