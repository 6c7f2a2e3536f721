/** Builds the period-end dependencies of the Lambdas (reset, sweeper, ingest) from their settings. */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbMeterTypeStore } from '../../shared/adapters/dynamodb/meter-type-store.js';
import { DynamoDbPeriodEndStore } from '../../shared/adapters/dynamodb/period-end-store.js';
import { EventBridgePeriodEndScheduler } from '../../shared/adapters/eventbridge-scheduler.js';
import { type Destination, publisherFor } from '../../shared/adapters/publisher-from-config.js';
import { SnsRecordPublisher } from '../../shared/adapters/sns-publisher.js';
import { SqsRecordPublisher } from '../../shared/adapters/sqs-publisher.js';
import type {
  FlushResult,
  PeriodEndDeps,
  SweepResult,
} from '../../shared/application/period-end.js';
import { ENV } from '../../shared/config/env-names.js';
import type { readPeriodEndConfig } from '../../shared/config/runtime-config.js';
import { parseStreamsConfig } from '../../shared/config/streams.js';
import type { MeteredRecordPublisher } from '../../shared/ports/record-publisher.js';

/**
 * Period-end dependencies; the schedule target is the reset Lambda's ARN. The AWS clients made
 * here are traced (the document client is traced by its creator).
 */
export function periodEndDeps(
  config: ReturnType<typeof readPeriodEndConfig>,
  documentClient: DynamoDBDocumentClient,
  resetFunctionArn: string,
  tracer: Tracer,
): PeriodEndDeps {
  const tableName = config[ENV.tableName];
  const meterTypes = new DynamoDbMeterTypeStore(documentClient, tableName);
  return {
    store: new DynamoDbPeriodEndStore(documentClient, tableName),
    publisher: tracedPublisherFor(config.destination, tracer),
    scheduler: new EventBridgePeriodEndScheduler({
      client: tracer.captureAWSv3Client(new SchedulerClient({})),
      groupName: config[ENV.scheduleGroupName],
      targetArn: resetFunctionArn,
      roleArn: config[ENV.schedulerRoleArn],
      deadLetterQueueArn: config[ENV.scheduleDeadLetterQueueArn],
      flexibleWindowMinutes: config[ENV.scheduleFlexibleWindowMinutes],
    }),
    meterType: async (id) => (await meterTypes.get(id))?.meterType,
    streams: parseStreamsConfig(config[ENV.streamsConfig]),
    now: () => new Date(),
    sweepDelayMs: config[ENV.scheduleFlexibleWindowMinutes] * 60_000,
  };
}

// As publisherFor, with the SQS or SNS client made here so that it can be traced.
function tracedPublisherFor(destination: Destination, tracer: Tracer): MeteredRecordPublisher {
  switch (destination.kind) {
    case 'sqs':
      return new SqsRecordPublisher({
        client: tracer.captureAWSv3Client(new SQSClient({})),
        queueUrl: destination.queueUrl,
      });
    case 'sns':
      return new SnsRecordPublisher({
        client: tracer.captureAWSv3Client(new SNSClient({})),
        topicArn: destination.topicArn,
      });
    case 'file':
      return publisherFor(destination);
  }
}

/** Counts a reset's flush: PeriodsClosed, RecordsSent, MetersDeleted, and no FlushFailures. */
export function addFlushMetrics(metrics: Metrics, result: FlushResult): void {
  metrics.addMetric('PeriodsClosed', MetricUnit.Count, result.periodsClosed);
  metrics.addMetric('RecordsSent', MetricUnit.Count, result.sent);
  metrics.addMetric('MetersDeleted', MetricUnit.Count, result.deleted ? 1 : 0);
  metrics.addMetric('FlushFailures', MetricUnit.Count, 0);
}

/** Counts a sweep: SweepDue, SweepFlushed, SweepFailed (meters). */
export function addSweepMetrics(metrics: Metrics, result: SweepResult): void {
  metrics.addMetric('SweepDue', MetricUnit.Count, result.due);
  metrics.addMetric('SweepFlushed', MetricUnit.Count, result.flushed);
  metrics.addMetric('SweepFailed', MetricUnit.Count, result.failed.length);
}
