/**
 * zod schemas for everything that enters the service: meter types, meters, usage records and
 * stream (processor) configurations. Limits and defaults come from DOMAIN.md.
 */
import Big from 'big.js';
import { z } from 'zod';
import { isValidTimeZone, validateResetSchedule } from './schedule.js';

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

/** A non-empty identifier-like string: bounded, no control characters, no outer whitespace. */
export function identifier(maxLength: number) {
  return z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .refine((s) => !hasControlCharacter(s) && !hasLoneSurrogate(s), {
      error: 'must not contain control characters or unpaired surrogates',
    })
    .refine((s) => s.trim() === s, { error: 'must not start or end with whitespace' });
}

/** Free text: bounded, no control characters other than tab and newline. */
function text(maxLength: number) {
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

const finiteNumber = z
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
const storableNumber = z.number({ error: 'must be a number' }).refine(isStorableNumber, {
  error: `must be a finite number between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
});

export const aggregationTypes = ['sum', 'increment', 'min', 'max', 'last'] as const;

export const aggregationSchema = z.strictObject({
  type: z.enum(aggregationTypes, {
    error: `must be one of ${aggregationTypes.join(', ')}`,
  }),
});

const cronField = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'must be at most 100 characters' });

/** The cron-like reset schedule; the grammar and "can it ever fire" are checked by the domain. */
export const resetScheduleSchema = z
  .strictObject({
    minute: cronField,
    hour: cronField,
    day: cronField,
    month: cronField,
    weekday: cronField,
  })
  .superRefine((schedule, ctx) => {
    for (const problem of validateResetSchedule(schedule)) {
      ctx.addIssue({
        code: 'custom',
        message: problem.message,
        path: problem.field ? [problem.field] : [],
      });
    }
  });

export const timezoneSchema = z
  .string({ error: 'must be a string' })
  .max(64, { error: 'must be at most 64 characters' })
  .refine(isValidTimeZone, { error: 'must be an IANA time zone name, e.g. Europe/Stockholm' });

export const thresholdSchema = z.union(
  [
    z.strictObject({ name: identifier(80), value: storableNumber }),
    z.strictObject({
      name: identifier(80),
      percent: storableNumber.refine((p) => p > 0 && p <= 1000, {
        error: 'must be greater than 0 and at most 1000',
      }),
    }),
  ],
  { error: 'must be { name, value } or { name, percent }' },
);

export const capacityPolicies = ['notify', 'reject'] as const;

const meterTypeFields = {
  name: identifier(80),
  description: text(200).optional(),
  externalRef: identifier(100).optional(),
  category: identifier(80).default('DEFAULT'),
  unit: identifier(40),
  aggregation: aggregationSchema,
  resetSchedule: resetScheduleSchema,
  timezone: timezoneSchema.default('Etc/UTC'),
  activeFrom: isoTimestamp.optional(),
  activeTo: isoTimestamp.optional(),
  capacity: storableNumber.refine((c) => c > 0, { error: 'must be greater than 0' }).optional(),
  capacityPolicy: z
    .enum(capacityPolicies, { error: `must be one of ${capacityPolicies.join(', ')}` })
    .default('notify'),
  thresholds: z
    .array(thresholdSchema, { error: 'must be an array' })
    .max(10, { error: 'must have at most 10 thresholds' })
    .default([]),
  gracePeriodSeconds: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number of seconds' })
    .min(0, { error: 'must be at least 0' })
    .max(86_400, { error: 'must be at most 86400 (one day)' })
    .default(0),
};

type MeterTypeShape = {
  activeFrom?: string | undefined;
  activeTo?: string | undefined;
  capacity?: number | undefined;
  thresholds: { name: string }[];
};

/** Rules that span fields: the active window's order, threshold names, percent needs capacity. */
function checkMeterTypeInvariants(value: MeterTypeShape, ctx: z.RefinementCtx): void {
  if (
    value.activeFrom &&
    value.activeTo &&
    Date.parse(value.activeFrom) >= Date.parse(value.activeTo)
  ) {
    ctx.addIssue({ code: 'custom', path: ['activeTo'], message: 'must be after activeFrom' });
  }
  const seen = new Set<string>();
  value.thresholds.forEach((threshold, index) => {
    if (seen.has(threshold.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', index, 'name'],
        message: `duplicate threshold name '${threshold.name}'`,
      });
    }
    seen.add(threshold.name);
    if ('percent' in threshold && value.capacity === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', index, 'percent'],
        message: 'a percent threshold needs the meter type to have a capacity',
      });
    }
  });
}

/** Body of `POST /meter-types`, with the defaults of DOMAIN.md applied. */
export const meterTypeCreateSchema = z
  .strictObject(meterTypeFields)
  .superRefine(checkMeterTypeInvariants);
export type MeterTypeCreate = z.infer<typeof meterTypeCreateSchema>;

const IMMUTABLE_METER_TYPE_FIELDS = ['name', 'aggregation'] as const;

/**
 * Body of `PATCH /meter-types/{id}`: every field but `name` and `aggregation` may change;
 * `null` clears an optional field. Cross-field rules are checked on the merged result.
 */
export const meterTypeUpdateSchema = z
  .object({
    description: text(200).nullable().optional(),
    externalRef: identifier(100).nullable().optional(),
    category: identifier(80).optional(),
    unit: identifier(40).optional(),
    resetSchedule: resetScheduleSchema.optional(),
    timezone: timezoneSchema.optional(),
    activeFrom: isoTimestamp.nullable().optional(),
    activeTo: isoTimestamp.nullable().optional(),
    capacity: meterTypeFields.capacity.unwrap().nullable().optional(),
    capacityPolicy: z
      .enum(capacityPolicies, { error: `must be one of ${capacityPolicies.join(', ')}` })
      .optional(),
    thresholds: z
      .array(thresholdSchema, { error: 'must be an array' })
      .max(10, { error: 'must have at most 10 thresholds' })
      .optional(),
    gracePeriodSeconds: meterTypeFields.gracePeriodSeconds.unwrap().optional(),
  })
  .catchall(z.unknown())
  .superRefine((body, ctx) => {
    const allowed = new Set(Object.keys(meterTypeUpdateShapeKeys));
    for (const key of Object.keys(body)) {
      if ((IMMUTABLE_METER_TYPE_FIELDS as readonly string[]).includes(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'cannot be changed after creation' });
      } else if (!allowed.has(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'unknown field' });
      }
    }
    if (Object.keys(body).length === 0) {
      ctx.addIssue({ code: 'custom', path: [], message: 'must change at least one field' });
    }
  });
export type MeterTypeUpdate = z.infer<typeof meterTypeUpdateSchema>;

const meterTypeUpdateShapeKeys = {
  description: 1,
  externalRef: 1,
  category: 1,
  unit: 1,
  resetSchedule: 1,
  timezone: 1,
  activeFrom: 1,
  activeTo: 1,
  capacity: 1,
  capacityPolicy: 1,
  thresholds: 1,
  gracePeriodSeconds: 1,
} as const;

/** A meter type's settings as stored after a create or a merged update; checks every invariant. */
export const meterTypeSettingsSchema = meterTypeCreateSchema;

const MAX_CUSTOM_FIELDS_BYTES = 4096;
const MAX_JSON_DEPTH = 8;

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

/** The first number in a (shallow enough) JSON value that cannot be stored, if any. */
function unstorableNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return isStorableNumber(value) ? undefined : value;
  if (value === null || typeof value !== 'object') return undefined;
  for (const child of Object.values(value)) {
    const found = unstorableNumber(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Free-form fields a meter carries into its metered records: small, shallow JSON objects. */
export const customFieldsSchema = z
  .record(identifier(100), z.unknown(), { error: 'must be an object' })
  .refine((fields) => jsonDepth(fields, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH, {
    error: `must not be nested deeper than ${MAX_JSON_DEPTH} levels`,
    abort: true,
  })
  .refine((fields) => unstorableNumber(fields) === undefined, {
    error: `numbers must be finite and between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
    abort: true,
  })
  .refine((fields) => Buffer.byteLength(JSON.stringify(fields)) <= MAX_CUSTOM_FIELDS_BYTES, {
    error: `must be at most ${MAX_CUSTOM_FIELDS_BYTES} bytes as JSON`,
  });

/** Body of `POST /meters`: exactly one of `meterTypeId` and `meterTypeExternalRef`. */
export const meterCreateSchema = z
  .strictObject({
    meterKey: identifier(100),
    meterTypeId: z.uuid({ error: 'must be a meter type id (a UUID)' }).optional(),
    meterTypeExternalRef: identifier(100).optional(),
    userId: identifier(256),
    customFields: customFieldsSchema.default({}),
    deleteOnReset: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .superRefine((body, ctx) => {
    const given =
      Number(body.meterTypeId !== undefined) + Number(body.meterTypeExternalRef !== undefined);
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['meterTypeId'],
        message: 'give exactly one of meterTypeId and meterTypeExternalRef',
      });
    }
  });
