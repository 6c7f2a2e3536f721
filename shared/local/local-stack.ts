/**
 * The local stack: the same handlers as in AWS, on one machine with no AWS account.
 * DynamoDB Local stands in for DynamoDB, a Node HTTP server for API Gateway, and Node
 * timers for EventBridge Scheduler.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../adapters/dynamodb/ingest-store.js';
import { DynamoDbMeterStore } from '../adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../adapters/dynamodb/meter-type-store.js';
import { DynamoDbPeriodEndStore } from '../adapters/dynamodb/period-end-store.js';
import { JsonLinesFilePublisher } from '../adapters/file-publisher.js';
import { createIngestHandler } from '../adapters/kinesis-ingest-handler.js';
import { KinesisUsageStreamWriter } from '../adapters/kinesis-stream-writer.js';
import { InMemoryIngestMetrics } from '../adapters/powertools-ingest-metrics.js';
import {
  flushAfterIngest,
  flushMeter,
  type PeriodEndDeps,
  sweepDueMeters,
} from '../application/period-end.js';
import { DEFAULT_STREAMS, parseStreamsConfig } from '../config/streams.js';
import { API_BASE_PATH, createApiHandler } from '../http/api.js';
import { dataCorrectionRoutes } from '../http/data-correction-routes.js';
import { streamRoutes } from '../http/stream-routes.js';
import type { PeriodEndTrigger } from '../ports/period-end-scheduler.js';
import { ensureTable, LOCAL_AWS, startDynamoDbLocal } from './dynamodb-local.js';
import { startHttpGateway } from './http-gateway.js';
import { createLocalKinesisClient, ensureStream, startLocalKinesis } from './kinesis-local.js';
import { KinesisEventSourcePoller } from './kinesis-poller.js';
import { LocalTimerScheduler } from './local-scheduler.js';

export const LOCAL_TABLE_NAME = 'usage-metering';
export const DEFAULT_RECORDS_FILE = '.local/metered-records.jsonl';

export interface LocalStackOptions {
  /** HTTP port of the API (0 = any free port). */
  port: number;
  /** Port of the local Kinesis (0 = any free port). */
  kinesisPort: number;
  /** The stream configuration (JSON-able); the shipped default when absent. */
  streams?: unknown;
  /** Batch size and window of the local event-source poller. */
  batchSize?: number;
  batchWindowMs?: number;
  /** Keep DynamoDB data in this directory across restarts; in memory when absent. */
  persistDir?: string;
  /** Where log lines go. */
  log?: (line: string) => void;
  /** The JSON-lines file metered records are appended to. */
  recordsFile?: string;
  /** How often the safety-net sweeper runs. */
  sweepIntervalMs?: number;
}

