/** The Kinesis event-source adapter of ingestion: Lambda's event in, batch item failures out. */
import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import type {
  IngestDeps,
  IngestFailure,
  IngestFailureStage,
  IngestOutcome,
} from '../application/ingest.js';
import { ingestBatch } from '../application/ingest.js';
import type { StreamRecord } from '../application/ingest-decode.js';
import { ingestPinnedBatch } from '../application/ingest-pinned.js';
import type { StreamVersions } from '../application/stream-versions.js';
import { ServiceError } from '../domain/errors.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { IngestMetrics } from '../ports/ingest-metrics.js';

/** The stream name of an event-source ARN (`arn:aws:kinesis:region:account:stream/NAME`). */
export function streamNameOf(eventSourceArn: string): string {
  const marker = ':stream/';
  const at = eventSourceArn.indexOf(marker);
  return at === -1 ? eventSourceArn : eventSourceArn.slice(at + marker.length);
}

/** The shard of a record: Lambda's eventID is `shardId-000000000000:sequenceNumber`. */
function shardIdOf(record: KinesisStreamRecord): string {
  const at = record.eventID.lastIndexOf(':');
  return at === -1 ? record.eventID : record.eventID.slice(0, at);
}

/** Lambda's Kinesis records as the ingest use case's stream records. */
export function toStreamRecords(event: KinesisStreamEvent): StreamRecord[] {
  // One event comes from one shard: read its id once, check the rest cheaply.
  const first = event.Records[0];
  const shard = first ? shardIdOf(first) : '';
  return event.Records.map((record) => ({
    shardId:
      record.eventID.startsWith(shard) && record.eventID.charCodeAt(shard.length) === 58
        ? shard
        : shardIdOf(record),
    sequenceNumber: record.kinesis.sequenceNumber,
    partitionKey: record.kinesis.partitionKey,
    data: Buffer.from(record.kinesis.data, 'base64'),
    arrivalTime: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
  }));
}

/** Raised when records arrive from a stream the configuration does not know. */
export class UnknownStreamError extends ServiceError {
  override readonly name = 'UnknownStreamError';
}

/**
 * The infrastructure failures of one stage of a batch as they are logged: where, how many
 * records, the first cause. One line per stage and batch, however many users failed, so an
 * outage does not write one line per user on every retry.
 */
export interface IngestFailureDetails {
  stage: IngestFailureStage;
  streamName: string;
  shardId: string;
  /** Where the shard resumes: the batch's lowest failed record. */
  retryFrom: string | undefined;
  /** Records the stage held back. */
  records: number;
  /** The first failure's error, as caught. */
  error: unknown;
  /** How many failures the stage had (one per user for `meter`). */
  failures: number;
  /** The users whose records were held back (stage `meter`; the first 20). */
  userIds?: string[];
}

const LOGGED_USER_IDS = 20;

/** Logs the failures of one stage of a batch, the first cause in `details.error`. */
export type IngestFailureLog = (message: string, details: IngestFailureDetails) => void;

// One fixed message per stage, so the log can be searched by it; the details vary.
const FAILURE_MESSAGES: Record<IngestFailureStage, string> = {
  'stream-version':
    "ingest could not read or pin the stream's processor version; the shard retries the batch",
  'correction-lookup':
    'ingest could not look up earlier data corrections; the shard retries the batch',
  meter: "ingest could not meter a user's records; the shard retries them",
  'store-corrections': 'ingest could not store data corrections; the shard retries them',
};

export interface IngestHandlerDeps extends IngestDeps {
  streams: readonly StreamConfig[];
  /**
   * The Kinesis stream name of each configured stream (STREAM_NAMES in AWS, where
   * CloudFormation names the streams); absent ones are named as configured.
   */
  kinesisNames?: Readonly<Record<string, string>>;
  metrics: IngestMetrics;
  /** Where infrastructure failures go; each is also counted in the metrics (`failed`). */
  logFailure: IngestFailureLog;
  /**
   * The stored processors and the shards' version pins: each record is routed by the version
   * pinned to its position. Without it (tests of the routing itself) the deployed configuration
   * routes every record.
   */
  versions?: StreamVersions;
  /** Called with the outcome, e.g. to send partial pushes promptly. */
  afterBatch?: (outcome: IngestOutcome) => Promise<void>;
}

/**
 * Builds the ingest handler. Records of an unconfigured stream fail the batch loudly (a
 * deployment mistake, not bad input): they stay on the stream until the configuration is fixed.
 */
export function createIngestHandler(deps: IngestHandlerDeps) {
  const byName = new Map(
    deps.streams.map((stream) => [deps.kinesisNames?.[stream.name] ?? stream.name, stream]),
  );
  return async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    const first = event.Records[0];
    if (!first) return { batchItemFailures: [] };
    const streamName = streamNameOf(first.eventSourceARN);
    const stream = byName.get(streamName);
    if (!stream) throw new UnknownStreamError(`no stream configuration named '${streamName}'`);
    const records = toStreamRecords(event);
    const outcome = deps.versions
      ? await ingestPinnedBatch(deps, deps.versions, stream.name, records)
      : await ingestBatch(deps, stream, records);
    logFailures(deps.logFailure, stream.name, first, outcome);
    deps.metrics.recordBatch(stream.name, outcome.counts);
    await deps.afterBatch?.(outcome);
    return {
      batchItemFailures: outcome.failedSequenceNumbers.map((sequenceNumber) => ({
        itemIdentifier: sequenceNumber,
      })),
    };
  };
}

/** Logs each failure of the batch with its cause; a batch without failures costs nothing. */
function logFailures(
  log: IngestFailureLog,
  streamName: string,
  first: KinesisStreamRecord,
  outcome: IngestOutcome,
): void {
  if (outcome.failures.length === 0) return;
  const shardId = shardIdOf(first);
  const retryFrom = outcome.failedSequenceNumbers[0];
  const byStage = new Map<IngestFailureStage, IngestFailure[]>();
  for (const failure of outcome.failures) {
    const list = byStage.get(failure.stage);
    if (list) list.push(failure);
    else byStage.set(failure.stage, [failure]);
  }
  for (const [stage, failures] of byStage) {
    const userIds = failures.flatMap((f) => (f.userId === undefined ? [] : [f.userId]));
    log(FAILURE_MESSAGES[stage], {
      stage,
      streamName,
      shardId,
      retryFrom,
      records: failures.reduce((sum, f) => sum + f.records, 0),
      error: failures[0]?.error,
      failures: failures.length,
      ...(userIds.length > 0 ? { userIds: userIds.slice(0, LOGGED_USER_IDS) } : {}),
    });
  }
}
