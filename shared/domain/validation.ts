import type { z } from 'zod';

/** One problem with an input, naming the field (a dotted path) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}

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

/** One line that names every field at fault, for error responses and data-correction entries. */
export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}

/** Raised when an input fails validation; `issues` name each field at fault. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly issues: FieldIssue[],
    options?: { cause?: unknown },
  ) {
    super(describeIssues(issues), options);
  }
}

/** Parses `input` with `schema`, throwing a ValidationError that names the fields at fault. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ValidationError(toFieldIssues(result.error), { cause: result.error });
  }
  return result.data;
}
