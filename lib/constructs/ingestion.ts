/**
 * Ingestion: the ingest Lambda reading every usage stream through an event source mapping
 * that retries a failing batch in halves, reports partial failures, gives up after a bounded
 * number of attempts or record age, and then leaves a note of what to replay on a queue.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config/env-names.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { MeteringFunction } from './metering-function.js';
import type { ItemAction, MeteringTable } from './metering-table.js';
import type { PeriodEnd } from './period-end.js';
import type { RecordDestination } from './record-destination.js';
import type { UsageStreams } from './usage-streams.js';

/**
 * What ingestion does in the table: query a user's meters (DynamoDbIngestStore), read meter
 * types, claim and release de-duplication items, store data corrections (Put), look up which
 * records of a retried batch are already in data correction (BatchGet), update meters, and
 * what a prompt partial push does (see PERIOD_END_ITEM_ACTIONS).
 */
export const INGEST_ITEM_ACTIONS: readonly ItemAction[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

/** How the ingest Lambda reads the streams. */
export interface IngestOptions {
  /** Records per batch (1–10,000). @default 500 */
  readonly batchSize?: number;
  /** How long to gather records before invoking (0–300 s). @default 5 seconds */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch (bisected each time) before it is given up. @default 10 */
  readonly retryAttempts?: number;
  /**
   * Records older than this are given up (and noted on the failure queue). Must be shorter
   * than the stream retention so they can still be replayed. @default 6 hours
   */
  readonly maxRecordAge?: Duration;
}

export interface IngestionProps extends IngestOptions {
  readonly table: MeteringTable;
  readonly streams: UsageStreams;
  readonly periodEnd: PeriodEnd;
  readonly destination: RecordDestination;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
  readonly queueRetention?: Duration;
}

/** The ingest Lambda, one event source mapping per stream, and the failure queue. */
export class Ingestion extends Construct {
  readonly ingest: MeteringFunction;
  /** Batches given up after the retries: shard and sequence numbers to replay. */
  readonly failures: DeadLetterQueue;
  readonly eventSources: readonly KinesisEventSource[];

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const maxRecordAge = props.maxRecordAge ?? Duration.hours(6);
    if (maxRecordAge.toSeconds() >= props.streams.retentionPeriod.toSeconds()) {
      throw new Error(
        `UsageMetering: ingest maxRecordAge (${maxRecordAge.toHumanString()}) must be shorter than the stream retention (${props.streams.retentionPeriod.toHumanString()}), or given-up records are gone before they can be replayed`,
      );
    }
    this.failures = new DeadLetterQueue(this, 'Failures', {
      purpose:
        'Kinesis batches the ingest Lambda gave up on; each message names the shard and sequence numbers to replay',
      retentionPeriod: props.queueRetention,
      removalPolicy: props.removalPolicy,
    });
    this.ingest = new MeteringFunction(this, 'Ingest', {
      entry: 'ingest',
      description: 'Meters usage records from Kinesis: one conditional update per meter per batch',
      timeout: Duration.minutes(2),
      memorySize: 1024,
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.streamsConfig]: props.streams.configJson,
        ...props.periodEnd.schedulingEnvironment(),
        ...props.destination.environment,
      },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.eventSources = props.streams.streams.map(({ stream }) => {
      const source = new KinesisEventSource(stream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 500,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(5),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: props.retryAttempts ?? 10,
        maxRecordAge,
        // Exactly-once relies on one writer per shard: the last applied sequence number per
        // shard lives in the meter item.
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.failures.queue),
      });
      this.ingest.function.addEventSource(source);
      return source;
    });

    props.table.grantItemActions(this.ingest, INGEST_ITEM_ACTIONS);
    props.table.grantQuery(this.ingest, { table: true });
    props.destination.grantPublish(this.ingest);
    props.periodEnd.grantScheduling(this.ingest, { cancel: false });
  }
}
