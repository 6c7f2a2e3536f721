/** The value a record brings to a unique meter (see unique-values.ts). Pure. */
import { readField } from './guiding.js';

/** The value a record brings to a unique meter, as a key (type and value), or why it brings none. */
export type UniqueValue = { ok: true; key: string } | { ok: false; message: string };

/**
 * The record's value of the meter's field: a string, a finite number or a boolean, kept with its
 * type (`"7"` and `7` are different values). Missing, `null`, or anything else is refused.
 */
export function uniqueValueOf(field: string, fields: Record<string, unknown>): UniqueValue {
  const value = readField(fields, field);
  if (value === undefined || value === null) {
    return { ok: false, message: `${field}: is required by a unique meter` };
  }
  if (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  ) {
    return { ok: true, key: JSON.stringify(value) };
  }
  return { ok: false, message: `${field}: must be a string, number or boolean for a unique meter` };
}
