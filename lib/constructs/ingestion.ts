/**
 * Ingestion: the ingest Lambda reading every usage stream through an event source mapping
 * that reports partial failures, retries a failing batch (in halves) for as long as it fails
 * and never gives a record up: billing data waits on its shard until the fault is mended.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config/env-names.js';
import { MeteringFunction } from './metering-function.js';
import type { ItemAction, MeteringTable } from './metering-table.js';
import { acknowledgeRule } from './nag.js';
import type { PeriodEnd } from './period-end.js';
import type { RecordDestination } from './record-destination.js';
import type { UsageStreams } from './usage-streams.js';

/**
 * What ingestion does in the table: query a user's meters (DynamoDbIngestStore), read meter
 * types, claim and release de-duplication items, store data corrections (Put), look up which
 * records of a retried batch are already in data correction (BatchGet), update meters, read
 * the streams' meter processors (Get; seeding version 1 is a transaction of two conditional
 * Puts), write each shard's version pins (a conditional Put), read unique meters' claims (BatchGet)
 * and write them with the meter (a transaction of Puts), and what a prompt partial push
 * does (see PERIOD_END_ITEM_ACTIONS).
 */
export const INGEST_ITEM_ACTIONS: readonly ItemAction[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
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
}

export interface IngestionProps extends IngestOptions {
  readonly table: MeteringTable;
  readonly streams: UsageStreams;
  readonly periodEnd: PeriodEnd;
  readonly destination: RecordDestination;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
  /** Customer managed key for the log group. */
  readonly encryptionKey?: kms.IKey;
  /**
   * Concurrent executions reserved for the ingest Lambda, so an API flood or a month-end burst
   * of resets cannot take its room. One execution serves one shard (parallelization factor 1):
   * keep it at least the number of shards. 0 reserves none. @default 50
   */
  readonly reservedConcurrency?: number;
}

/** Kinesis and Lambda's value for "no limit" (MaximumRetryAttempts, MaximumRecordAgeInSeconds). */
export const UNLIMITED = -1;

/** The ingest Lambda and one event source mapping per stream. */
export class Ingestion extends Construct {
  readonly ingest: MeteringFunction;
  readonly eventSourceMappings: readonly lambda.EventSourceMapping[];

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    this.ingest = new MeteringFunction(this, 'Ingest', {
      entry: 'ingest',
      description: 'Meters usage records from Kinesis: one conditional update per meter per batch',
      timeout: Duration.minutes(2),
      memorySize: 1024,
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.streamsConfig]: props.streams.configJson,
        ...props.streams.environment,
        ...props.periodEnd.schedulingEnvironment(),
        ...props.destination.environment,
        ...props.periodEnd.historyEnvironment,
        // Version pins older than the retention can route no record still on the streams.
        [ENV.streamRetentionHours]: String(props.streams.retentionPeriod.toHours()),
      },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      encryptionKey: props.encryptionKey,
      reservedConcurrency: props.reservedConcurrency ?? 50,
      noDeadLetterQueueReason:
        'Invoked synchronously by the Kinesis event source mapping, which retries a failing batch until it succeeds; a dead-letter queue applies to asynchronous invocations only.',
    });

    this.eventSourceMappings = props.streams.streams.map(({ config, stream }) => {
      const mapping = this.ingest.function.addEventSourceMapping(`Stream-${config.name}`, {
        eventSourceArn: stream.streamArn,
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 500,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(5),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        // Bad records never fail a batch (they go to data correction), so a failing batch
        // means an infrastructure fault: the shard waits and retries until it is mended.
        // Neither a retry limit nor a record age may discard usage (DESIGN.md 2.7); the
        // stream retention (7 days by default) is how long an outage may last.
        retryAttempts: UNLIMITED,
        // Exactly-once relies on one writer per shard: the last applied sequence number per
        // shard lives in the meter item.
        parallelizationFactor: 1,
      });
      // CDK accepts no "unlimited" record age (its range is 60 s to 7 days); Lambda's is -1.
      (mapping.node.defaultChild as lambda.CfnEventSourceMapping).maximumRecordAgeInSeconds =
        UNLIMITED;
      acknowledgeRule(
        mapping,
        'LambdaEventSourceMappingDestination',
        'Retries are unlimited and records never age out: nothing is ever given up, so an on-failure destination would never receive a message. A waiting shard pages through the stall, iterator-age and RecordsFailed alarms.',
        'Serverless',
      );
      return mapping;
    });
    props.streams.grantRead(this.ingest);

    props.table.grantItemActions(this.ingest, INGEST_ITEM_ACTIONS);
    props.table.grantQuery(this.ingest, { table: true });
    props.destination.grantPublish(this.ingest);
    props.periodEnd.grantScheduling(this.ingest, { cancel: false });
  }
}
