/**
 * zod schemas of what arrives on a stream and how a stream is configured: usage records, guiding
 * rules and stream (meter processor) configurations. Limits and defaults come from DOMAIN.md.
 */
import Big from 'big.js';
import { z } from 'zod';
import { fieldPath, finiteNumber, identifier, isoTimestamp, text } from './schema-primitives.js';

/** Usage values stay below this magnitude, so every total prints as a plain JSON number. */
const MAX_USAGE_VALUE = '1e21';

/** A usage value: a finite JSON number, or a decimal string for values beyond double precision. */
export const usageValueSchema = z
  .union(
    [
      finiteNumber,
      z
        .string()
        .max(64, { error: 'must be a decimal string of at most 64 characters' })
        .regex(/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d{1,3})?$/, {
          error: 'must be a finite number, or a decimal string such as "12.5"',
        }),
    ],
    { error: 'must be a finite number' },
  )
  .refine(
    (value) => {
      // Runs after a failed union too, with the raw input: never throw on it.
      try {
        const decimal = new Big(value);
        return decimal.abs().lt(MAX_USAGE_VALUE) && decimal.toFixed().length <= 64;
      } catch {
        return false;
      }
    },
    { error: 'must be less than 1e21 in magnitude, with at most 64 digits' },
  );

/** A usage timestamp: ISO 8601 with offset, or epoch milliseconds. */
export const usageTimestampSchema = z.union([isoTimestamp, z.number().int().min(0).max(8.64e15)], {
  error: 'must be an ISO 8601 timestamp with offset or epoch milliseconds',
});

/** A usage record as it arrives on the stream, with the default field names (DOMAIN.md). */
export const usageRecordSchema = z
  .object({
    userId: identifier(256),
    value: usageValueSchema.optional(),
    timestamp: usageTimestampSchema.optional(),
    eventId: identifier(256).optional(),
  })
  .catchall(z.unknown());
export type UsageRecordInput = z.infer<typeof usageRecordSchema>;

const fieldValueSchema = z.union([z.string(), finiteNumber, z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null',
});

/** How a condition compares a record field with its value (DOMAIN.md "Guiding rules", ours). */
export const conditionOperators = [
  'eq',
  'ne',
  'in',
  'exists',
  'prefix',
  'gt',
  'gte',
  'lt',
  'lte',
] as const;

const conditionScalar = z.union([z.string(), finiteNumber, z.boolean()], {
  error: 'must be a string, number or boolean',
});

/** What an operator needs of a condition's type and value, or what is wrong with them. */
function conditionProblem(c: {
  op: (typeof conditionOperators)[number];
  type?: string;
  value?: unknown;
}): { path: 'type' | 'value'; message: string } | undefined {
  if (c.op === 'exists') {
    return c.value === undefined
      ? undefined
      : { path: 'value', message: 'must be absent for exists' };
  }
  if (c.type === undefined) return { path: 'type', message: `is required for ${c.op}` };
  if (c.value === undefined) return { path: 'value', message: `is required for ${c.op}` };
  if (c.op === 'prefix' && c.type !== 'string') {
    return { path: 'type', message: 'must be string for prefix' };
  }
  if (['gt', 'gte', 'lt', 'lte'].includes(c.op) && c.type !== 'number') {
    return { path: 'type', message: `must be number for ${c.op}` };
  }
  if (c.op === 'in') {
    return Array.isArray(c.value) && c.value.every((v) => typeof v === c.type)
      ? undefined
      : { path: 'value', message: `must be an array of ${c.type} values for in` };
  }
  return typeof c.value === c.type
    ? undefined
    : { path: 'value', message: 'must have the type the condition names' };
}

/**
 * One typed test on a record field: `op` (default `eq`), `type` and `value` (`in`: an array of
 * values of that type; `exists`: no value, `type` optional).
 */
