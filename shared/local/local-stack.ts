/**
 * The local stack: the same handlers as in AWS, on one machine with no AWS account.
 * DynamoDB Local stands in for DynamoDB, a Node HTTP server for API Gateway, Node timers for
 * EventBridge Scheduler and a JSON-lines file for SQS/SNS; the composition root wires them as
 * it wires the Lambdas.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { InMemoryIngestMetrics } from '../adapters/in-memory/ingest-metrics.js';
import { KinesisUsageStreamWriter } from '../adapters/kinesis-stream-writer.js';
import { flushMeter, type PeriodEndDeps, sweepDueMeters } from '../application/period-end.js';
import { apiHandler } from '../composition/api.js';
import type { MeteringTable } from '../composition/clients.js';
import { ingestHandler } from '../composition/ingest.js';
import { periodEndDeps } from '../composition/period-end.js';
import { publisherFor } from '../composition/publisher.js';
import { DEFAULT_STREAMS, parseStreamsConfig } from '../config/streams.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { API_BASE_PATH } from '../http/route-specs.js';
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
  /**
   * The streams (JSON-able configurations; the shipped default when absent): which Kinesis
   * streams exist, and the seed of each one's processor. The stored processor wins.
   */
  streams?: unknown;
  /** How long ingestion routes by a stream's current version before reading it again (5 s). */
  refreshMs?: number;
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
  /** A built web console to serve at `/` beside the API (console/tools/build-console.ts). */
  consoleDir?: string;
}

export interface LocalStack {
  apiUrl: string;
  /** Where the web console is served (the gateway's root), when a console was given. */
  consoleUrl?: string;
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
  const stops = new Stops(log);
  try {
    const streams = parseStreamsConfig(options.streams ?? DEFAULT_STREAMS);
    const recordsFile = resolve(options.recordsFile ?? DEFAULT_RECORDS_FILE);
    const startup: Startup = {
      options,
      log,
      // An error with its stack, properties and causes: what an operator needs to act on it.
      logError: (message, error) => log(`${message}: ${inspect(error)}`),
      stops,
      streams,
    };
    const services = await startServices(startup);
    const { periodEnd, scheduler } = await startPeriodEnd(startup, services.table, recordsFile);
    const kinesisClient = await openStreams(startup, services.kinesisEndpoint);
    const pollers = startIngestion(startup, services.table, periodEnd, kinesisClient);
    const gateway = await startHttpGateway({
      handler: apiHandler({
        table: services.table,
        scheduler,
        streamWriter: new KinesisUsageStreamWriter({ client: kinesisClient }),
        streams,
        // A re-sent record is appended to the same JSON-lines file as the flush's.
        publisher: periodEnd.publisher,
        log: startup.logError,
      }),
      port: options.port,
      consoleDir: options.consoleDir,
    });
    stops.add(gateway.stop);
    return {
      apiUrl: `${gateway.url}${API_BASE_PATH}`,
      consoleUrl: options.consoleDir ? `${gateway.url}/` : undefined,
      dynamoDbEndpoint: services.dynamoDbEndpoint,
      kinesisEndpoint: services.kinesisEndpoint,
      streamNames: streams.map((stream) => stream.name),
      recordsFile,
      idle: async () => {
        await Promise.all(pollers.map((poller) => poller.idle({ timeoutMs: 30_000 })));
      },
      stop: () => stops.stopAll(),
    };
  } catch (error) {
    await stops.stopAll();
    throw error;
  }
}

/**
 * What to tell a person whose start failed: for a port in use, which setting names it and how
 * to choose another; otherwise the error itself.
 */
export function startFailure(error: unknown, ports: Readonly<Record<string, number>>): string {
  const { code, port } = (error ?? {}) as { code?: unknown; port?: unknown };
  if (code === 'EADDRINUSE') {
    const setting = Object.entries(ports).find(([, value]) => value === port)?.[0];
    return [
      `the local stack could not start: port ${String(port)} on 127.0.0.1 is in use${setting ? ` (${setting})` : ''}.`,
      'Stop what listens there, or choose free ports, e.g. PORT=3100 KINESIS_PORT=4667 npm start',
    ].join('\n');
  }
  return `the local stack could not start: ${inspect(error)}`;
}

/** What the steps of a start share. */
interface Startup {
  options: LocalStackOptions;
  log: (line: string) => void;
  logError: (message: string, error: unknown) => void;
  stops: Stops;
  streams: readonly StreamConfig[];
}

