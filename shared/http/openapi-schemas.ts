/**
 * Response schemas of the OpenAPI document: what the handlers return, each tied at compile time
 * to the type the handler returns, so the document cannot drift from the code.
 */
import { z } from 'zod';
import type { BulkDeleteResult, BulkReprocessResult } from '../application/data-correction-bulk.js';
import type { MeterTypeWithWarnings } from '../application/meter-types.js';
import type { ErrorBody } from '../domain/errors.js';
import type { MeterType } from '../domain/meter.js';
import { customFieldsSchema } from '../domain/meter-schemas.js';
import { aggregationTypes, meterTypeCreateSchema } from '../domain/meter-type-schemas.js';
import type { MeterView } from '../domain/meter-view.js';
import type { MeteredRecord } from '../domain/metered-record.js';
import { isoTimestamp } from '../domain/schema-primitives.js';
import {
  CORRECTION_REASONS,
  type DataCorrection,
  type OpenCorrectionCount,
} from '../ports/data-correction-store.js';
import type { MeteringSummary } from '../ports/metering-store.js';

const id = z.uuid();
const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const settings = meterTypeCreateSchema.shape;

/** A canonical decimal: no exponent, no leading `+`, no redundant zeros. */
const CANONICAL_DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/;

/** A usage value on the way out (`DecimalOutput`): exact, never rounded. */
const exactValue = z
  .union([z.number(), z.string().regex(CANONICAL_DECIMAL)])
  .describe(
    'exact: a JSON number when that number prints back as the same decimal, otherwise the exact canonical decimal string (e.g. "12345678901234567893.123456790")',
  );

/** A meter type as the API returns it. */

/** `average` only: what its mean is made of. */
const averageParts = z
  .object({
    sum: z.string().describe('exact decimal: the sum of the values'),
    count: z.number().int().min(0).describe('how many values'),
  })
  .optional()
  .describe(
    '`average` only: the exact sum and count; `value` is their mean (12 decimal places, half to even)',
  );

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
  periodStart: isoTimestamp.describe(
    "start of the current period (inclusive); before the type's `activeFrom`, `activeFrom` itself (the meter opens no period before it)",
  ),
  periodEnd: isoTimestamp.describe('end of the current period (exclusive)'),
  value: exactValue
    .nullable()
    .describe(
      'usage of the current period (the mean for `average`); null before any usage. A JSON number when that number prints back as the same decimal, otherwise the exact canonical decimal string',
    ),
  average: averageParts,
  groups: z
    .array(
      z.object({
        fields: z.record(z.string(), z.unknown()),
        value: exactValue.nullable(),
        average: averageParts,
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

/** Every error body; `issues` name the fields at fault (400) or the taken field (409). */
export const errorResponseSchema = z.object({
  message: z.string(),
  issues: z
    .array(
      z.object({
        field: z
          .string()
          .describe('a dotted path, e.g. `thresholds.0.percent`; `(body)` for the whole body'),
        message: z.string(),
      }),
    )
    .optional()
    .describe('400: every field at fault; 409: the field whose value is taken'),
  code: z
    .string()
    .optional()
    .describe('a stable code where the status alone does not say it, e.g. 422 NOT_REPROCESSABLE'),
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
  value: exactValue.describe('the mean for `average`'),
  average: averageParts,
  unit: z.string(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
  periodStart: isoTimestamp,
  periodEnd: isoTimestamp,
  groups: z.array(
    z.object({
      fields: z.record(z.string(), fieldValue),
      value: exactValue,
      average: averageParts,
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
  .regex(/^[A-Za-z0-9_-]{1,4096}$/)
  .optional()
  .describe('absent on the last page; pass it back for the next');
export const meterTypeList = z.object({ meterTypes: z.array(meterTypeResponse), nextToken });
export const meterList = z.object({ meters: z.array(meterResponse), nextToken });
export const dataCorrectionList = z.object({
  corrections: z.array(dataCorrectionResponse),
  nextToken,
});

export const dataCorrectionCounts = z.object({
  counts: z
    .array(z.object({ reason: z.enum(CORRECTION_REASONS), count: z.number().int() }))
    .describe('every reason, with the number of its entries not yet re-sent (0 when none)'),
});

export const dataCorrectionBulkReprocessResult = z.object({
  reprocessed: z.number().int().describe('entries put back on their stream by this call'),
  failed: z
    .array(
      z.object({
        id: z.string(),
        code: z
          .string()
          .describe(
            '`NOT_REPROCESSABLE` (the record can never be metered as it is, or its stream is gone: fix the producer and delete the entry), `DATA_TRUNCATED` (cannot be re-sent), `UNAVAILABLE` (throttled: call again later), `NOT_FOUND` (deleted meanwhile), `REJECTED`, `INTERNAL`',
          ),
        message: z.string(),
      }),
    )
    .describe('entries this call could not re-send; they stay open'),
  remaining: z
    .boolean()
    .describe(
      'true: more entries may match; call again (stop when a call re-sends nothing, e.g. all failed)',
    ),
});

export const dataCorrectionBulkDeleteResult = z.object({
  deleted: z.number().int().describe('entries this call deleted'),
  remaining: z.boolean().describe('true: more entries match; call again'),
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
  Proven<Same<z.output<typeof dataCorrectionCounts>['counts'][number], OpenCorrectionCount>>,
  Proven<Same<z.output<typeof dataCorrectionBulkReprocessResult>, BulkReprocessResult>>,
  Proven<Same<z.output<typeof dataCorrectionBulkDeleteResult>, BulkDeleteResult>>,
  Proven<Same<z.output<typeof meteredRecordSchema>, MeteredRecord>>,
  Proven<Same<z.output<typeof errorResponseSchema>, ErrorBody>>,
];