export type MeterCreate = z.infer<typeof meterCreateSchema>;

/** Body of `PATCH /meters/{id}`: only `deleteOnReset` and `customFields` may change. */
export const meterUpdateSchema = z
  .strictObject({
    deleteOnReset: z.boolean({ error: 'must be true or false' }).optional(),
    customFields: customFieldsSchema.optional(),
  })
  .refine((body) => body.deleteOnReset !== undefined || body.customFields !== undefined, {
    error: 'must change deleteOnReset or customFields',
  });
export type MeterUpdate = z.infer<typeof meterUpdateSchema>;

/** Usage values stay below this magnitude, so every total prints as a plain JSON number. */
const MAX_USAGE_VALUE = '1e21';

/** A usage value: a finite JSON number, or a decimal string for values beyond double precision. */
export const usageValueSchema = z
  .union(
    [
      finiteNumber,
      z
        .string()
        .max(64)
        .regex(/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d{1,3})?$/),
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

const fieldPath = identifier(200).refine(
  (path) =>
    path
      .split('.')
      .every(
        (part) => part.length > 0 && !['__proto__', 'prototype', 'constructor'].includes(part),
      ),
  { error: 'must be a field name or dotted path without empty or reserved parts' },
);

const fieldValueSchema = z.union([z.string(), finiteNumber, z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null',
});

export const guidingConditionSchema = z
  .strictObject({
    field: fieldPath,
    type: z.enum(['string', 'number', 'boolean'], { error: 'must be string, number or boolean' }),
    value: z.union([z.string(), finiteNumber, z.boolean()]),
  })
  .refine((c) => typeof c.value === c.type, {
    path: ['value'],
    error: 'must have the type the condition names',
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
