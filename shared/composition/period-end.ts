/**
 * The period-end dependencies (reset, sweeper, and the ingest Lambda's prompt sends): the
 * meters' outboxes in the table, the destination, the schedules.
 */
import { DynamoDbPeriodEndStore } from '../adapters/dynamodb/period-end-store.js';
import { DynamoDbRecordHistory } from '../adapters/dynamodb/record-history.js';
import { DynamoDbStreamProcessorStore } from '../adapters/dynamodb/stream-processor-store.js';
import type { PeriodEndDeps } from '../application/period-end.js';
import { StreamVersions } from '../application/stream-versions.js';
import { ENV } from '../config/env-names.js';
import type { readPeriodEndConfig } from '../config/runtime-config.js';
import { parseStreamsConfig } from '../config/streams.js';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../domain/record-history.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { PeriodEndScheduler } from '../ports/period-end-scheduler.js';
import type { MeteredRecordPublisher } from '../ports/record-publisher.js';
import {
  awsTable,
  eventBridgeScheduler,
  type MeteringTable,
  meterTypeLookup,
  type TraceClient,
} from './clients.js';
import { publisherFor } from './publisher.js';

/** What the period-end dependencies are built from, wherever they run. */
export interface PeriodEndParts {
  table: MeteringTable;
  streams: readonly StreamConfig[];
  publisher: MeteredRecordPublisher;
  scheduler: PeriodEndScheduler;
  /** The schedules' flexible window: how long the sweeper leaves an overdue meter to them. */
  sweepDelayMs?: number;
  /** How long kept records stay after their period end. @default 400 days */
  historyRetentionDays?: number;
  now?: () => Date;
}

/** The period-end dependencies from their parts. */
export function periodEndDeps(parts: PeriodEndParts): PeriodEndDeps {
  const now = parts.now ?? (() => new Date());
  const processors = new DynamoDbStreamProcessorStore(parts.table.client, parts.table.tableName);
  // The carry fields a closing period keeps: the current version's, read once per refresh.
  const versions = new StreamVersions({
    processors,
    pins: processors,
    deployed: parts.streams,
    now,
  });
  return {
    store: new DynamoDbPeriodEndStore(parts.table.client, parts.table.tableName),
    publisher: parts.publisher,
    history: new DynamoDbRecordHistory(
      parts.table.client,
      parts.table.tableName,
      parts.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS,
    ),
    scheduler: parts.scheduler,
    meterType: meterTypeLookup(parts.table),
    streams: parts.streams,
    carryFields: async (meterKey) => {
      const stream = parts.streams.find((s) => s.meterKey === meterKey);
      return stream && (await versions.current(stream.name)).configuration;
    },
    now,
    sweepDelayMs: parts.sweepDelayMs,
  };
}

/** The settings of the reset, sweeper and ingest Lambdas. */
export type PeriodEndConfig = ReturnType<typeof readPeriodEndConfig>;

/** How a Lambda's period-end dependencies reach AWS. */
export interface AwsPeriodEndOptions {
  traceClient: TraceClient;
  /** The reset Lambda, which the schedules invoke. */
  resetFunctionArn: string;
  /** The table as the Lambda opened it already; opened here when absent. */
  table?: MeteringTable;
}

/** A Lambda's period-end dependencies: SQS or SNS, EventBridge Scheduler, every client traced. */
export function awsPeriodEndDeps(
  config: PeriodEndConfig,
  options: AwsPeriodEndOptions,
): PeriodEndDeps {
  const { traceClient } = options;
  return periodEndDeps({
    table: options.table ?? awsTable(config[ENV.tableName], traceClient),
    publisher: publisherFor(config.destination, traceClient),
    scheduler: eventBridgeScheduler(config, options.resetFunctionArn, traceClient),
    streams: parseStreamsConfig(config[ENV.streamsConfig]),
    sweepDelayMs: config[ENV.scheduleFlexibleWindowMinutes] * 60_000,
    historyRetentionDays: config[ENV.historyRetentionDays],
  });
}

/** RESET_FUNCTION_ARN, which the sweeper and ingest Lambdas need (the reset takes its own). */
export function resetFunctionArnOf(config: PeriodEndConfig): string {
  const arn = config[ENV.resetFunctionArn];
  if (!arn) throw new Error(`invalid configuration: ${ENV.resetFunctionArn} is not set`);
  return arn;
}

/**
 * The reset Lambda's period-end dependencies, made at its first invocation: the schedules it
 * registers invoke the reset itself, whose ARN only an invocation's context tells. The table
 * is opened at once, while the Lambda starts.
 */
export function awsResetDeps(
  config: PeriodEndConfig,
  traceClient: TraceClient,
): (resetFunctionArn: string) => PeriodEndDeps {
  const table = awsTable(config[ENV.tableName], traceClient);
  let deps: PeriodEndDeps | undefined;
  return (resetFunctionArn) => {
    deps ??= awsPeriodEndDeps(config, { traceClient, resetFunctionArn, table });
    return deps;
  };
}
