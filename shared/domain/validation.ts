/** zod at the edges: field-named issues and a parse that throws the service's ValidationError. */
import type { z } from 'zod';
import { type FieldIssue, ValidationError } from './errors.js';

/** Turns zod issues into field-named messages a client can act on. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      return {
        field: path ? `${path}.${issue.keys[0] ?? ''}` : (issue.keys[0] ?? ''),
        message: `unknown field${issue.keys.length > 1 ? 's' : ''}: ${keys}`,
      };
    }
    return { field: path || '(body)', message: issue.message };
  });
}

/** Parses `input` with `schema`, throwing a ValidationError that names the fields at fault. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(toFieldIssues(result.error), { cause: result.error });
  }
  return result.data;
}
