/** zod at the edges: field-named issues and a parse that throws the service's ValidationError. */
import type { z } from 'zod';
import { type FieldIssue, ValidationError } from './errors.js';

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** A bound of a too_small / too_big issue in words, e.g. "at most 80 characters". */
function boundWords(issue: z.core.$ZodRawIssue, word: 'at least' | 'at most'): string {
  const { origin } = issue as { origin?: string };
  const limit = String(
    (issue as { minimum?: unknown; maximum?: unknown })[
      word === 'at least' ? 'minimum' : 'maximum'
    ],
  );
  const inclusive = (issue as { inclusive?: boolean }).inclusive !== false;
  if (origin === 'string') return `must be ${word} ${limit} characters long`;
  if (origin === 'array' || origin === 'set') return `must have ${word} ${limit} items`;
  if (!inclusive) return `must be ${word === 'at least' ? 'greater' : 'less'} than ${limit}`;
  return `must be ${word} ${limit}`;
}

/**
 * The words for what zod would word itself ("Invalid input: expected object, received
 * undefined", raw patterns): a sentence a person can act on. Schemas' own messages win.
 */
export function plainMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return boundWords(issue, 'at least');
    case 'too_big':
      return boundWords(issue, 'at most');
    case 'invalid_format':
      return issue.format === 'regex'
        ? 'is not in the expected format'
        : `must be a valid ${issue.format}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'matches none of the allowed forms';
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has an entry that is not allowed';
    default:
      return 'is invalid';
  }
}

/** How edges parse: inputs reported (so a missing field reads "is required"), plain messages. */
export const EDGE_PARSE = { reportInput: true, error: plainMessage } as const;

/** Issues that, for an absent field, mean only that it is required. */
const ABSENT_CODES = new Set(['invalid_type', 'invalid_value', 'invalid_union']);

/**
 * Turns zod issues into field-named messages a client can act on. With `inputReported` (a
 * parse with EDGE_PARSE), a field that is absent reads "is required" whatever its schema says
 * of a wrong type.
 */
export function toFieldIssues(error: z.ZodError, inputReported = false): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      return {
        field: path ? `${path}.${issue.keys[0] ?? ''}` : (issue.keys[0] ?? ''),
        message: `unknown field${issue.keys.length > 1 ? 's' : ''}: ${keys}`,
      };
    }
    const missing =
      inputReported &&
      ABSENT_CODES.has(issue.code) &&
      (issue as { input?: unknown }).input === undefined;
    return { field: path || '(body)', message: missing ? 'is required' : issue.message };
  });
}

/** Parses `input` with `schema`, throwing a ValidationError that names the fields at fault. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input, EDGE_PARSE);
  if (!result.success) {
    throw new ValidationError(toFieldIssues(result.error, true), { cause: result.error });
  }
  return result.data;
}
