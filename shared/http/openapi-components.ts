/**
 * Component schemas of the OpenAPI document: request schemas in zod's input view (defaults
 * optional), responses in its output view (always present). Shared building blocks are
 * registered in both and must agree.
 */
import { z } from 'zod';
import {
  customFieldsSchema,
  meterCreateSchema,
  meterUpdateSchema,
} from '../domain/meter-schemas.js';
import {
  aggregationSchema,
  meterTypeCreateSchema,
  meterTypeUpdateSchema,
  resetScheduleSchema,
  thresholdSchema,
} from '../domain/meter-type-schemas.js';
import { streamConfigSchema, usageRecordSchema } from '../domain/stream-schemas.js';
import { correctionBulkFilter } from './data-correction-operations.js';
import { httpIngestResponse, usageRecordBatchSchema } from './openapi-ingest-schemas.js';
import {
  dataCorrectionBulkDeleteResult,
  dataCorrectionBulkReprocessResult,
  dataCorrectionCounts,
  dataCorrectionList,
  dataCorrectionResponse,
  errorResponseSchema,
  meteredRecordList,
  meteredRecordSchema,
  meterList,
  meterResponse,
  meterTypeList,
  meterTypeResponse,
  meterTypeWithWarningsResponse,
  summaryResponse,
  userUsageResponse,
} from './openapi-schemas.js';
import {
  dryRunResponse,
  streamReplaceBody,
  streamResponse,
  streamVersionList,
  streamWithWarningsResponse,
} from './openapi-stream-schemas.js';
import { dryRunBodySchema } from './stream-operations.js';

/** A JSON value, as the document holds it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

type Meta = { id: string; description?: string };

const sharedComponents: [z.ZodType, Meta][] = [
  [
    aggregationSchema,
    {
      id: 'Aggregation',
      description:
        'cannot change after creation. `field` is required with `unique` and only allowed there, as is `maxDistinct` (set to its default when omitted).',
    },
  ],
  [
    resetScheduleSchema,
    {
      id: 'ResetSchedule',
      description:
        "Cron fields, evaluated in the meter type's time zone: `*`, `5`, lists `1,15`, ranges `1-5`, steps `*/15`, `L` (last day of the month) in `day`; weekday 0 or 7 is Sunday. A schedule that can never fire is refused.",
    },
  ],
  [
    thresholdSchema,
    {
      id: 'Threshold',
      description:
        "An absolute `value`, or a `percent` (greater than 0, at most 1000) of the meter type's capacity. Names are unique within a meter type.",
    },
  ],
  [
    customFieldsSchema,
    {
      id: 'CustomFields',
      description:
        'Free-form JSON the meter carries into its metered records: at most 4096 bytes as JSON, nested at most 8 levels, numbers within ±(2^53 − 1) (0 or at least 1e-100 in magnitude); keys of 1 to 100 characters. `__proto__`, `constructor` and `prototype` are refused as keys at any depth (as in every body).',
    },
  ],
];

const requestComponents: [z.ZodType, Meta][] = [
  [
    meterTypeCreateSchema,
    {
      id: 'MeterTypeCreate',
      description:
        'Body of POST /meter-types. `activeFrom` must be before `activeTo`; a percent threshold needs a `capacity` (greater than 0).',
    },
  ],
  [
    meterTypeUpdateSchema,
    {
      id: 'MeterTypeUpdate',
      description:
        'Body of PATCH /meter-types/{id}: at least one field; `name` and `aggregation` cannot change; `null` clears an optional field. The merged result must satisfy the rules of MeterTypeCreate.',
    },
  ],
  [
    meterCreateSchema,
    {
      id: 'MeterCreate',
      description:
        'Body of POST /meters: exactly one of `meterTypeId` and `meterTypeExternalRef`. The triple (meterKey, meter type, userId) is unique.',
    },
  ],
  [
    meterUpdateSchema,
    {
      id: 'MeterUpdate',
      description: 'Body of PATCH /meters/{id}: `deleteOnReset` and/or `customFields`.',
    },
  ],
  [
    streamConfigSchema,
    {
      id: 'StreamConfiguration',
      description:
        'A meter processor: field names, validation, enrichment, guiding rules (names unique within the stream), carry fields; a field name or dotted path has no empty part and no `__proto__`, `constructor` or `prototype` part, de-duplication, late policy. A condition needs `type` and `value` for every `op` but `exists` (which takes no `value`); `value` has the type `type` names (for `in`, an array of such values); `prefix` needs `string`, `gt`/`gte`/`lt`/`lte` need `number`.',
    },
  ],
  [
    correctionBulkFilter,
    {
      id: 'DataCorrectionBulkFilter',
      description:
        'Body of POST /corrections/reprocess and POST /corrections/delete: which entries. Every given field must match; `from`/`to` bound `correctedAt` (from inclusive, to exclusive). At least one filter, or `{ "all": true }` alone for every entry, so an empty body never means everything.',
    },
  ],
  [
    streamReplaceBody,
    {
      id: 'StreamReplace',
      description:
        "Body of PUT /streams/{name}: a whole configuration. `version`, `updatedAt` and `kinesisStream` are read-only and ignored; `name`, `meterKey` and `shardCount` must be the stream's own.",
    },
  ],
  [
    dryRunBodySchema,
    {
      id: 'StreamDryRun',
      description:
        'Body of POST /streams/{name}/dry-run: one usage record or an array of up to 100, and optionally a configuration to try instead of the deployed one.',
    },
  ],
  [
    usageRecordBatchSchema,
    {
      id: 'UsageRecordBatch',
      description:
        "Body of POST /usage-records and POST /streams/{name}/records: 1 to 500 usage records, at most 1 MiB in all. Each is put on the stream as sent, with its user id as partition key, and from there on counted like a record put with the AWS SDK (see `UsageRecord` for the default field names; the stream's own names apply).",
    },
  ],
  [
    usageRecordSchema,
    {
      id: 'UsageRecord',
      description:
        'Not an HTTP body: a usage record as producers put it on a Kinesis stream (UTF-8 JSON), with the default field names. Other fields feed guiding rules, group-by and carry fields. Without `timestamp`, the Kinesis arrival time is the usage time; records with an `eventId` are de-duplicated when the stream says so.',
    },
  ],
];

const responseComponents: [z.ZodType, Meta][] = [
  [meterTypeResponse, { id: 'MeterType' }],
  [meterTypeWithWarningsResponse, { id: 'MeterTypeWithWarnings' }],
  [meterTypeList, { id: 'MeterTypeList' }],
  [meterResponse, { id: 'Meter' }],
  [meterList, { id: 'MeterList' }],
  [summaryResponse, { id: 'Summary' }],
  [dataCorrectionResponse, { id: 'DataCorrection' }],
  [dataCorrectionList, { id: 'DataCorrectionList' }],
  [dataCorrectionCounts, { id: 'DataCorrectionCounts' }],
  [dataCorrectionBulkReprocessResult, { id: 'DataCorrectionBulkReprocessResult' }],
  [dataCorrectionBulkDeleteResult, { id: 'DataCorrectionBulkDeleteResult' }],
  [streamResponse, { id: 'Stream' }],
  [z.object({ streams: z.array(streamResponse) }), { id: 'StreamList' }],
  [streamWithWarningsResponse, { id: 'StreamWithWarnings' }],
  [streamVersionList, { id: 'StreamVersionList' }],
  [dryRunResponse, { id: 'StreamDryRunResult' }],
  [httpIngestResponse, { id: 'UsageRecordsAccepted' }],
  [errorResponseSchema, { id: 'Error' }],
  [
    meteredRecordSchema,
    {
      id: 'MeteredRecord',
      description:
        'The record sent to SQS or SNS at period end (`final`) or when a threshold is reached (`partial`). `recordId` is stable, so a consumer can drop redeliveries. The history (`/metered-records`) answers each record with exactly the JSON that was sent.',
    },
  ],
  [meteredRecordList, { id: 'MeteredRecordList' }],
  [userUsageResponse, { id: 'UserUsage' }],
];

/** A reference to a component schema. */
export const componentRef = (name: string): JsonObject => ({
  $ref: `#/components/schemas/${name}`,
});

