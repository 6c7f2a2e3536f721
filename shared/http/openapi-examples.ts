/**
 * The OpenAPI document's examples: one per request body, response body and error status. A test
 * validates each against its own schema, so an example cannot drift from what it illustrates.
 */
import { streamConfigSchema } from '../domain/stream-schemas.js';
import type { Json, JsonObject } from './openapi-components.js';

const TYPE_ID = '3f1c2a9e-5b7d-4e8f-9a10-2b3c4d5e6f70';
const METER_ID = '8d2e4f60-1a3b-4c5d-8e9f-0a1b2c3d4e5f';
const RECORD_ID = 'c0ffee00-1234-4abc-8def-0123456789ab';
const CREATED = '2025-01-10T09:30:00.000Z';

const meterTypeCreate = {
  name: 'api-calls',
  externalRef: 'sku-api-calls',
  category: 'DEFAULT',
  unit: 'calls',
  aggregation: { type: 'sum' },
  resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
  timezone: 'Europe/Stockholm',
  capacity: 10000,
  thresholds: [{ name: 'eighty-percent', percent: 80 }],
};

const meterType = {
  id: TYPE_ID,
  ...meterTypeCreate,
  capacityPolicy: 'notify',
  gracePeriodSeconds: 0,
  numberOfMeters: 1,
  createdAt: CREATED,
  updatedAt: CREATED,
};

/** A unique count: the distinct devices a user had in a month (`maxDistinct` filled in by default). */
const uniqueMeterType = {
  id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
  name: 'monthly-active-devices',
  category: 'DEVICES',
  unit: 'devices',
  aggregation: { type: 'unique', field: 'deviceId', maxDistinct: 100000 },
  resetSchedule: meterTypeCreate.resetSchedule,
  timezone: 'Etc/UTC',
  capacityPolicy: 'notify',
  thresholds: [],
  gracePeriodSeconds: 3600,
  numberOfMeters: 1,
  createdAt: CREATED,
  updatedAt: CREATED,
};

const settings = {
  name: meterType.name,
  category: meterType.category,
  unit: meterType.unit,
  aggregation: meterType.aggregation,
  resetSchedule: meterType.resetSchedule,
  timezone: meterType.timezone,
  capacity: meterType.capacity,
  capacityPolicy: meterType.capacityPolicy,
  thresholds: meterType.thresholds,
  gracePeriodSeconds: meterType.gracePeriodSeconds,
};

const meter = {
  id: METER_ID,
  meterKey: 'usage-events',
  meterTypeId: TYPE_ID,
  userId: 'alice',
  customFields: { plan: 'gold' },
  deleteOnReset: false,
  ...settings,
  meterTypeName: meterType.name,
  periodStart: '2025-01-10T09:31:00.000Z',
  periodEnd: '2025-01-31T23:00:00.000Z',
  value: 7.5,
  groups: [],
  thresholdsReached: [],
  meterMetaData: {
    recordCount: 2,
    firstUsageAt: '2025-01-10T09:32:00.000Z',
    lastUsageAt: '2025-01-10T09:33:00.000Z',
    lateRecords: 0,
  },
  createdAt: '2025-01-10T09:31:00.000Z',
  updatedAt: '2025-01-10T09:31:00.000Z',
};

const meteredRecord = {
  recordId: RECORD_ID,
  recordType: 'final',
  id: METER_ID,
  userId: 'alice',
  meterTypeId: TYPE_ID,
  meterTypeName: meterType.name,
  timezone: meterType.timezone,
  meterKey: 'usage-events',
  value: 7.5,
  unit: 'calls',
  createdAt: meter.createdAt,
  updatedAt: '2025-01-31T23:00:00.000Z',
  periodStart: meter.periodStart,
  periodEnd: meter.periodEnd,
  groups: [],
  carryFirst: {},
  carryLast: {},
  deleteOnReset: false,
  customFields: { plan: 'gold' },
  meterMetaData: { ...meter.meterMetaData, aggregation: 'sum' },
};

const dataCorrection = {
  id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
  reason: 'NO_METER',
  message: 'user bob has no meter in category DEFAULT under meter key usage-events',
  streamName: 'usage-events',
  shardId: 'shardId-000000000000',
  sequenceNumber: '49659823404425372233935491935375335286658722462051778562',
  partitionKey: 'bob',
  data: Buffer.from('{"userId":"bob","value":1}').toString('base64'),
  receivedAt: '2025-01-10T09:34:00.000Z',
  correctedAt: '2025-01-10T09:34:01.000Z',
  userId: 'bob',
};

const usageRecord = {
  userId: 'alice',
  value: 3,
  timestamp: '2025-01-10T09:32:00Z',
  eventId: 'call-1',
  service: 'voice',
  region: 'eu',
};

const streamConfiguration = streamConfigSchema.parse({
  name: 'usage-events',
  meterKey: 'usage-events',
  guidingRules: [{ name: 'everything', category: 'DEFAULT' }],
}) as unknown as JsonObject;

const stream = {
  ...streamConfiguration,
  version: 3,
  updatedAt: CREATED,
  kinesisStream: 'UsageMetering-UsageEventsStream1A2B3C4D-abcdEFGH1234',
};

