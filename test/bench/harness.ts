/**
 * The bench's harness: DynamoDB tables with a call counter (commands, write requests, capacity
 * units, failed conditions, latency), Kinesis events built by hand, and the real ingest and
 * period-end wiring on top of either DynamoDB Local or the in-memory fakes. No vitest here: the
 * bench runs with tsx.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../../shared/adapters/dynamodb/ingest-store.js';
import { DynamoDbMeterStore } from '../../shared/adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../../shared/adapters/dynamodb/meter-type-store.js';
import { DynamoDbPeriodEndStore } from '../../shared/adapters/dynamodb/period-end-store.js';
import { DynamoDbRecordHistory } from '../../shared/adapters/dynamodb/record-history.js';
import { InMemoryDataCorrectionStore } from '../../shared/adapters/in-memory/data-correction-store.js';
import { InMemoryIngestMetrics } from '../../shared/adapters/in-memory/ingest-metrics.js';
import { InMemoryIngestStore } from '../../shared/adapters/in-memory/ingest-store.js';
import { InMemoryPeriodEndScheduler } from '../../shared/adapters/in-memory/period-end-scheduler.js';
import { InMemoryRecordPublisher } from '../../shared/adapters/in-memory/record-publisher.js';
import {
  createIngestHandler,
  type IngestFailureLog,
} from '../../shared/adapters/kinesis-ingest-handler.js';
import { forEachLimited } from '../../shared/application/concurrency.js';
import { createMeterType } from '../../shared/application/meter-types.js';
import { createMeter } from '../../shared/application/meters.js';
import type { PeriodEndDeps } from '../../shared/application/period-end.js';
import type { StreamVersions } from '../../shared/application/stream-versions.js';
import { parseStreamsConfig, type StreamsConfigInput } from '../../shared/config/streams.js';
import { newMeter, newMeterType } from '../../shared/domain/meter.js';
import { meterCreateSchema } from '../../shared/domain/meter-schemas.js';
import { meterTypeCreateSchema } from '../../shared/domain/meter-type-schemas.js';
import { meterViewOf } from '../../shared/domain/meter-view.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { ensureTable, LOCAL_AWS } from '../../shared/local/dynamodb-local.js';

export const BENCH_STREAM = 'bench-events';

// The bench fails on any batch item failure; this says what caused it.
const logFailure: IngestFailureLog = (message, details) => console.error(message, details);
export const BENCH_METER_KEY = 'bench';

/** A stream configuration for the bench: one catch-all rule, de-duplication on or off. */
export function benchStreams(dedup: boolean): StreamConfig[] {
  const input: StreamsConfigInput = [
    {
      name: BENCH_STREAM,
      meterKey: BENCH_METER_KEY,
      guidingRules: [{ name: 'all', category: 'DEFAULT' }],
      deduplication: { enabled: dedup, windowHours: 24 },
    },
  ] as StreamsConfigInput;
  return parseStreamsConfig(input);
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/** What a DynamoDB client did: calls by command, write requests, capacity, failures, time. */
export class CallStats {
  readonly calls = new Map<string, number>();
  /** Item-level write requests (a transaction or batch counts each item). */
  writeRequests = 0;
  /** Item writes by what was written: a Put's `entity` (`meter`, `unique-claim`, …) or `update`. */
  readonly writesByEntity = new Map<string, number>();
  /** Items written inside TransactWriteItems (DynamoDB charges 2 WCU per such item and KB). */
  transactionItems = 0;
  writeUnits = 0;
  /** Write units by where they were spent: `table` or an index name. */
  readonly writeUnitsBy = new Map<string, number>();
  readUnits = 0;
  conditionFailures = 0;
  transactionCancellations = 0;
  totalMs = 0;

  get(command: string): number {
    return this.calls.get(command) ?? 0;
  }

  get totalCalls(): number {
    let total = 0;
    for (const n of this.calls.values()) total += n;
    return total;
  }

  reset(): void {
    this.calls.clear();
    this.writeRequests = 0;
    this.writesByEntity.clear();
    this.transactionItems = 0;
    this.writeUnits = 0;
    this.writeUnitsBy.clear();
    this.readUnits = 0;
    this.conditionFailures = 0;
    this.transactionCancellations = 0;
    this.totalMs = 0;
  }

  snapshot() {
    return {
      calls: Object.fromEntries(this.calls),
      totalCalls: this.totalCalls,
      writeRequests: this.writeRequests,
      writesByEntity: Object.fromEntries(this.writesByEntity),
      transactionItems: this.transactionItems,
      writeUnits: this.writeUnits,
      writeUnitsBy: Object.fromEntries(this.writeUnitsBy),
      readUnits: this.readUnits,
      conditionFailures: this.conditionFailures,
      transactionCancellations: this.transactionCancellations,
      totalMs: this.totalMs,
    };
  }
}

type Units = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };
type Capacity = Units & {
  Table?: Units;
  GlobalSecondaryIndexes?: Record<string, Units>;
};

