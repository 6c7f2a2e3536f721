/** API Lambda: API Gateway HTTP API → use cases → DynamoDB and EventBridge Scheduler. */
import { randomUUID } from 'node:crypto';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { DynamoDbMeterStore } from '../shared/adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../shared/adapters/dynamodb/meter-type-store.js';
import { EventBridgePeriodEndScheduler } from '../shared/adapters/eventbridge-scheduler.js';
import { ENV } from '../shared/config/env-names.js';
import { readApiConfig } from '../shared/config/runtime-config.js';
import { createApiHandler } from '../shared/http/api.js';

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
});
