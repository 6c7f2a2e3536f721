/**
 * What every dependency set is made of: the metering table (one document client, one table)
 * and, in AWS, the clients the composition makes, each passed through the Lambda's tracer.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoDbMeterTypeStore } from '../adapters/dynamodb/meter-type-store.js';
import { EventBridgePeriodEndScheduler } from '../adapters/eventbridge-scheduler.js';
import { ENV } from '../config/env-names.js';
import type { readApiConfig } from '../config/runtime-config.js';
import type { MeterType } from '../domain/meter.js';

/** The table every store of the service shares, and the client that reaches it. */
export interface MeteringTable {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/** Wraps an AWS client made here, e.g. Powertools' `tracer.captureAWSv3Client`. */
export type TraceClient = <T>(client: T) => T;

/** Leaves a client as it is (the local stack, tests). */
export const untraced: TraceClient = (client) => client;

/** A meter type's current settings by id; undefined once it is deleted. */
export function meterTypeLookup(
  table: MeteringTable,
): (id: string) => Promise<MeterType | undefined> {
  const meterTypes = new DynamoDbMeterTypeStore(table.client, table.tableName);
  return async (id) => (await meterTypes.get(id))?.meterType;
}

/** The metering table in AWS, reached with the default credentials and Region. */
export function awsTable(tableName: string, traceClient: TraceClient): MeteringTable {
  // The document client shares its DynamoDBClient's middleware stack: tracing one traces both.
  return { client: traceClient(createDocumentClient()), tableName };
}

/** The settings of the period-end schedules, as the API and period-end Lambdas read them. */
export type ScheduleSettings = Pick<
  ReturnType<typeof readApiConfig>,
  | typeof ENV.scheduleGroupName
  | typeof ENV.schedulerRoleArn
  | typeof ENV.scheduleDeadLetterQueueArn
  | typeof ENV.scheduleFlexibleWindowMinutes
>;

/** EventBridge Scheduler schedules whose target is the reset Lambda `targetArn`. */
export function eventBridgeScheduler(
  settings: ScheduleSettings,
  targetArn: string,
  traceClient: TraceClient,
): EventBridgePeriodEndScheduler {
  return new EventBridgePeriodEndScheduler({
    client: traceClient(new SchedulerClient({})),
    groupName: settings[ENV.scheduleGroupName],
    targetArn,
    roleArn: settings[ENV.schedulerRoleArn],
    deadLetterQueueArn: settings[ENV.scheduleDeadLetterQueueArn],
    flexibleWindowMinutes: settings[ENV.scheduleFlexibleWindowMinutes],
  });
}