function itemWrites(command: string, input: Record<string, unknown>): number {
  if (WRITE_COMMANDS.has(command)) return 1;
  if (command === 'TransactWriteItemsCommand')
    return (input.TransactItems as unknown[] | undefined)?.length ?? 0;
  if (command === 'BatchWriteItemCommand') {
    const requests = (input.RequestItems ?? {}) as Record<string, unknown[]>;
    return Object.values(requests).reduce((n, list) => n + list.length, 0);
  }
  return 0;
}

type WriteRequest = {
  Put?: { Item?: { entity?: unknown } };
  PutRequest?: { Item?: { entity?: unknown } };
  Update?: unknown;
  Delete?: unknown;
  DeleteRequest?: unknown;
};

/** What each item write of a call wrote: a Put's entity, `update` or `delete`. */
function writeKinds(command: string, input: Record<string, unknown>): string[] {
  const kind = (request: WriteRequest): string | undefined => {
    const put = request.Put ?? request.PutRequest;
    if (put) return typeof put.Item?.entity === 'string' ? put.Item.entity : 'other';
    if (request.Update) return 'update';
    if (request.Delete ?? request.DeleteRequest) return 'delete';
    return undefined; // a ConditionCheck writes nothing
  };
  if (command === 'PutItemCommand') return [kind({ Put: input as WriteRequest['Put'] }) ?? ''];
  if (command === 'UpdateItemCommand') return ['update'];
  if (command === 'DeleteItemCommand') return ['delete'];
  const requests =
    command === 'TransactWriteItemsCommand'
      ? ((input.TransactItems ?? []) as WriteRequest[])
      : command === 'BatchWriteItemCommand'
        ? Object.values((input.RequestItems ?? {}) as Record<string, WriteRequest[]>).flat()
        : [];
  return requests.map(kind).filter((k): k is string => k !== undefined);
}

/** A document client on a fresh table of a running DynamoDB Local, with its call statistics. */
export interface BenchTable {
  endpoint: string;
  tableName: string;
  client: ReturnType<typeof createDocumentClient>;
  stats: CallStats;
}

/** Creates a table with a unique name and a counting client for it. */
export async function benchTable(endpoint: string): Promise<BenchTable> {
  const tableName = `bench-${randomUUID()}`;
  await ensureTable(endpoint, tableName);
  const client = createDocumentClient({ endpoint, ...LOCAL_AWS });
  const stats = new CallStats();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'INDEXES';
      stats.calls.set(command, stats.get(command) + 1);
      stats.writeRequests += itemWrites(command, input);
      for (const kind of writeKinds(command, input))
        stats.writesByEntity.set(kind, (stats.writesByEntity.get(kind) ?? 0) + 1);
      if (command === 'TransactWriteItemsCommand')
        stats.transactionItems += itemWrites(command, input);
      const started = performance.now();
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] })
          .ConsumedCapacity;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
          const units = c.CapacityUnits ?? 0;
          if (itemWrites(command, input) > 0) {
            stats.writeUnits += c.WriteCapacityUnits ?? units;
            const add = (where: string, u: Units | undefined) => {
              const n = u?.WriteCapacityUnits ?? u?.CapacityUnits ?? 0;
              if (n > 0) stats.writeUnitsBy.set(where, (stats.writeUnitsBy.get(where) ?? 0) + n);
            };
            add('table', c.Table);
            for (const [index, u] of Object.entries(c.GlobalSecondaryIndexes ?? {})) add(index, u);
          } else stats.readUnits += c.ReadCapacityUnits ?? units;
        }
        return result;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ConditionalCheckFailedException') stats.conditionFailures++;
        if (name === 'TransactionCanceledException') stats.transactionCancellations++;
        throw error;
      } finally {
        stats.totalMs += performance.now() - started;
      }
    },
    { step: 'initialize', name: 'benchCountCalls' },
  );
  return { endpoint, tableName, client, stats };
}

/** Increasing, realistic Kinesis sequence numbers for one shard. */
export class ShardSequence {
  private next = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;
  constructor(readonly shardId = 'shardId-000000000000') {}
  take(): string {
    this.next += 1_000_000_000n;
    return this.next.toString();
  }
}

/** Builds the Kinesis event Lambda would deliver for one shard of the stream. */
export function kinesisEvent(
  records: readonly unknown[],
  shard: ShardSequence,
  options: { streamName?: string; arrivalTime?: number } = {},
): KinesisStreamEvent {
  const streamName = options.streamName ?? BENCH_STREAM;
  const arrival = (options.arrivalTime ?? Date.parse('2025-01-15T12:00:00Z')) / 1000;
  // Through JSON, as the Lambda runtime hands the handler its event: every string is flat text
  // (strings built here with templates would be joined lazily, inside the timed handler).
  return jsonRoundTrip({
    Records: records.map((data) => {
      const sequenceNumber = shard.take();
      return {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'pk',
          sequenceNumber,
          data: Buffer.from(JSON.stringify(data)).toString('base64'),
          approximateArrivalTimestamp: arrival,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shard.shardId}:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/bench',
        awsRegion: 'us-east-1',
        eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      };
    }),
  });
}

