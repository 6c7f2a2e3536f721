/** Builds the period-end dependencies of the Lambdas (reset, sweeper, ingest) from their settings. */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbMeterTypeStore } from '../../shared/adapters/dynamodb/meter-type-store.js';
import { DynamoDbPeriodEndStore } from '../../shared/adapters/dynamodb/period-end-store.js';
import { EventBridgePeriodEndScheduler } from '../../shared/adapters/eventbridge-scheduler.js';
import { publisherFor } from '../../shared/adapters/publisher-from-config.js';
import type { PeriodEndDeps } from '../../shared/application/period-end.js';
import { ENV } from '../../shared/config/env-names.js';
import type { readPeriodEndConfig } from '../../shared/config/runtime-config.js';
import { parseStreamsConfig } from '../../shared/config/streams.js';

/** Period-end dependencies; the schedule target is the reset Lambda's ARN. */
export function periodEndDeps(
  config: ReturnType<typeof readPeriodEndConfig>,
  documentClient: DynamoDBDocumentClient,
  resetFunctionArn: string,
): PeriodEndDeps {
  const tableName = config[ENV.tableName];
  const meterTypes = new DynamoDbMeterTypeStore(documentClient, tableName);
  return {
    store: new DynamoDbPeriodEndStore(documentClient, tableName),
    publisher: publisherFor(config.destination),
    scheduler: new EventBridgePeriodEndScheduler({
      client: new SchedulerClient({}),
      groupName: config[ENV.scheduleGroupName],
      targetArn: resetFunctionArn,
      roleArn: config[ENV.schedulerRoleArn],
      deadLetterQueueArn: config[ENV.scheduleDeadLetterQueueArn],
    }),
    meterType: async (id) => (await meterTypes.get(id))?.meterType,
    streams: parseStreamsConfig(config[ENV.streamsConfig]),
    now: () => new Date(),
  };
}
