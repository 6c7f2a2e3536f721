/**
 * Response schemas of the OpenAPI document: what the handlers return, each tied at compile time
 * to the type the handler returns, so the document cannot drift from the code.
 */
import { z } from 'zod';
import type { MeterTypeWithWarnings } from '../application/meter-types.js';
import type { ErrorBody } from '../domain/errors.js';
import type { MeterType } from '../domain/meter.js';
import { customFieldsSchema } from '../domain/meter-schemas.js';
import { aggregationTypes, meterTypeCreateSchema } from '../domain/meter-type-schemas.js';
import type { MeterView } from '../domain/meter-view.js';
import type { MeteredRecord } from '../domain/metered-record.js';
import { isoTimestamp } from '../domain/schema-primitives.js';
import { CORRECTION_REASONS, type DataCorrection } from '../ports/data-correction-store.js';
import type { MeteringSummary } from '../ports/metering-store.js';

const id = z.uuid();
const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const settings = meterTypeCreateSchema.shape;

/** A meter type as the API returns it. */
export const meterTypeResponse = z.object({
  id,
  ...settings,
  numberOfMeters: z.number().int().min(0),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});

/** A remark on a request that succeeded but will likely not do what the caller meant. */
export const warningSchema = z.object({
  code: z.string().describe('stable, e.g. UNROUTED_CATEGORY'),
  message: z.string(),
});

/** A meter type as a create or update returns it: with `warnings`, left out when there are none. */
export const meterTypeWithWarningsResponse = meterTypeResponse.extend({
  warnings: z
    .array(warningSchema)
    .optional()
    .describe('e.g. that no guiding rule of any stream routes to its category'),
});

/** A meter as the API returns it: its definition, what it inherited from its type, its usage. */
export const meterResponse = z.object({
  id,
  meterKey: z.string(),
  meterTypeId: id,
  userId: z.string(),
  customFields: customFieldsSchema,
  deleteOnReset: z.boolean(),
  name: settings.name.describe('the name of the meter type (also in meterTypeName)'),
  meterTypeName: z.string(),
  category: settings.category,
  unit: settings.unit,
  aggregation: settings.aggregation,
  resetSchedule: settings.resetSchedule,
  timezone: settings.timezone,
  activeFrom: settings.activeFrom,
  activeTo: settings.activeTo,
  capacity: settings.capacity,
  capacityPolicy: settings.capacityPolicy,
  thresholds: settings.thresholds,
  gracePeriodSeconds: settings.gracePeriodSeconds,
  periodStart: isoTimestamp.describe('start of the current period (inclusive)'),
  periodEnd: isoTimestamp.describe('end of the current period (exclusive)'),
  value: z.number().nullable().describe('usage of the current period; null before any usage'),
  groups: z
    .array(
      z.object({
        fields: z.record(z.string(), z.unknown()),
        value: z.number().nullable(),
        count: z.number().int(),
      }),
    )
    .describe("the current period's usage by the guiding rule's group-by fields"),
  thresholdsReached: z.array(z.string()).describe('thresholds that fired in the current period'),
  meterMetaData: z.object({
    recordCount: z.number().int(),
    firstUsageAt: isoTimestamp.nullable(),
    lastUsageAt: isoTimestamp.nullable(),
    lateRecords: z.number().int(),
  }),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});

/** A record that could not be metered, kept for inspection and re-sending. */
export const dataCorrectionResponse = z.object({
  id: z.string(),
  reason: z.enum(CORRECTION_REASONS),
  message: z.string().describe('what is wrong, naming the field where there is one'),
  streamName: z.string(),
  shardId: z.string(),
  sequenceNumber: z.string(),
  partitionKey: z.string(),
  data: z.base64().describe('the original record bytes'),
  receivedAt: isoTimestamp.describe('when Kinesis received the record'),
  correctedAt: isoTimestamp.describe('when the record was put into data correction'),
  userId: z.string().optional(),
  streamVersion: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("the version of the stream's meter processor that routed the record"),
  meterIds: z.array(z.string()).optional(),
  reprocessedAt: isoTimestamp.optional().describe('set once the record was put back on its stream'),
  reprocessSequenceNumber: z.string().optional(),
});

/** `GET /summary`. */
export const summaryResponse = z.object({
  meterTypes: z.number().int().min(0),
  categories: z.number().int().min(0),
  meters: z.number().int().min(0),
});

/** Every error body; `issues` name the fields at fault (400), `field` the duplicate (409). */
export const errorResponseSchema = z.object({
  message: z.string(),
  issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  field: z.string().optional(),
});

/** The record sent to SQS/SNS (the file locally): not an HTTP response, documented alongside. */
export const meteredRecordSchema = z.object({
  recordId: z.uuid(),
  recordType: z.enum(['final', 'partial']),
  threshold: z.string().optional().describe('partial records only: the threshold that fired'),
  id: id.describe("the meter's id"),
  userId: z.string(),
  meterTypeId: id,
  meterTypeName: z.string(),
  timezone: z.string(),
  meterKey: z.string(),
  value: z.number(),
  unit: z.string(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
  periodStart: isoTimestamp,
  periodEnd: isoTimestamp,
  groups: z.array(
    z.object({
      fields: z.record(z.string(), fieldValue),
      value: z.number(),
      count: z.number().int(),
    }),
  ),
  carryFirst: z.record(z.string(), fieldValue),
  carryLast: z.record(z.string(), fieldValue),
  deleteOnReset: z.boolean(),
  customFields: customFieldsSchema,
  meterMetaData: z.object({
    recordCount: z.number().int(),
    firstUsageAt: isoTimestamp.nullable(),
    lastUsageAt: isoTimestamp.nullable(),
    lateRecords: z.number().int(),
    aggregation: z.enum(aggregationTypes),
  }),
});

const nextToken = z
  .string()
  .optional()
  .describe('absent on the last page; pass it back for the next');
export const meterTypeList = z.object({ meterTypes: z.array(meterTypeResponse), nextToken });
export const meterList = z.object({ meters: z.array(meterResponse), nextToken });
export const dataCorrectionList = z.object({
  corrections: z.array(dataCorrectionResponse),
  nextToken,
});

export const meteredRecordList = z.object({
  meteredRecords: z.array(meteredRecordSchema),
  nextToken,
});

export const userUsageResponse = z.object({
  userId: z.string(),
  meters: z.array(meterResponse.extend({ lastFinalRecord: meteredRecordSchema.nullable() })),
});

/** Fails to compile when a response schema and the type the handler returns drift apart. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Proven<T extends true> = T;
export type ResponseSchemasMatchTheirTypes = [
  Proven<Same<z.output<typeof meterTypeResponse>, MeterType>>,
  Proven<Same<z.output<typeof meterTypeWithWarningsResponse>, MeterTypeWithWarnings>>,
  Proven<Same<z.output<typeof meterResponse>, MeterView>>,
  Proven<Same<z.output<typeof dataCorrectionResponse>, DataCorrection>>,
  Proven<Same<z.output<typeof summaryResponse>, MeteringSummary>>,
  Proven<Same<z.output<typeof meteredRecordSchema>, MeteredRecord>>,
  Proven<Same<z.output<typeof errorResponseSchema>, ErrorBody>>,
];
