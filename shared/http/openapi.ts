/**
 * The OpenAPI 3.1 document of the HTTP API, built from the same zod schemas the handlers parse
 * with (bodies and query strings) plus the response schemas below. `npm run openapi` writes it
 * to `shared/http/openapi.json`, which `GET /openapi.json` serves and a test keeps current.
 */
import { z } from 'zod';
import type { MeterType } from '../domain/meter.js';
import type { MeteredRecord } from '../domain/metered-record.js';
import {
  aggregationSchema,
  aggregationTypes,
  customFieldsSchema,
  isoTimestamp,
  lateRecordPolicies,
  meterCreateSchema,
  meterTypeCreateSchema,
  meterTypeUpdateSchema,
  meterUpdateSchema,
  resetScheduleSchema,
  streamConfigSchema,
  thresholdSchema,
  usageRecordSchema,
} from '../domain/schemas.js';
import { CORRECTION_REASONS, type DataCorrection } from '../ports/data-correction-store.js';
import type { MeteringSummary, MeterView } from '../ports/metering-store.js';
import { scopesFor } from './access-levels.js';
import { API_BASE_PATH, meterListQuery, meterTypeListQuery } from './api.js';
import { pagingQuery } from './route-helpers.js';
import { ALL_ROUTE_SPECS, type RouteSpec } from './route-specs.js';
import type { StreamView } from './stream-routes.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The local stack's API, as `npm start` serves it by default. */
export const LOCAL_SERVER_URL = `http://127.0.0.1:3000${API_BASE_PATH}`;

// ---------------------------------------------------------------------------------------------
// Response schemas: what the handlers return. Compile-time checks below tie each to its type.
// ---------------------------------------------------------------------------------------------

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
  meterIds: z.array(z.string()).optional(),
  reprocessedAt: isoTimestamp.optional().describe('set once the record was put back on its stream'),
  reprocessSequenceNumber: z.string().optional(),
});

