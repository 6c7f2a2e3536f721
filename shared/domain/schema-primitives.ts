/**
 * Building blocks of the zod schemas at every edge: identifiers, free text, timestamps and
 * numbers that DynamoDB and JavaScript both hold exactly. Limits come from DOMAIN.md.
 */
import { z } from 'zod';

/** True for C0 and C1 control characters; `allowLayout` lets tab, newline and carriage return pass. */
function hasControlCharacter(value: string, allowLayout = false): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (allowLayout && (code === 0x09 || code === 0x0a || code === 0x0d)) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** True when a string holds a UTF-16 surrogate that is not part of a pair (not valid Unicode). */
function hasLoneSurrogate(value: string): boolean {
  return !value.isWellFormed();
}

/** What `identifier` takes, for the document: no control characters, no outer whitespace. */
export const IDENTIFIER_PATTERN =
  '^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$';

/** A non-empty identifier-like string: bounded, no control characters, no outer whitespace. */
export function identifier(maxLength: number) {
  return z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .refine((s) => !hasControlCharacter(s) && !hasLoneSurrogate(s), {
      error: 'must not contain control characters or unpaired surrogates',
    })
    .refine((s) => s.trim() === s, { error: 'must not start or end with whitespace' })
    .meta({ pattern: IDENTIFIER_PATTERN });
}

/** A record field's name or dotted path (`device.id`): no empty part, no `__proto__`, `constructor` or `prototype` part. */
export const fieldPath = identifier(200).refine(
  (path) =>
    path
      .split('.')
      .every(
        (part) => part.length > 0 && !['__proto__', 'prototype', 'constructor'].includes(part),
      ),
  { error: 'must be a field name or dotted path without empty or reserved parts' },
);

/** Free text: bounded, no control characters other than tab and newline. */
export function text(maxLength: number) {
  return z
    .string({ error: 'must be a string' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .refine((s) => !hasControlCharacter(s, true) && !hasLoneSurrogate(s), {
      error: 'must not contain control characters other than tab and newline',
    });
}

/** An ISO 8601 timestamp with a time zone offset or `Z`. */
export const isoTimestamp = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 timestamp with a time zone offset, e.g. 2025-01-01T00:00:00Z',
});

/** A UUID in any case, lower-cased: ids are case-insensitive on input, lower case on output. */
export function lowerCaseUuid(message: string) {
  return z.uuid({ error: message }).transform((id) => id.toLowerCase());
}

/** A finite JSON number. */
export const finiteNumber = z
  .number({ error: 'must be a number' })
  .refine((n) => Number.isFinite(n), { error: 'must be a finite number' });

/** True for a number DynamoDB and JavaScript both hold exactly enough: safe integers range, no underflow. */
export function isStorableNumber(n: number): boolean {
  return (
    Number.isFinite(n) &&
    Math.abs(n) <= Number.MAX_SAFE_INTEGER &&
    (n === 0 || Math.abs(n) >= 1e-100)
  );
}

/** A number a meter type can store: within ±(2^53 − 1) and not vanishingly small. */
export const storableNumber = z
  .number({ error: 'must be a number' })
  .refine(isStorableNumber, {
    error: `must be a finite number between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}, and 0 or at least 1e-100 in magnitude`,
  })
  .meta({
    minimum: -Number.MAX_SAFE_INTEGER,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'a finite number within ±(2^53 − 1); 0 or at least 1e-100 in magnitude',
  });

/**
 * How deep objects and arrays nest in a JSON value: a scalar 0, `{}` and `{"a":1}` 1,
 * `{"a":[1]}` 2. Stops early past `limit`, so no nesting can overflow the stack.
 */
export function containerDepth(value: unknown, limit: number, depth = 0): number {
  if (value === null || typeof value !== 'object') return depth;
  const here = depth + 1;
  let max = here;
  if (here > limit) return max;
  for (const child of Object.values(value)) {
    max = Math.max(max, containerDepth(child, limit, here));
    if (max > limit) break;
  }
  return max;
}

/** Depth of a JSON value (a scalar is 0), stopping early past `limit`. */
export function jsonDepth(value: unknown, limit: number, depth = 0): number {
  if (depth > limit || value === null || typeof value !== 'object') return depth;
  let max = depth;
  for (const child of Object.values(value)) {
    max = Math.max(max, jsonDepth(child, limit, depth + 1));
    if (max > limit) break;
  }
  return max;
}