export const guidingConditionSchema = z
  .strictObject({
    field: fieldPath,
    op: z
      .enum(conditionOperators, { error: `must be one of ${conditionOperators.join(', ')}` })
      .default('eq'),
    type: z
      .enum(['string', 'number', 'boolean'], { error: 'must be string, number or boolean' })
      .optional(),
    value: z
      .union([conditionScalar, z.array(conditionScalar).min(1).max(100)], {
        error: 'must be a string, number or boolean, or an array of 1 to 100 of them',
      })
      .optional(),
  })
  .superRefine((condition, ctx) => {
    const problem = conditionProblem(condition);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
  });

export const guidingRuleSchema = z.strictObject({
  name: identifier(80),
  operator: z.enum(['AND', 'OR'], { error: 'must be AND or OR' }).default('AND'),
  conditions: z
    .array(guidingConditionSchema)
    .max(20, { error: 'must have at most 20 conditions' })
    .default([]),
  category: identifier(80),
  groupBy: z.array(fieldPath).max(5, { error: 'must have at most 5 fields' }).default([]),
});

export const lateRecordPolicies = ['count-in-current-period', 'data-correction'] as const;

/** The configuration of one stream (meter processor): how its records become metered usage. */
export const streamConfigSchema = z
  .strictObject({
    name: z.string({ error: 'must be a string' }).regex(/^[a-zA-Z0-9_.-]{1,128}$/, {
      error: 'must be a Kinesis stream name (1-128 of a-z, A-Z, 0-9, _ . -)',
    }),
    meterKey: identifier(100),
    description: text(200).optional(),
    shardCount: z.number().int().min(1).max(500).default(1),
    fields: z
      .strictObject({
        userId: fieldPath.default('userId'),
        value: fieldPath.default('value'),
        timestamp: fieldPath.default('timestamp'),
        eventId: fieldPath.default('eventId'),
      })
      .default({ userId: 'userId', value: 'value', timestamp: 'timestamp', eventId: 'eventId' }),
    validation: z
      .strictObject({
        required: z.array(fieldPath).max(50).default([]),
        types: z.record(fieldPath, z.enum(['string', 'number', 'boolean'])).default({}),
      })
      .default({ required: [], types: {} }),
    enrichment: z
      .strictObject({
        static: z.record(fieldPath, fieldValueSchema).default({}),
        rename: z.record(fieldPath, fieldPath).default({}),
        defaults: z.record(fieldPath, fieldValueSchema).default({}),
      })
      .default({ static: {}, rename: {}, defaults: {} }),
    guidingRules: z
      .array(guidingRuleSchema, { error: 'must be an array' })
      .min(1, { error: 'must have at least 1 rule' })
      .max(10, { error: 'must have at most 10 rules' }),
    carryFirst: z.array(fieldPath).max(10).default([]),
    carryLast: z.array(fieldPath).max(10).default([]),
    deduplication: z
      .strictObject({
        enabled: z.boolean().default(false),
        windowHours: z
          .number()
          .int()
          .min(1)
          .max(24 * 7)
          .default(24),
      })
      .default({ enabled: false, windowHours: 24 }),
    lateRecordPolicy: z.enum(lateRecordPolicies).default('count-in-current-period'),
    maxFutureSkewSeconds: z.number().int().min(0).max(3600).default(300),
  })
  .superRefine((stream, ctx) => {
    const names = new Set<string>();
    stream.guidingRules.forEach((rule, index) => {
      if (names.has(rule.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['guidingRules', index, 'name'],
          message: `duplicate rule name '${rule.name}'`,
        });
      }
      names.add(rule.name);
    });
  });
export type StreamConfig = z.infer<typeof streamConfigSchema>;

/** The configuration of every stream; names and meter keys are unique. */
export const streamsConfigSchema = z
  .array(streamConfigSchema)
  .min(1, { error: 'must configure at least one stream' })
  .superRefine((streams, ctx) => {
    for (const key of ['name', 'meterKey'] as const) {
      const seen = new Set<string>();
      streams.forEach((stream, index) => {
        if (seen.has(stream[key])) {
          ctx.addIssue({
            code: 'custom',
            path: [index, key],
            message: `duplicate ${key} '${stream[key]}'`,
          });
        }
        seen.add(stream[key]);
      });
    }
  });
