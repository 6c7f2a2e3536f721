/** API Lambda: API Gateway HTTP API → use cases → DynamoDB and EventBridge Scheduler. */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../shared/adapters/dynamodb/data-correction-store.js';
import { DynamoDbMeterStore } from '../shared/adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../shared/adapters/dynamodb/meter-type-store.js';
import { EventBridgePeriodEndScheduler } from '../shared/adapters/eventbridge-scheduler.js';
import { KinesisUsageStreamWriter } from '../shared/adapters/kinesis-stream-writer.js';
import { ENV } from '../shared/config/env-names.js';
import { readApiConfig, readStreamNames } from '../shared/config/runtime-config.js';
import { parseStreamsConfig } from '../shared/config/streams.js';
import { createApiHandler } from '../shared/http/api.js';
import { dataCorrectionRoutes } from '../shared/http/data-correction-routes.js';
import { streamRoutes } from '../shared/http/stream-routes.js';
import { instrument, logger, metrics, tracer } from './wiring/observability.js';

const config = readApiConfig();

// Every 5xx and every failed clean-up: its cause goes to the log and the trace; the caller
// sees only a generic message.
const log = (message: string, error: unknown) => {
  logger.error(message, { error });
  if (error instanceof Error) tracer.addErrorAsMetadata(error);
  metrics.singleMetric().addMetric('ServerErrors', MetricUnit.Count, 1);
};
// The document client shares its DynamoDBClient's middleware stack: tracing one traces both.
const documentClient = tracer.captureAWSv3Client(createDocumentClient());
const tableName = config[ENV.tableName];
const meters = new DynamoDbMeterStore(documentClient, tableName);

const api = createApiHandler({
  meterTypes: new DynamoDbMeterTypeStore(documentClient, tableName),
  meters,
  summary: meters,
  scheduler: new EventBridgePeriodEndScheduler({
    client: tracer.captureAWSv3Client(new SchedulerClient({})),
    groupName: config[ENV.scheduleGroupName],
    targetArn: config[ENV.resetFunctionArn],
    roleArn: config[ENV.schedulerRoleArn],
    deadLetterQueueArn: config[ENV.scheduleDeadLetterQueueArn],
    flexibleWindowMinutes: config[ENV.scheduleFlexibleWindowMinutes],
  }),
  now: () => new Date(),
  newId: randomUUID,
  extraRoutes: [
    ...dataCorrectionRoutes({
      corrections: new DynamoDbDataCorrectionStore(documentClient, tableName),
      streamWriter: new KinesisUsageStreamWriter({
        client: tracer.captureAWSv3Client(new KinesisClient({})),
        streamNames: readStreamNames(),
      }),
      now: () => new Date(),
      log,
    }),
    ...streamRoutes(parseStreamsConfig(config[ENV.streamsConfig])),
  ],
  log,
});

// The API maps every error to a response inside `api`, so these middlewares wrap it rather than
// join it: they see each request end, with its correlation id still on the logger.
export const handler = instrument(api, {
  correlationId: (event) => event.requestContext?.requestId,
  // Responses carry customers' meters and can be large; the trace keeps timings only.
  captureResponse: false,
  publishMetrics: false,
});
