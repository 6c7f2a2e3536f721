/**
 * The field values a meter keeps of a record: the matching rule's group-by fields and the
 * stream's carry fields (DOMAIN.md "Guiding rules", "Carry fields"). Pure.
 */
import { type GuidingRule, groupValuesOf, keptValuesOf } from './guiding.js';
import type { StreamConfig } from './stream-schemas.js';
import type { FieldValue } from './types.js';

/** What a meter keeps of one record, or why it cannot keep it. */
export type KeptFields =
  | { ok: true; groupValues?: Record<string, FieldValue>; carry?: Record<string, FieldValue> }
  | { ok: false; message: string };

const NOTHING_KEPT: KeptFields = Object.freeze({ ok: true } as const);

const carryFields = new WeakMap<StreamConfig, readonly string[]>();

/** The stream's carry fields, first and last together, worked out once per stream. */
function carryFieldsOf(stream: StreamConfig): readonly string[] {
  let fields = carryFields.get(stream);
  if (!fields) {
    fields = [...new Set([...stream.carryFirst, ...stream.carryLast])];
    carryFields.set(stream, fields);
  }
  return fields;
}

/**
 * The values a meter keeps of a record: its group-by fields (missing ones are null) and the
 * stream's carry fields that it has. A value too large or too deep to keep refuses the record.
 * A record that keeps nothing gets one shared, frozen answer.
 */
export function keptFieldValues(
  stream: StreamConfig,
  rule: GuidingRule,
  fields: Record<string, unknown>,
): KeptFields {
  const carryFields = carryFieldsOf(stream);
  if ((rule.groupBy === undefined || rule.groupBy.length === 0) && carryFields.length === 0)
    return NOTHING_KEPT;
  const groups = groupValuesOf(rule, fields);
  if (!groups.ok) return groups;
  const carry = keptValuesOf(fields, carryFields, true);
  if (!carry.ok) return carry;
  return { ok: true, groupValues: groups.values, carry: carry.values };
}