/** Example of each request component. */
export const REQUEST_EXAMPLES: Record<string, Json> = {
  MeterTypeCreate: meterTypeCreate,
  MeterTypeUpdate: { description: 'API calls, all products', capacity: null, thresholds: null },
  MeterCreate: { meterKey: 'usage-events', meterTypeExternalRef: 'sku-api-calls', userId: 'alice' },
  MeterUpdate: { customFields: { plan: 'platinum' }, deleteOnReset: true },
  StreamDryRun: { records: [usageRecord, { userId: 'bob', value: 1 }] },
  DataCorrectionBulkFilter: { reason: 'NO_METER', userId: 'alice', from: CREATED },
  UsageRecordBatch: [
    { userId: 'alice', value: 3, timestamp: '2025-01-10T09:32:00Z', eventId: 'call-1' },
    { userId: 'bob', value: '0.25', eventId: 'call-2' },
  ],
};

/** Example of each response component. */
export const RESPONSE_EXAMPLES: Record<string, Json> = {
  MeterType: meterType,
  MeterTypeWithWarnings: meterType,
  MeterTypeList: { meterTypes: [meterType, uniqueMeterType], nextToken: 'eyJwayI6Ik1UIzEifQ' },
  Meter: meter,
  MeterList: { meters: [meter] },
  Summary: { meterTypes: 1, categories: 1, meters: 1 },
  DataCorrection: dataCorrection,
  DataCorrectionList: { corrections: [dataCorrection] },
  DataCorrectionCounts: {
    counts: [
      { reason: 'NO_METER', count: 3 },
      { reason: 'INVALID_RECORD', count: 0 },
    ],
  },
  DataCorrectionBulkReprocessResult: {
    reprocessed: 12,
    failed: [
      {
        id: dataCorrection.id,
        code: 'NOT_REPROCESSABLE',
        message: `entry ${dataCorrection.id} can never be metered as it is (the record is not valid JSON)`,
      },
    ],
    remaining: false,
  },
  DataCorrectionBulkDeleteResult: { deleted: 100, remaining: true },
  UsageRecordsAccepted: {
    stream: 'usage-events',
    accepted: 1,
    rejected: 1,
    results: [
      {
        index: 0,
        status: 'accepted',
        shardId: 'shardId-000000000000',
        sequenceNumber: '49655000000000000000000000000000000000000000000000000002',
      },
      {
        index: 1,
        status: 'rejected',
        reason: 'THROTTLED',
        message: 'the stream is busy (ProvisionedThroughputExceededException); send it again',
        retryable: true,
      },
    ],
  },
  Stream: stream,
  StreamList: { streams: [stream] },
  StreamWithWarnings: {
    ...stream,
    warnings: [
      {
        code: 'CATEGORY_WITHOUT_METER_TYPE',
        message: "rule 'everything' routes to category DEFAULT, which no meter type has",
      },
    ],
  },
  StreamVersionList: {
    versions: [{ version: 3, updatedAt: CREATED, configuration: streamConfiguration }],
    nextToken: 'eyJwayI6IlNUUkVBTSN1c2FnZS1ldmVudHMifQ',
  },
  StreamDryRunResult: {
    stream: 'usage-events',
    configuration: 'deployed',
    results: [
      {
        index: 0,
        outcome: 'metered',
        record: {
          userId: 'alice',
          value: '3',
          usageTime: '2025-01-10T09:32:00.000Z',
          eventId: 'call-1',
          fields: { service: 'voice', region: 'eu' },
        },
        rules: [{ name: 'everything', category: 'DEFAULT', matches: true, hasMeter: true }],
        rule: 'everything',
        category: 'DEFAULT',
        meters: [
          {
            id: METER_ID,
            meterTypeId: TYPE_ID,
            meterTypeName: meterType.name,
            category: 'DEFAULT',
            placement: 'current',
            periodStart: meter.periodStart,
            periodEnd: meter.periodEnd,
          },
        ],
      },
    ],
  },
  MeteredRecord: meteredRecord,
  MeteredRecordList: { meteredRecords: [meteredRecord] },
  UserUsage: { userId: 'alice', meters: [{ ...meter, lastFinalRecord: null }] },
};

/** Example error bodies by status. */
export const ERROR_EXAMPLES: Record<string, JsonObject> = {
  400: {
    message: 'unit: is required; thresholds.0.percent: must be greater than 0 and at most 1000',
    issues: [
      { field: 'unit', message: 'is required' },
      { field: 'thresholds.0.percent', message: 'must be greater than 0 and at most 1000' },
    ],
  },
  '400-query': {
    message: 'limit: must be a whole number from 1 to 100, in decimal digits',
    issues: [
      { field: 'limit', message: 'must be a whole number from 1 to 100, in decimal digits' },
    ],
  },
  404: { message: `meter ${METER_ID} not found` },
  405: { message: 'PUT is not allowed on /usage-metering/v1/meters' },
  409: {
    message: "a meter type named 'api-calls' already exists",
    issues: [{ field: 'name', message: "a meter type named 'api-calls' already exists" }],
  },
  413: { message: 'the body must be at most 65536 bytes' },
  412: { message: 'the stream has changed since version 3; read it again and retry' },
  422: {
    message: 'entry usage-events:… can never be metered as it is (the record is not valid JSON)',
    code: 'NOT_REPROCESSABLE',
  },
  415: { message: 'the body must be JSON, sent with content-type: application/json' },
  500: { message: 'internal error' },
  503: { message: 'the service is busy; retry shortly' },
};

/** The CSV and NDJSON forms of a page of metered records. */
export const EXPORT_EXAMPLES = {
  csv: 'recordId,recordType,id,userId,…\nc0ffee00-1234-4abc-8def-0123456789ab,final,8d2e4f60-1a3b-4c5d-8e9f-0a1b2c3d4e5f,alice,…\n',
  ndjson: `${JSON.stringify(meteredRecord)}\n`,
};
