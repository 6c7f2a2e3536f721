/** API Lambda: API Gateway HTTP API → use cases → DynamoDB and EventBridge Scheduler. */
import { randomUUID } from 'node:crypto';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../shared/adapters/dynamodb/data-correction-store.js';
import { DynamoDbMeterStore } from '../shared/adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../shared/adapters/dynamodb/meter-type-store.js';
import { EventBridgePeriodEndScheduler } from '../shared/adapters/eventbridge-scheduler.js';
import { KinesisUsageStreamWriter } from '../shared/adapters/kinesis-stream-writer.js';
import { ENV } from '../shared/config/env-names.js';
import { readApiConfig } from '../shared/config/runtime-config.js';
import { parseStreamsConfig } from '../shared/config/streams.js';
import { createApiHandler } from '../shared/http/api.js';
import { dataCorrectionRoutes } from '../shared/http/data-correction-routes.js';
import { streamRoutes } from '../shared/http/stream-routes.js';

const config = readApiConfig();
const documentClient = createDocumentClient();
const tableName = config[ENV.tableName];
const meters = new DynamoDbMeterStore(documentClient, tableName);

export const handler = createApiHandler({
  meterTypes: new DynamoDbMeterTypeStore(documentClient, tableName),
  meters,
  summary: meters,
  scheduler: new EventBridgePeriodEndScheduler({
    client: new SchedulerClient({}),
    groupName: config[ENV.scheduleGroupName],
    targetArn: config[ENV.resetFunctionArn],
    roleArn: config[ENV.schedulerRoleArn],
    deadLetterQueueArn: config[ENV.scheduleDeadLetterQueueArn],
  }),
  now: () => new Date(),
  newId: randomUUID,
  extraRoutes: [
    ...dataCorrectionRoutes({
      corrections: new DynamoDbDataCorrectionStore(documentClient, tableName),
      streamWriter: new KinesisUsageStreamWriter({ client: new KinesisClient({}) }),
      now: () => new Date(),
    }),
    ...streamRoutes(parseStreamsConfig(config[ENV.streamsConfig])),
  ],
});
