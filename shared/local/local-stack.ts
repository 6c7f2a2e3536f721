/**
 * The local stack: the same handlers as in AWS, on one machine with no AWS account.
 * DynamoDB Local stands in for DynamoDB, a Node HTTP server for API Gateway, and Node
 * timers for EventBridge Scheduler.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoDbMeterStore } from '../adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../adapters/dynamodb/meter-type-store.js';
import { API_BASE_PATH, createApiHandler } from '../http/api.js';
import type { PeriodEndTrigger } from '../ports/period-end-scheduler.js';
import { ensureTable, LOCAL_AWS, startDynamoDbLocal } from './dynamodb-local.js';
import { startHttpGateway } from './http-gateway.js';
import { LocalTimerScheduler } from './local-scheduler.js';

export const LOCAL_TABLE_NAME = 'usage-metering';

export interface LocalStackOptions {
  /** HTTP port of the API (0 = any free port). */
  port: number;
  /** Keep DynamoDB data in this directory across restarts; in memory when absent. */
  persistDir?: string;
  /** Where log lines go. */
  log?: (line: string) => void;
}

export interface LocalStack {
  apiUrl: string;
  dynamoDbEndpoint: string;
  stop(): Promise<void>;
}

/** Starts every local service and the API; `stop()` stops all of them. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
  };
  try {
    const persistDir = options.persistDir ? resolve(options.persistDir) : undefined;
    if (persistDir) mkdirSync(persistDir, { recursive: true });
    const dynamo = await startDynamoDbLocal({ persistDir });
    stops.push(dynamo.stop);
    await ensureTable(dynamo.endpoint, LOCAL_TABLE_NAME);

    const documentClient = createDocumentClient({ endpoint: dynamo.endpoint, ...LOCAL_AWS });
    stops.push(async () => documentClient.destroy());
    const meters = new DynamoDbMeterStore(documentClient, LOCAL_TABLE_NAME);
    const scheduler = new LocalTimerScheduler({
      onFire: async (trigger: PeriodEndTrigger) => {
        log(`period end due: meter ${trigger.meterId} at ${trigger.periodEnd}`);
      },
      onError: (error) => log(`scheduled reset failed: ${String(error)}`),
    });
    stops.push(async () => scheduler.stop());

    const handler = createApiHandler({
      meterTypes: new DynamoDbMeterTypeStore(documentClient, LOCAL_TABLE_NAME),
      meters,
      summary: meters,
      scheduler,
      now: () => new Date(),
      newId: randomUUID,
      log: (message, error) =>
        log(
          `${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        ),
    });
    const gateway = await startHttpGateway({ handler, port: options.port });
    stops.push(gateway.stop);

    return {
      apiUrl: `${gateway.url}${API_BASE_PATH}`,
      dynamoDbEndpoint: dynamo.endpoint,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