function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Only what every consumer of the stream must do: base64 and JSON.parse of each record. */
export function decodeOnly(event: KinesisStreamEvent): number {
  let checksum = 0;
  for (const record of event.Records) {
    const parsed = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as {
      userId?: string;
    };
    checksum += parsed.userId?.length ?? 0;
  }
  return checksum;
}

/** A usage record of the bench: value in tenths so the expected total is exact. */
export function usageRecord(userId: string, tenths: number, eventId?: string) {
  return {
    userId,
    value: tenths / 10,
    timestamp: '2025-01-15T11:00:00Z',
    ...(eventId === undefined ? {} : { eventId }),
  };
}

export const BENCH_NOW = new Date('2025-01-15T12:00:00.000Z');
export const METERS_CREATED_AT = new Date('2025-01-10T00:00:00.000Z');
const MONTHLY = { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' };

/** The real ingest handler and period-end wiring on a DynamoDB Local table. */
export function dynamoIngest(
  table: BenchTable,
  streams: StreamConfig[],
  now = () => BENCH_NOW,
  options: { logFailure?: IngestFailureLog } = {},
) {
  const { client, tableName } = table;
  const meterTypes = new DynamoDbMeterTypeStore(client, tableName);
  const meters = new DynamoDbMeterStore(client, tableName);
  const scheduler = new InMemoryPeriodEndScheduler();
  const publisher = new InMemoryRecordPublisher();
  const meterType = async (id: string) => (await meterTypes.get(id))?.meterType;
  const handler = createIngestHandler({
    store: new DynamoDbIngestStore(client, tableName),
    corrections: new DynamoDbDataCorrectionStore(client, tableName),
    meterType,
    now,
    streams,
    metrics: new InMemoryIngestMetrics(),
    logFailure: options.logFailure ?? logFailure,
  });
  const history = new DynamoDbRecordHistory(client, tableName, 400);
  const periodEnd: PeriodEndDeps = {
    store: new DynamoDbPeriodEndStore(client, tableName),
    publisher,
    history,
    scheduler,
    meterType,
    streams,
    now,
  };

  /** Creates one meter type and a meter for each user; returns the meter ids by user. */
  async function createMeters(
    userIds: readonly string[],
    options: { type?: Record<string, unknown>; createdAt?: Date; concurrency?: number } = {},
  ): Promise<Map<string, string>> {
    const createdAt = options.createdAt ?? METERS_CREATED_AT;
    const deps = {
      meterTypes,
      meters,
      scheduler,
      now: () => createdAt,
      newId: randomUUID,
      streams,
    };
    const type = await createMeterType(deps, {
      name: `bench-type-${randomUUID()}`,
      unit: 'units',
      aggregation: { type: 'sum' },
      resetSchedule: MONTHLY,
      ...options.type,
    });
    const ids = new Map<string, string>();
    await forEachLimited(userIds, options.concurrency ?? 4, async (userId) => {
      const meter = await createMeter(deps, {
        meterKey: streams[0]?.meterKey,
        meterTypeId: type.id,
        userId,
      });
      ids.set(userId, meter.id);
    });
    return ids;
  }

  // Totals are checked as the API shows them.
  const meterViews = {
    get: async (id: string) => {
      const state = await meters.get(id);
      return state && meterViewOf(state);
    },
  };
  return {
    handler,
    meters: meterViews,
    meterTypes,
    scheduler,
    publisher,
    periodEnd,
    createMeters,
  };
}

/** The real ingest handler on the in-memory fakes (deep-frozen states with `guardMutation`). */
export function memoryIngest(
  streams: StreamConfig[],
  options: { now?: () => Date; guardMutation?: boolean; versions?: StreamVersions } = {},
) {
  const now = options.now ?? (() => BENCH_NOW);
  const store = new InMemoryIngestStore({ guardMutation: options.guardMutation ?? false });
  const corrections = new InMemoryDataCorrectionStore();
  const types = new Map<string, ReturnType<typeof newMeterType>>();
  const metrics = new InMemoryIngestMetrics();
  const handler = createIngestHandler({
    store,
    corrections,
    meterType: async (id) => types.get(id),
    now,
    streams,
    ...(options.versions ? { versions: options.versions } : {}),
    metrics,
    logFailure,
  });

  function createMeters(userIds: readonly string[], createdAt = METERS_CREATED_AT) {
    const type = newMeterType(
      randomUUID(),
      parseOrThrow(meterTypeCreateSchema, {
        name: `bench-type-${randomUUID()}`,
        unit: 'units',
        aggregation: { type: 'sum' },
        resetSchedule: MONTHLY,
      }),
      createdAt,
    );
    types.set(type.id, type);
    const ids = new Map<string, string>();
    for (const userId of userIds) {
      const body = parseOrThrow(meterCreateSchema, {
        meterKey: streams[0]?.meterKey,
        meterTypeId: type.id,
        userId,
      });
      ids.set(userId, store.add(newMeter(randomUUID(), body, type, createdAt)).id);
    }
    return ids;
  }

  return { handler, store, corrections, metrics, createMeters };
}

/** Milliseconds of `work`, with the process CPU time it took (µs of user + system). */
export async function timed<T>(work: () => Promise<T>) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { result, ms, cpuMicros: used.user + used.system };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