/** What `stop()` undoes, the last started first; a stop that fails is logged, the rest go on. */
class Stops {
  readonly #stops: (() => Promise<void>)[] = [];
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  add(stop: () => Promise<void>): void {
    this.#stops.push(stop);
  }

  async stopAll(): Promise<void> {
    for (const stop of this.#stops.reverse())
      await stop().catch((error: unknown) => this.#log(`stop failed: ${String(error)}`));
  }
}

/** DynamoDB Local with the table, and the local Kinesis (kept on disk with `persistDir`). */
async function startServices({ options, stops }: Startup) {
  const persistDir = options.persistDir ? resolve(options.persistDir) : undefined;
  if (persistDir) mkdirSync(resolve(persistDir, 'dynamodb'), { recursive: true });
  const [dynamo, kinesis] = await Promise.allSettled([
    startDynamoDbLocal({ persistDir: persistDir && resolve(persistDir, 'dynamodb') }),
    startLocalKinesis({
      port: options.kinesisPort,
      persistDir: persistDir && resolve(persistDir, 'kinesis'),
    }),
  ]);
  // Whichever started is stopped with the rest, also when the other failed (a busy port).
  if (kinesis.status === 'fulfilled') stops.add(kinesis.value.stop);
  if (dynamo.status === 'fulfilled') stops.add(dynamo.value.stop);
  if (dynamo.status === 'rejected') throw dynamo.reason;
  if (kinesis.status === 'rejected') throw kinesis.reason;
  await ensureTable(dynamo.value.endpoint, LOCAL_TABLE_NAME);
  const client = createDocumentClient({ endpoint: dynamo.value.endpoint, ...LOCAL_AWS });
  stops.add(async () => client.destroy());
  const table: MeteringTable = { client, tableName: LOCAL_TABLE_NAME };
  return {
    table,
    dynamoDbEndpoint: dynamo.value.endpoint,
    kinesisEndpoint: kinesis.value.endpoint,
  };
}

/**
 * Period end: records to the JSON-lines file, schedules on Node timers that play the reset
 * Lambda, and the safety-net sweeper on an interval, which runs once before the start ends.
 */
async function startPeriodEnd(
  { options, log, stops, streams }: Startup,
  table: MeteringTable,
  recordsFile: string,
): Promise<{ periodEnd: PeriodEndDeps; scheduler: LocalTimerScheduler }> {
  // The scheduler fires the flush, and the flush registers the next period with the scheduler.
  const scheduler = new LocalTimerScheduler({
    onFire: async (trigger) => {
      await flushMeter(periodEnd, trigger.meterId);
    },
    onError: (error) => log(`scheduled reset failed: ${String(error)}`),
  });
  const periodEnd = periodEndDeps({
    table,
    streams,
    publisher: publisherFor({ kind: 'file', path: recordsFile }),
    scheduler,
  });
  stops.add(async () => scheduler.stop());
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
  stops.add(async () => clearInterval(sweeper));
  return { periodEnd, scheduler };
}

/** A client of the local Kinesis, with every configured stream created. */
async function openStreams({ stops, streams }: Startup, endpoint: string): Promise<KinesisClient> {
  const client = createLocalKinesisClient(endpoint);
  stops.add(async () => client.destroy());
  for (const stream of streams) await ensureStream(client, stream.name, stream.shardCount);
  return client;
}

/** The ingest handler behind one event-source poller per stream, as the mappings in AWS. */
function startIngestion(
  { options, log, logError, stops, streams }: Startup,
  table: MeteringTable,
  periodEnd: PeriodEndDeps,
  client: KinesisClient,
): KinesisEventSourcePoller[] {
  const handler = ingestHandler({
    table,
    streams,
    refreshMs: options.refreshMs,
    periodEnd,
    metrics: new InMemoryIngestMetrics(),
    logFailure: (message, { error, ...where }) =>
      logError(`${message} ${JSON.stringify(where)}`, error),
    onSendFailure: (meterId, error) =>
      log(`sending the records of meter ${meterId} failed (the sweeper retries): ${String(error)}`),
  });
  const pollers = streams.map(
    (stream) =>
      new KinesisEventSourcePoller({
        client,
        streamName: stream.name,
        handler,
        batchSize: options.batchSize ?? 500,
        batchWindowMs: options.batchWindowMs ?? 0,
        // Like the mapping in AWS: a failing batch is retried until it goes through, never dropped.
        maxRetryAttempts: -1,
        onError: (error) => logError('ingest batch failed (will retry)', error),
      }),
  );
  for (const poller of pollers) {
    poller.start();
    stops.add(() => poller.stop());
  }
  return pollers;
}