/** What the API shows of a stream: where its records go. */
export const streamResponse = z.object({
  name: z.string(),
  meterKey: z.string(),
  description: z.string().optional(),
  fields: streamConfigSchema.shape.fields,
  guidingRules: z.array(
    z.object({ name: z.string(), category: z.string(), groupBy: z.array(z.string()) }),
  ),
  carryFirst: z.array(z.string()),
  carryLast: z.array(z.string()),
  deduplication: streamConfigSchema.shape.deduplication,
  lateRecordPolicy: z.enum(lateRecordPolicies),
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
const meterTypeList = z.object({ meterTypes: z.array(meterTypeResponse), nextToken });
const meterList = z.object({ meters: z.array(meterResponse), nextToken });
const dataCorrectionList = z.object({ corrections: z.array(dataCorrectionResponse), nextToken });

/** Fails to compile when a response schema and the type the handler returns drift apart. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Proven<T extends true> = T;
export type ResponseSchemasMatchTheirTypes = [
  Proven<Same<z.output<typeof meterTypeResponse>, MeterType>>,
  Proven<Same<z.output<typeof meterResponse>, MeterView>>,
  Proven<Same<z.output<typeof dataCorrectionResponse>, DataCorrection>>,
  Proven<Same<z.output<typeof streamResponse>, StreamView>>,
  Proven<Same<z.output<typeof summaryResponse>, MeteringSummary>>,
  Proven<Same<z.output<typeof meteredRecordSchema>, MeteredRecord>>,
];

// ---------------------------------------------------------------------------------------------
// Components: request schemas in zod's input view (defaults optional), responses in its output
// view (always present). Shared building blocks are registered in both and must agree.
// ---------------------------------------------------------------------------------------------

type Meta = { id: string; description?: string };

const sharedComponents: [z.ZodType, Meta][] = [
  [aggregationSchema, { id: 'Aggregation', description: 'cannot change after creation' }],
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
        'Free-form JSON the meter carries into its metered records: at most 4096 bytes, nested at most 8 levels.',
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
  [meterTypeList, { id: 'MeterTypeList' }],
  [meterResponse, { id: 'Meter' }],
  [meterList, { id: 'MeterList' }],
  [summaryResponse, { id: 'Summary' }],
  [dataCorrectionResponse, { id: 'DataCorrection' }],
  [dataCorrectionList, { id: 'DataCorrectionList' }],
  [streamResponse, { id: 'Stream' }],
  [z.object({ streams: z.array(streamResponse) }), { id: 'StreamList' }],
  [errorResponseSchema, { id: 'Error' }],
  [
    meteredRecordSchema,
    {
      id: 'MeteredRecord',
      description:
        'Not an HTTP response: the record sent to SQS or SNS at period end (`final`) or when a threshold is reached (`partial`). `recordId` is stable, so a consumer can drop redeliveries.',
    },
  ],
];

const componentRef = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** Tidies what zod emits into what an OpenAPI component needs. */
function overrideFor(io: 'input' | 'output') {
  return (ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: z.core.JSONSchema.BaseSchema }) => {
    const schema = ctx.jsonSchema;
    // `format` says it; zod's long regexes would only add noise.
    if (schema.format === 'date-time' || schema.format === 'uuid' || schema.format === 'base64') {
      delete schema.pattern;
    }
    // `integer` says it; zod adds the safe-integer range to every `.int()`.
    if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
    if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
    // The update schema takes any key so it can name the immutable ones; its refinement
    // refuses every key it does not list.
    if (ctx.zodSchema === meterTypeUpdateSchema) {
      schema.additionalProperties = false;
      schema.minProperties = 1;
    }
    if (io === 'output') {
      // A default says what a request may omit; in a response every such field is present.
      delete schema.default;
      // Responses may gain fields: a client must ignore what it does not know.
      const def = ctx.zodSchema._zod.def;
      if (def.type === 'object' && def.catchall === undefined) {
        delete schema.additionalProperties;
      }
    }
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

function buildComponentSchemas(): Record<string, JsonObject> {
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

/** Query parameters from the strict query object a handler parses with. */
function queryParameters(query: z.ZodObject): JsonObject[] {
  const schema = z.toJSONSchema(query, { io: 'input', target: 'draft-2020-12' }) as JsonObject;
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(QUERY_NOTES[name] ? { description: QUERY_NOTES[name] } : {}),
    schema: property,
  }));
}

const QUERY_NOTES: Record<string, string> = {
  limit: 'page size, 1–100',
  nextToken: 'the `nextToken` of the previous page',
};

// The corrections handler parses `reason` and the paging fields (data-correction-routes.ts);
// its query schema is built here from the same parts.
const correctionListQuery = z.strictObject({
  reason: z.enum(CORRECTION_REASONS).optional(),
  ...pagingQuery,
});

// ---------------------------------------------------------------------------------------------
// Operations: one entry per route; the build fails when a route has none, or an entry no route.
// ---------------------------------------------------------------------------------------------

interface OperationDoc {
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  query?: z.ZodObject;
  /** Component name of the JSON body. */
  body?: string;
  /** Component name of the 200/201 body. */
  returns?: string;
  created?: boolean;
  noContent?: boolean;
  /** Error codes with what they mean for this operation. */
  errors?: Partial<Record<400 | 404 | 409, string>>;
  /** 413 and 415: the route reads a JSON body. */
  readsBody?: boolean;
  /** 503 with Retry-After: the route reads DynamoDB or the scheduler. */
  mayBeBusy?: boolean;
}

const TAGS = {
  meterTypes: 'meter types',
  meters: 'meters',
  corrections: 'data corrections',
  streams: 'streams',
  service: 'service',
};

const OPERATIONS: Record<string, OperationDoc> = {
  'POST /meter-types': {
    operationId: 'createMeterType',
    tag: TAGS.meterTypes,
    summary: 'Create a meter type',
    body: 'MeterTypeCreate',
    returns: 'MeterType',
    created: true,
    errors: {
      400: 'the body is invalid',
      409: 'a meter type with this `name` or `externalRef` exists',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  'GET /meter-types': {
    operationId: 'listMeterTypes',
    tag: TAGS.meterTypes,
    summary: 'List meter types in creation order',
    query: meterTypeListQuery,
    returns: 'MeterTypeList',
    errors: { 400: 'a query parameter is invalid' },
    mayBeBusy: true,
  },
  'GET /meter-types/{id}': {
    operationId: 'getMeterType',
    tag: TAGS.meterTypes,
    summary: 'Read a meter type',
    returns: 'MeterType',
    errors: { 404: 'no such meter type' },
    mayBeBusy: true,
  },
  'PATCH /meter-types/{id}': {
    operationId: 'updateMeterType',
    tag: TAGS.meterTypes,
    summary: 'Change a meter type',
    description:
      'Any field but `name` and `aggregation`; `null` clears an optional field. A change to `resetSchedule` or `timezone` reaches existing meters from their next period on.',
    body: 'MeterTypeUpdate',
    returns: 'MeterType',
    errors: {
      400: 'the body is invalid, or the merged meter type would be',
      404: 'no such meter type',
      409: 'the new `externalRef` is taken, or the meter type changed meanwhile',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  'DELETE /meter-types/{id}': {
    operationId: 'deleteMeterType',
    tag: TAGS.meterTypes,
    summary: 'Delete a meter type that has no meters',
    noContent: true,
    errors: { 404: 'no such meter type', 409: 'the meter type still has meters' },
    mayBeBusy: true,
  },
  'POST /meters': {
    operationId: 'createMeter',
    tag: TAGS.meters,
    summary: "Create a meter: one customer's bucket for one meter type",
    description:
      "Its first period starts now and ends at the next firing of its type's reset schedule.",
    body: 'MeterCreate',
    returns: 'Meter',
    created: true,
    errors: {
      400: 'the body is invalid',
      404: 'no meter type has this id or externalRef',
      409: 'a meter with the same meterKey, meter type and userId exists',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  'GET /meters': {
    operationId: 'listMeters',
    tag: TAGS.meters,
    summary: 'List meters in creation order',
    query: meterListQuery,
    returns: 'MeterList',
    errors: { 400: 'a query parameter is invalid' },
    mayBeBusy: true,
  },
  'GET /meters/{id}': {
    operationId: 'getMeter',
    tag: TAGS.meters,
    summary: 'Read a meter with what it inherited, its current period and usage',
    returns: 'Meter',
    errors: { 404: 'no such meter' },
    mayBeBusy: true,
  },
  'PATCH /meters/{id}': {
    operationId: 'updateMeter',
    tag: TAGS.meters,
    summary: 'Change `deleteOnReset` and/or `customFields` of a meter',
    body: 'MeterUpdate',
    returns: 'Meter',
    errors: { 400: 'the body is invalid', 404: 'no such meter' },
    readsBody: true,
    mayBeBusy: true,
  },
  'DELETE /meters/{id}': {
    operationId: 'deleteMeter',
    tag: TAGS.meters,
    summary: 'Delete a meter',
    description:
      'It takes no more usage and leaves the API at once; usage it already counted is sent downstream as a final record.',
    noContent: true,
    errors: { 404: 'no such meter' },
    mayBeBusy: true,
  },
  'GET /summary': {
    operationId: 'getSummary',
    tag: TAGS.service,
    summary: 'Numbers of meter types, categories and meters',
    returns: 'Summary',
    mayBeBusy: true,
  },
  'GET /openapi.json': {
    operationId: 'getOpenApiDocument',
    tag: TAGS.service,
    summary: 'This document',
  },
  'GET /corrections': {
    operationId: 'listDataCorrections',
    tag: TAGS.corrections,
    summary: 'List records that could not be metered, oldest first',
    query: correctionListQuery,
    returns: 'DataCorrectionList',
    errors: { 400: 'a query parameter is invalid' },
    mayBeBusy: true,
  },
  'GET /corrections/{id}': {
    operationId: 'getDataCorrection',
    tag: TAGS.corrections,
    summary: 'Read a data-correction entry',
    returns: 'DataCorrection',
    errors: { 404: 'no such entry' },
    mayBeBusy: true,
  },
  'POST /corrections/{id}/reprocess': {
    operationId: 'reprocessDataCorrection',
    tag: TAGS.corrections,
    summary: 'Put the record back on its stream, at most once',
    description:
      'Re-sends the original bytes with the same partition key, once the cause is fixed (e.g. the missing meter now exists). No body is needed; one that is sent must still be JSON and is ignored.',
    returns: 'DataCorrection',
    errors: {
      400: 'a body was sent and is not valid JSON',
      404: 'no such entry',
      409: 'the entry was already re-sent, or is being re-sent',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  'DELETE /corrections/{id}': {
    operationId: 'deleteDataCorrection',
    tag: TAGS.corrections,
    summary: 'Delete a data-correction entry',
    noContent: true,
    errors: { 404: 'no such entry' },
    mayBeBusy: true,
  },
  'GET /streams': {
    operationId: 'listStreams',
    tag: TAGS.streams,
    summary: 'The configured streams: their meter keys, fields and guiding rules',
    returns: 'StreamList',
  },
};

/** Every route the API serves: the core routes, data corrections and streams. */
export function documentedRoutes(): RouteSpec[] {
  return [...ALL_ROUTE_SPECS];
}

const jsonContent = (schema: JsonObject): JsonObject => ({
  'application/json': { schema },
});

const errorBody = (description: string): JsonObject => ({
  description,
  content: jsonContent(componentRef('Error')),
});

/**
 * IAM, or a JWT with any one of the scopes of the route's level (default names): one security
 * requirement per scope, because the scopes listed in one requirement would all be needed.
 */
const securityOf = (route: RouteSpec): Json[] => [
  { awsSigV4: [] },
  ...scopesFor(route.access).map((scope) => ({ jwt: [scope] })),
];

function operationObject(route: RouteSpec, doc: OperationDoc): JsonObject {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name ?? '',
    in: 'path',
    required: true,
    schema: { type: 'string', minLength: 1 },
  }));
  const responses: JsonObject = {};
  if (doc.created) {
    responses['201'] = {
      description: 'created',
      headers: { Location: { $ref: '#/components/headers/Location' } },
      content: jsonContent(componentRef(doc.returns ?? '')),
    };
  } else if (doc.noContent) {
    responses['204'] = { description: 'deleted' };
  } else {
    responses['200'] = {
      description: 'OK',
      content: jsonContent(doc.returns ? componentRef(doc.returns) : { type: 'object' }),
    };
  }
  const errors: Record<string, string> = { ...doc.errors };
  if (doc.readsBody) {
    errors['400'] ??= 'the body is not valid JSON';
    errors['413'] = 'the body is larger than 64 KiB';
    errors['415'] = 'the body is not sent as `content-type: application/json`';
  }
  for (const code of Object.keys(errors).sort()) {
    responses[code] = errorBody(errors[code] ?? '');
  }
  if (doc.mayBeBusy) responses['503'] = { $ref: '#/components/responses/ServiceUnavailable' };
  return {
    operationId: doc.operationId,
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(pathParameters.length || doc.query
      ? { parameters: [...pathParameters, ...(doc.query ? queryParameters(doc.query) : [])] }
      : {}),
    ...(doc.body
      ? { requestBody: { required: true, content: jsonContent(componentRef(doc.body)) } }
      : {}),
    responses,
    security: securityOf(route),
  };
}

function buildPaths(): JsonObject {
  const routes = documentedRoutes();
  const routeKeys = new Set(routes.map((route) => `${route.method} ${route.path}`));
  const undocumented = [...routeKeys].filter((key) => !OPERATIONS[key]);
  const stale = Object.keys(OPERATIONS).filter((key) => !routeKeys.has(key));
  if (undocumented.length || stale.length) {
    throw new Error(
      `OpenAPI operations out of step with the routes: undocumented ${undocumented.join(', ') || 'none'}; no such route ${stale.join(', ') || 'none'}`,
    );
  }
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const doc = OPERATIONS[`${route.method} ${route.path}`];
    if (!doc) continue;
    paths[route.path] ??= {};
    (paths[route.path] as JsonObject)[route.method.toLowerCase()] = operationObject(route, doc);
  }
  return paths;
}

/** Builds the OpenAPI 3.1 document of the API; deterministic, so it can be committed. */
export function buildOpenApiDocument(): JsonObject {
  return {
    openapi: '3.1.1',
    info: {
      title: 'Usage metering API',
      version: '1',
      summary: 'Meter types, meters, data corrections and streams of the usage-metering service.',
      description: [
        "Meter types describe what is measured; meters are one customer's bucket for one meter type. Usage arrives on Kinesis (see the `UsageRecord` schema); at every period end a metered record (`MeteredRecord`) goes to SQS or SNS.",
        '',
        'Bodies are JSON, at most 64 KiB. Errors are `{ "message", "issues": [{ "field", "message" }] }`. Every route that reads DynamoDB or the scheduler may answer 503 with `Retry-After`. A deployment throttles all callers together (100 requests per second, burst 200 by default) and answers 429 above that: retry with backoff. Responses may gain fields; clients should ignore fields they do not know.',
        '',
        'Authorization: AWS IAM (Signature Version 4, service `execute-api`) by default; a deployment may use a JWT authorizer (issuer and audience, e.g. OAuth2 client credentials) instead. Every operation has an access level: `read` (GET), `write` (create and change) or `admin` (delete, re-send). With JWT, an operation lists the scopes that may call it, any one of which suffices; a scope of a higher level includes the lower ones. The local stack checks neither.',
      ].join('\n'),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      { url: LOCAL_SERVER_URL, description: 'the local stack (`npm start`)' },
      {
        url: `https://{apiId}.execute-api.{region}.amazonaws.com${API_BASE_PATH}`,
        description: 'a deployment on API Gateway (HTTP API)',
        variables: {
          apiId: { default: 'abcdef1234', description: 'the HTTP API id from the stack outputs' },
          region: { default: 'us-east-1' },
        },
      },
    ],
    security: [{ awsSigV4: [] }],
    tags: Object.values(TAGS).map((name) => ({ name })),
    paths: buildPaths(),
    components: {
      schemas: buildComponentSchemas(),
      headers: {
        Location: {
          description: 'path of the created resource, under the base path',
          schema: { type: 'string' },
        },
        RetryAfter: {
          description: 'seconds to wait before retrying',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      responses: {
        ServiceUnavailable: {
          description: 'DynamoDB or the scheduler is throttled or unavailable; retry after a while',
          headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
          content: jsonContent(componentRef('Error')),
        },
      },
      securitySchemes: {
        awsSigV4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description:
            'The default: AWS IAM. Sign requests with Signature Version 4 for the service `execute-api`; the caller needs `execute-api:Invoke` on the route.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        jwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The alternative, for a deployment with a JWT authorizer (issuer and audience, e.g. OAuth2 client credentials): a bearer token from its issuer; such a deployment requires this scheme instead of awsSigV4. The token needs one of the scopes an operation lists: `usage-metering/read`, `usage-metering/write` or `usage-metering/admin` by default; a deployment may rename them.',
        },
      },
    },
  };
}

/** The document as committed: two-space JSON with a trailing newline. */
export function renderOpenApiDocument(document: JsonObject = buildOpenApiDocument()): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