/** Tidies what zod emits into what an OpenAPI component needs. */
function overrideFor(io: 'input' | 'output') {
  return (ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: z.core.JSONSchema.BaseSchema }) => {
    const schema = ctx.jsonSchema;
    // `format` says it; zod's long regexes would only add noise.
    if (schema.format === 'date-time' || schema.format === 'uuid' || schema.format === 'base64') {
      delete schema.pattern;
    }
    // `integer` says it; zod adds the safe-integer range to every `.int()`.
    if (schema.type === 'integer' && schema.minimum === Number.MIN_SAFE_INTEGER) {
      delete schema.minimum;
    }
    if (schema.type === 'integer' && schema.maximum === Number.MAX_SAFE_INTEGER) {
      delete schema.maximum;
    }
    // The update schema takes any key so it can name the immutable ones; its refinement
    // refuses every key it does not list.
    if (ctx.zodSchema === meterTypeUpdateSchema || ctx.zodSchema === meterUpdateSchema) {
      schema.additionalProperties = false;
      schema.minProperties = 1;
    }
    // Its refinement, in JSON Schema: exactly one of the two ways to name the meter type.
    if (ctx.zodSchema === meterCreateSchema) {
      schema.oneOf = [{ required: ['meterTypeId'] }, { required: ['meterTypeExternalRef'] }];
    }
    // A default says what a request may omit; in a response every such field is present.
    // Response objects stay closed (zod's output view): the contract test holds the API to them.
    if (io === 'output') delete schema.default;
  };
}

function generate(
  io: 'input' | 'output',
  entries: [z.ZodType, Meta][],
): Record<string, JsonObject> {
  const registry = z.registry<Meta>();
  for (const [schema, meta] of [...sharedComponents, ...entries]) registry.add(schema, meta);
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (name) => `#/components/schemas/${name}`,
    override: overrideFor(io),
  });
  const out: Record<string, JsonObject> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
    out[name] = rest;
  }
  return out;
}

/** The document's component schemas, sorted by name; shared ones must agree in both views. */
export function buildComponentSchemas(): Record<string, JsonObject> {
  const requests = generate('input', requestComponents);
  const responses = generate('output', responseComponents);
  for (const [, { id: name }] of sharedComponents) {
    if (JSON.stringify(requests[name]) !== JSON.stringify(responses[name])) {
      throw new Error(`component ${name} differs between requests and responses`);
    }
  }
  const merged = { ...requests, ...responses };
  return Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((name) => [name, merged[name] ?? {}]),
  );
}
