/**
 * zod schemas of meter types: the bodies of `POST` and `PATCH /meter-types`, and the settings a
 * stored meter type must satisfy. Limits and defaults come from DOMAIN.md.
 */
import { z } from 'zod';
import { isValidTimeZone } from './schedule.js';
import { validateResetSchedule } from './schedule-parser.js';
import { fieldPath, identifier, isoTimestamp, storableNumber, text } from './schema-primitives.js';

export const aggregationTypes = [
  'sum',
  'increment',
  'min',
  'max',
  'last',
  'average',
  'unique',
] as const;

/** Distinct values a `unique` meter counts in one period unless its type says otherwise. */
export const DEFAULT_MAX_DISTINCT = 100_000;
/** The most distinct values a `unique` meter type may allow per period. */
export const MAX_MAX_DISTINCT = 1_000_000;

export const aggregationSchema = z
  .strictObject({
    type: z.enum(aggregationTypes, {
      error: `must be one of ${aggregationTypes.join(', ')}`,
    }),
    field: fieldPath
      .optional()
      .describe(
        '`unique` only, and required there: the record field (name or dotted path) whose distinct values are counted',
      ),
    maxDistinct: z
      .number({ error: 'must be a number' })
      .int({ error: 'must be a whole number' })
      .min(1, { error: 'must be at least 1' })
      .max(MAX_MAX_DISTINCT, { error: `must be at most ${MAX_MAX_DISTINCT}` })
      .optional()
      .describe(
        `\`unique\` only: the most distinct values counted in one period of a meter (default ${DEFAULT_MAX_DISTINCT}); a record bringing a value beyond it goes to data correction with UNIQUE_LIMIT_EXCEEDED`,
      ),
  })
  .superRefine((aggregation, ctx) => {
    const unique = aggregation.type === 'unique';
    if (unique && aggregation.field === undefined) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: 'is required for unique' });
    }
    for (const key of ['field', 'maxDistinct'] as const) {
      if (!unique && aggregation[key] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'is only for unique' });
      }
    }
  });
export type Aggregation = z.infer<typeof aggregationSchema>;

/**
 * One cron field. `number` is the document's pattern of a value in the field's range (leading
 * zeros allowed); the domain parser checks the rest (a range's order, a step's size).
 */
function cronField(range: string, number: string, last = false) {
  const item = `(?:\\*|${number}(?:-${number})?)(?:/0{0,7}[1-9][0-9]?)?${last ? '|L' : ''}`;
  return z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(100, { error: 'must be at most 100 characters' })
    .meta({
      pattern: `^(?:${item})(?:,(?:${item}))*$`,
      description: `${range}: \`*\`, a value, a range \`a-b\` (not reversed), a step \`/n\` (1 to the field's largest value), or a comma-separated list of them${last ? '; `L` is the last day of the month' : ''}`,
    });
}

/** The cron-like reset schedule; the grammar and "can it ever fire" are checked by the domain. */
export const resetScheduleSchema = z
  .strictObject({
    // At most 9 digits, leading zeros included, as the parser reads them.
    minute: cronField('0-59', '(?:0{0,8}[0-9]|0{0,7}[1-5][0-9])'),
    hour: cronField('0-23', '(?:0{0,8}[0-9]|0{0,7}(?:1[0-9]|2[0-3]))'),
    day: cronField('1-31', '(?:0{0,8}[1-9]|0{0,7}(?:[12][0-9]|3[01]))', true),
    month: cronField('1-12', '(?:0{0,8}[1-9]|0{0,7}1[0-2])'),
    weekday: cronField('0-7 (0 and 7 are Sunday)', '0{0,8}[0-7]'),
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
  .refine(isValidTimeZone, { error: 'must be an IANA time zone name, e.g. Europe/Stockholm' })
  .meta({
    pattern: '^[A-Za-z][A-Za-z0-9_+\\-/]*$',
    description:
      'An IANA time zone name the server knows (its ICU data), e.g. `Europe/Stockholm`, `America/New_York`, `Etc/UTC`; case as in the IANA database. Offsets such as `UTC+1` are refused: use `Etc/GMT-1` (note the inverted sign).',
    examples: ['Europe/Stockholm', 'Etc/UTC'],
  });

export const thresholdSchema = z.union(
  [
    z.strictObject({ name: identifier(80), value: storableNumber }),
    z.strictObject({
      name: identifier(80),
      percent: storableNumber
        .refine((p) => p > 0 && p <= 1000, { error: 'must be greater than 0 and at most 1000' })
        .meta({ exclusiveMinimum: 0, minimum: undefined, maximum: 1000 }),
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
  capacity: storableNumber
    .refine((c) => c > 0, { error: 'must be greater than 0' })
    .meta({ exclusiveMinimum: 0, minimum: undefined })
    .optional(),
  capacityPolicy: z
    .enum(capacityPolicies, { error: `must be one of ${capacityPolicies.join(', ')}` })
    .default('notify')
    .describe(
      'what happens past `capacity`: `notify` counts on, `reject` sends records to data correction; an average or a unique count cannot refuse records by capacity (`reject` with `average` or `unique` is 400; a unique count has `maxDistinct`)',
    ),
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
  aggregation?: { type: string } | undefined;
  capacityPolicy?: string | undefined;
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
  if (value.aggregation?.type === 'average' && value.capacityPolicy === 'reject') {
    ctx.addIssue({
      code: 'custom',
      path: ['capacityPolicy'],
      message:
        'an average cannot refuse records by capacity (the next record may lower it); use notify',
    });
  }
  if (value.aggregation?.type === 'unique' && value.capacityPolicy === 'reject') {
    ctx.addIssue({
      code: 'custom',
      path: ['capacityPolicy'],
      message:
        'a unique count cannot refuse records by capacity; use notify, and aggregation.maxDistinct to bound the count',
    });
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
 * `null` clears any optional field (one with a default goes back to it; `unit` and
 * `resetSchedule` are required and cannot be cleared). Cross-field rules are checked on the
 * merged result.
 */
export const meterTypeUpdateSchema = z
  .object({
    description: text(200).nullable().optional(),
    externalRef: identifier(100).nullable().optional(),
    // `null` puts a defaulted field back to its default (the merge drops it, the create schema
    // fills it in again).
    category: identifier(80).nullable().optional(),
    unit: identifier(40).optional(),
    resetSchedule: resetScheduleSchema.optional(),
    timezone: timezoneSchema.nullable().optional(),
    activeFrom: isoTimestamp.nullable().optional(),
    activeTo: isoTimestamp.nullable().optional(),
    capacity: meterTypeFields.capacity.unwrap().nullable().optional(),
    capacityPolicy: z
      .enum(capacityPolicies, { error: `must be one of ${capacityPolicies.join(', ')}` })
      .nullable()
      .optional(),
    thresholds: z
      .array(thresholdSchema, { error: 'must be an array' })
      .max(10, { error: 'must have at most 10 thresholds' })
      .nullable()
      .optional(),
    gracePeriodSeconds: meterTypeFields.gracePeriodSeconds.unwrap().nullable().optional(),
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