export interface LocalStack {
  apiUrl: string;
  dynamoDbEndpoint: string;
  kinesisEndpoint: string;
  streamNames: string[];
  recordsFile: string;
  /** Resolves once every record now on the streams has been delivered to ingestion. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts every local service and the API; `stop()` stops all of them. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  // An error with its stack, properties and causes: what an operator needs to act on it.
  const logError = (message: string, error: unknown) => log(`${message}: ${inspect(error)}`);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
  };
  try {
    const streams = parseStreamsConfig(options.streams ?? DEFAULT_STREAMS);
    const recordsFile = resolve(options.recordsFile ?? DEFAULT_RECORDS_FILE);
    const persistDir = options.persistDir ? resolve(options.persistDir) : undefined;
    if (persistDir) mkdirSync(resolve(persistDir, 'dynamodb'), { recursive: true });
    const [dynamo, kinesis] = await Promise.all([
      startDynamoDbLocal({ persistDir: persistDir && resolve(persistDir, 'dynamodb') }),
      startLocalKinesis({
        port: options.kinesisPort,
        persistDir: persistDir && resolve(persistDir, 'kinesis'),
      }),
    ]);
    stops.push(kinesis.stop);
    stops.push(dynamo.stop);
    await ensureTable(dynamo.endpoint, LOCAL_TABLE_NAME);

    const documentClient = createDocumentClient({ endpoint: dynamo.endpoint, ...LOCAL_AWS });
    stops.push(async () => documentClient.destroy());
    const meters = new DynamoDbMeterStore(documentClient, LOCAL_TABLE_NAME);
    const meterTypes = new DynamoDbMeterTypeStore(documentClient, LOCAL_TABLE_NAME);
    const publisher = new JsonLinesFilePublisher({ path: recordsFile });
    // The scheduler fires the flush, and the flush registers the next period with the scheduler.
    const periodEnd: PeriodEndDeps = {
      store: new DynamoDbPeriodEndStore(documentClient, LOCAL_TABLE_NAME),
      publisher,
      scheduler: new LocalTimerScheduler({
        onFire: async (trigger: PeriodEndTrigger) => {
          await flushMeter(periodEnd, trigger.meterId);
        },
        onError: (error) => log(`scheduled reset failed: ${String(error)}`),
      }),
      meterType: async (id) => (await meterTypes.get(id))?.meterType,
      streams,
      now: () => new Date(),
    };
    const scheduler = periodEnd.scheduler as LocalTimerScheduler;
    stops.push(async () => scheduler.stop());
    const sweep = async () => {
      const result = await sweepDueMeters(periodEnd).catch((error: unknown) => {
        log(`sweep failed: ${String(error)}`);
        return undefined;
      });
      for (const failure of result?.failed ?? [])
        log(`sweep could not flush meter ${failure.meterId}: ${failure.error}`);
    };
    // Schedules live in memory: after a restart the first sweep finds every overdue meter.
    await sweep();
    const sweeper = setInterval(() => void sweep(), options.sweepIntervalMs ?? 15_000);
    sweeper.unref();
    stops.push(async () => clearInterval(sweeper));

    const kinesisClient = createLocalKinesisClient(kinesis.endpoint);
    stops.push(async () => kinesisClient.destroy());
    for (const stream of streams) await ensureStream(kinesisClient, stream.name, stream.shardCount);

    const corrections = new DynamoDbDataCorrectionStore(documentClient, LOCAL_TABLE_NAME);
    const metrics = new InMemoryIngestMetrics();
    const ingest = createIngestHandler({
      store: new DynamoDbIngestStore(documentClient, LOCAL_TABLE_NAME),
      corrections,
      meterType: async (id) => (await meterTypes.get(id))?.meterType,
      now: () => new Date(),
      streams,
      metrics,
      logFailure: (message, { error, ...where }) =>
        logError(`${message} ${JSON.stringify(where)}`, error),
      afterBatch: (outcome) =>
        flushAfterIngest(
          periodEnd,
          outcome.metersWithOutbox.map((meter) => meter.id),
          (meterId, error) =>
            log(
              `sending the records of meter ${meterId} failed (the sweeper retries): ${String(error)}`,
            ),
        ),
    });
    const pollers = streams.map(
      (stream) =>
        new KinesisEventSourcePoller({
          client: kinesisClient,
          streamName: stream.name,
          handler: ingest,
          batchSize: options.batchSize ?? 500,
          batchWindowMs: options.batchWindowMs ?? 0,
          // Like the mapping in AWS: a failing batch is retried until it goes through, never dropped.
          maxRetryAttempts: -1,
          onError: (error) => logError('ingest batch failed (will retry)', error),
        }),
    );
    for (const poller of pollers) {
      poller.start();
      stops.push(() => poller.stop());
    }

    const handler = createApiHandler({
      meterTypes,
      meters,
      summary: meters,
      scheduler,
      extraRoutes: [
        ...dataCorrectionRoutes({
          corrections,
          streamWriter: new KinesisUsageStreamWriter({ client: kinesisClient }),
          now: () => new Date(),
          log: logError,
        }),
        ...streamRoutes(streams),
      ],
      now: () => new Date(),
      newId: randomUUID,
      log: logError,
    });
    const gateway = await startHttpGateway({ handler, port: options.port });
    stops.push(gateway.stop);

    return {
      apiUrl: `${gateway.url}${API_BASE_PATH}`,
      dynamoDbEndpoint: dynamo.endpoint,
      kinesisEndpoint: kinesis.endpoint,
      streamNames: streams.map((stream) => stream.name),
      recordsFile,
      idle: async () => {
        await Promise.all(pollers.map((poller) => poller.idle({ timeoutMs: 30_000 })));
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
