/**
 * The ingest handler's dependencies: the meters and the correction log in the table, the
 * stream settings, and the period-end dependencies that send partial pushes promptly.
 */
import { DynamoDbDataCorrectionStore } from '../adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../adapters/dynamodb/ingest-store.js';
import { DynamoDbStreamProcessorStore } from '../adapters/dynamodb/stream-processor-store.js';
import { createIngestHandler, type IngestFailureLog } from '../adapters/kinesis-ingest-handler.js';
import type { IngestOutcome } from '../application/ingest.js';
import { flushAfterIngest, type PeriodEndDeps } from '../application/period-end.js';
import { StreamVersions } from '../application/stream-versions.js';
import { ENV } from '../config/env-names.js';
import { parseStreamsConfig } from '../config/streams.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { IngestMetrics } from '../ports/ingest-metrics.js';
import { awsTable, type MeteringTable, meterTypeLookup, type TraceClient } from './clients.js';
import { awsPeriodEndDeps, type PeriodEndConfig, resetFunctionArnOf } from './period-end.js';

/** Where ingestion reports, wherever it runs: metrics, failures, failed prompt sends. */
export interface IngestReporting {
  metrics: IngestMetrics;
  /** Infrastructure failures that hold a shard back, with their cause. */
  logFailure: IngestFailureLog;
  /** A prompt send that failed after a batch; its records wait in the outbox for the sweeper. */
  onSendFailure: (meterId: string, error: unknown) => void;
  /** How many prompt sends of a batch failed (0 included), once per batch. */
  countSendFailures?: (failures: number) => void;
}

/** What the ingest handler is built from, wherever it runs. */
export interface IngestParts extends IngestReporting {
  table: MeteringTable;
  /** The deployed streams: which exist, and the seed of each one's processor. */
  streams: readonly StreamConfig[];
  /** How long a container routes by the current version before it reads it again (5 s). */
  refreshMs?: number;
  /** The Kinesis name of each configured stream, where CloudFormation named them. */
  kinesisNames?: Readonly<Record<string, string>>;
  /** How long the streams keep a record (version pins older than that are pruned). */
  streamRetentionMs?: number;
  periodEnd: PeriodEndDeps;
  now?: () => Date;
}

/** The ingest handler (a Kinesis event in, batch item failures out) from its parts. */
export function ingestHandler(parts: IngestParts) {
  const { client, tableName } = parts.table;
  const now = parts.now ?? (() => new Date());
  const processors = new DynamoDbStreamProcessorStore(client, tableName);
  return createIngestHandler({
    store: new DynamoDbIngestStore(client, tableName),
    corrections: new DynamoDbDataCorrectionStore(client, tableName),
    meterType: meterTypeLookup(parts.table),
    now,
    streams: parts.streams,
    // One per container: the current versions are read once per refresh interval.
    versions: new StreamVersions({
      processors,
      pins: processors,
      deployed: parts.streams,
      now,
      refreshMs: parts.refreshMs,
      retentionMs: parts.streamRetentionMs,
    }),
    kinesisNames: parts.kinesisNames,
    metrics: parts.metrics,
    logFailure: parts.logFailure,
    afterBatch: (outcome) => sendPromptly(parts, outcome),
  });
}

// Partial pushes go out at once; what fails here stays in the outbox for the sweeper.
async function sendPromptly(parts: IngestParts, outcome: IngestOutcome): Promise<void> {
  let failures = 0;
  await flushAfterIngest(
    parts.periodEnd,
    outcome.metersWithOutbox.map((meter) => meter.id),
    (meterId, error) => {
      failures++;
      parts.onSendFailure(meterId, error);
    },
  );
  parts.countSendFailures?.(failures);
}

/** The ingest Lambda's handler: every AWS client traced, one document client for all stores. */
export function awsIngestHandler(
  config: PeriodEndConfig,
  kinesis: { names: Readonly<Record<string, string>>; retentionMs?: number },
  reporting: IngestReporting & { traceClient: TraceClient },
) {
  const resetFunctionArn = resetFunctionArnOf(config);
  const streams = parseStreamsConfig(config[ENV.streamsConfig]);
  const table = awsTable(config[ENV.tableName], reporting.traceClient);
  const periodEnd = awsPeriodEndDeps(config, {
    traceClient: reporting.traceClient,
    resetFunctionArn,
    table,
  });
  return ingestHandler({
    ...reporting,
    table,
    streams,
    kinesisNames: kinesis.names,
    streamRetentionMs: kinesis.retentionMs,
    periodEnd,
  });
}
