/**
 * The API's dependencies: meter types, meters, the summary and data correction in the table,
 * the period-end schedules, the streams to re-send corrected records to.
 */
import { randomUUID } from 'node:crypto';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDbDataCorrectionStore } from '../adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../adapters/dynamodb/ingest-store.js';
import { DynamoDbMeterStore } from '../adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../adapters/dynamodb/meter-type-store.js';
import { DynamoDbRecordHistory } from '../adapters/dynamodb/record-history.js';
import { DynamoDbStreamProcessorStore } from '../adapters/dynamodb/stream-processor-store.js';
import { KinesisUsageStreamWriter } from '../adapters/kinesis-stream-writer.js';
import { ENV } from '../config/env-names.js';
import type { readApiConfig } from '../config/runtime-config.js';
import { readDestination } from '../config/runtime-config.js';
import { parseStreamsConfig } from '../config/streams.js';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../domain/record-history.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { createApiHandler } from '../http/api.js';
import type { PeriodEndScheduler } from '../ports/period-end-scheduler.js';
import type { MeteredRecordPublisher } from '../ports/record-publisher.js';
import type { UsageStreamWriter } from '../ports/usage-stream-writer.js';
import { awsTable, eventBridgeScheduler, type MeteringTable, type TraceClient } from './clients.js';
import { publisherFor } from './publisher.js';

/** Where the API logs every 5xx and every failed clean-up, with its cause. */
export type ApiLog = (message: string, error: unknown) => void;

/** What the API handler is built from, wherever it runs. */
export interface ApiParts {
  table: MeteringTable;
  scheduler: PeriodEndScheduler;
  /** Puts corrected records back on their stream. */
  streamWriter: UsageStreamWriter;
  /** The deployed streams: which exist, and the seed of each one's processor. */
  streams: readonly StreamConfig[];
  /** The Kinesis stream name of each stream, where CloudFormation named them. */
  kinesisNames?: Readonly<Record<string, string>>;
  /** Where `POST /metered-records/{recordId}/resend` sends: the flush's destination. */
  publisher: MeteredRecordPublisher;
  log: ApiLog;
  now?: () => Date;
  newId?: () => string;
}

/** The API handler (API Gateway HTTP API events in, responses out) from its parts. */
export function apiHandler(parts: ApiParts) {
  const { client, tableName } = parts.table;
  const meters = new DynamoDbMeterStore(client, tableName);
  const now = parts.now ?? (() => new Date());
  const meterTypes = new DynamoDbMeterTypeStore(client, tableName);
  const userMeters = new DynamoDbIngestStore(client, tableName);
  return createApiHandler({
    meterTypes,
    categories: meterTypes,
    meters,
    summary: meters,
    scheduler: parts.scheduler,
    now,
    newId: parts.newId ?? randomUUID,
    dataCorrections: {
      corrections: new DynamoDbDataCorrectionStore(client, tableName),
      streamWriter: parts.streamWriter,
      streams: parts.streams,
      now,
      log: parts.log,
    },
    streams: parts.streams,
    streamProcessors: new DynamoDbStreamProcessorStore(client, tableName),
    kinesisNames: parts.kinesisNames,
    // The API only reads the history, so the retention it would write with does not matter.
    meteredRecords: {
      history: new DynamoDbRecordHistory(client, tableName, DEFAULT_HISTORY_RETENTION_DAYS),
      publisher: parts.publisher,
      meters: userMeters,
      streams: parts.streams,
    },
    userMeters,
    log: parts.log,
  });
}

/** The API Lambda's handler: DynamoDB, EventBridge Scheduler and Kinesis, every client traced. */
export function awsApiHandler(
  config: ReturnType<typeof readApiConfig>,
  kinesisNames: Readonly<Record<string, string>>,
  hooks: { traceClient: TraceClient; log: ApiLog },
) {
  const { traceClient } = hooks;
  return apiHandler({
    table: awsTable(config[ENV.tableName], traceClient),
    scheduler: eventBridgeScheduler(config, config[ENV.resetFunctionArn], traceClient),
    streamWriter: new KinesisUsageStreamWriter({
      client: traceClient(new KinesisClient({})),
      streamNames: kinesisNames,
    }),
    streams: parseStreamsConfig(config[ENV.streamsConfig]),
    kinesisNames,
    publisher: publisherFor(readDestination(), traceClient),
    log: hooks.log,
  });
}
