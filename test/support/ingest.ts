/** A harness for ingestion: DynamoDB Local, the real stores, and Kinesis events built by hand. */
import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../../shared/adapters/dynamodb/ingest-store.js';
import { DynamoDbMeterStore } from '../../shared/adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../../shared/adapters/dynamodb/meter-type-store.js';
import { DynamoDbPeriodEndStore } from '../../shared/adapters/dynamodb/period-end-store.js';
import { DynamoDbRecordHistory } from '../../shared/adapters/dynamodb/record-history.js';
import { DynamoDbStreamProcessorStore } from '../../shared/adapters/dynamodb/stream-processor-store.js';
import { InMemoryIngestMetrics } from '../../shared/adapters/in-memory/ingest-metrics.js';
import { InMemoryPeriodEndScheduler } from '../../shared/adapters/in-memory/period-end-scheduler.js';
import { InMemoryRecordPublisher } from '../../shared/adapters/in-memory/record-publisher.js';
import {
  createIngestHandler,
  type IngestFailureDetails,
} from '../../shared/adapters/kinesis-ingest-handler.js';
import type { IngestStore } from '../../shared/application/ingest.js';
import { createMeterType } from '../../shared/application/meter-types.js';
import { createMeter } from '../../shared/application/meters.js';
import {
  flushMeter,
  type PeriodEndDeps,
  sweepDueMeters,
} from '../../shared/application/period-end.js';
import { StreamVersions } from '../../shared/application/stream-versions.js';
import { parseStreamsConfig, type StreamsConfigInput } from '../../shared/config/streams.js';
import type { MeterState } from '../../shared/domain/meter-usage.js';
import { meterViewOf } from '../../shared/domain/meter-view.js';
import { freshTable } from './dynamodb.js';

export const STREAM = 'usage-events';

/** A stream configuration for tests: one catch-all rule unless overridden. */
export function streamConfig(overrides: Record<string, unknown> = {}): StreamsConfigInput {
  return [
    {
      name: STREAM,
      meterKey: 'k',
      guidingRules: [{ name: 'all', category: 'DEFAULT' }],
      ...overrides,
    },
  ] as StreamsConfigInput;
}

/** Counts DynamoDB calls by command name. */
export interface CallCounter {
  counts: Map<string, number>;
  get(command: string): number;
  reset(): void;
}

/** A failure injected into one store call. */
export type Fault = {
  method: keyof IngestStore;
  when: (args: unknown[]) => boolean;
  error?: Error;
  times?: number;
  /** Instead of failing, run this before the call goes through (e.g. a concurrent reset). */
  before?: () => Promise<void>;
};

/** The ingest store with faults: a call that matches throws (once, or `times` times). */
export class FaultyIngestStore implements IngestStore {
  faults: Fault[] = [];
  constructor(private readonly inner: IngestStore) {}
  private async check(method: keyof IngestStore, args: unknown[]) {
    const fault = this.faults.find(
      (f) => f.method === method && (f.times ?? 1) > 0 && f.when(args),
    );
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.before) return fault.before();
      throw fault.error ?? new Error(`injected fault in ${method}`);
    }
  }
  loadMeters: IngestStore['loadMeters'] = async (...args) => {
    await this.check('loadMeters', args);
    return this.inner.loadMeters(...args);
  };
  writeShardUsage: IngestStore['writeShardUsage'] = async (...args) => {
    await this.check('writeShardUsage', args);
    return this.inner.writeShardUsage(...args);
  };
  replaceMeter: IngestStore['replaceMeter'] = async (...args) => {
    await this.check('replaceMeter', args);
    return this.inner.replaceMeter(...args);
  };
  addThresholdRecords: IngestStore['addThresholdRecords'] = async (...args) => {
    await this.check('addThresholdRecords', args);
    return this.inner.addThresholdRecords(...args);
  };
  claimEvent: IngestStore['claimEvent'] = async (...args) => {
    await this.check('claimEvent', args);
    return this.inner.claimEvent(...args);
  };
  takeOverClaim: IngestStore['takeOverClaim'] = async (...args) => {
    await this.check('takeOverClaim', args);
    return this.inner.takeOverClaim(...args);
  };
  releaseClaim: IngestStore['releaseClaim'] = async (...args) => {
    await this.check('releaseClaim', args);
    return this.inner.releaseClaim(...args);
  };
  heldUniqueClaims: IngestStore['heldUniqueClaims'] = async (...args) => {
    await this.check('heldUniqueClaims', args);
    return this.inner.heldUniqueClaims(...args);
  };
  replaceMeterClaiming: IngestStore['replaceMeterClaiming'] = async (...args) => {
    await this.check('replaceMeterClaiming', args);
    return this.inner.replaceMeterClaiming(...args);
  };
}

let sequence = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;

/** A realistic, increasing Kinesis sequence number. */
export function nextSequenceNumber(): string {
  sequence += 1_000_000_000n;
  return sequence.toString();
}

export interface TestRecord {
  data: unknown;
  /** Raw bytes instead of JSON of `data`. */
  raw?: string;
  sequenceNumber?: string;
  arrivalTime?: number;
  partitionKey?: string;
}

/** Builds the Kinesis event Lambda would deliver for one shard. */
export function kinesisEvent(
  records: TestRecord[],
  shardId = 'shardId-000000000000',
  streamName = STREAM,
): KinesisStreamEvent {
  return {
    Records: records.map((record) => {
      const sequenceNumber = record.sequenceNumber ?? nextSequenceNumber();
      record.sequenceNumber = sequenceNumber;
      const bytes =
        record.raw !== undefined
          ? Buffer.from(record.raw, 'utf8')
          : Buffer.from(JSON.stringify(record.data));
      return {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: record.partitionKey ?? 'pk',
          sequenceNumber,
          data: bytes.toString('base64'),
          approximateArrivalTimestamp:
            (record.arrivalTime ?? Date.parse('2025-01-15T12:00:00Z')) / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
        awsRegion: 'us-east-1',
        eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      };
    }),
  };
}

/** Everything a test of ingestion needs, on a fresh table. */
export async function ingestUnderTest(
  config: StreamsConfigInput = streamConfig(),
  options: {
    wrap?: <T extends object>(store: T) => T;
    /**
     * Route by the stored processors and pin versions to stream positions, as deployed code
     * does, re-reading the current version after `refreshMs` (0: on every batch).
     */
    versions?: { refreshMs: number };
  } = {},
) {
  const wrap = options.wrap ?? (<T extends object>(store: T) => store);
  const table = await freshTable();
  const counter: CallCounter = {
    counts: new Map(),
    get: (command) => counter.counts.get(command) ?? 0,
    reset: () => counter.counts.clear(),
  };
  table.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counter.counts.set(name, (counter.counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  const streams = parseStreamsConfig(config);
  const clock = { now: new Date('2025-01-15T12:00:00.000Z') };
  const meterTypes = new DynamoDbMeterTypeStore(table.client, table.tableName);
  const meterStore = new DynamoDbMeterStore(table.client, table.tableName);
  // Meters as the API shows them (GET /meters/{id}), with the store's update and retire.
  const meters = {
    get: async (id: string) => {
      const state = await meterStore.get(id);
      return state && meterViewOf(state);
    },
    update: meterStore.update.bind(meterStore),
    retire: meterStore.retire.bind(meterStore),
  };
  const store = new FaultyIngestStore(wrap(new DynamoDbIngestStore(table.client, table.tableName)));
  const corrections = wrap(new DynamoDbDataCorrectionStore(table.client, table.tableName));
  const metrics = new InMemoryIngestMetrics();
  // What the handler logged about infrastructure failures, in order.
  const failureLog: { message: string; details: IngestFailureDetails }[] = [];
  const scheduler = new InMemoryPeriodEndScheduler();
  const publisher = new InMemoryRecordPublisher();
  const periodEndStore = new DynamoDbPeriodEndStore(table.client, table.tableName);
  const history = new DynamoDbRecordHistory(table.client, table.tableName, 400);
  const periodEnd: PeriodEndDeps = {
    store: wrap(periodEndStore),
    publisher,
    history: wrap(history),
    scheduler,
    meterType: async (id) => (await meterTypes.get(id))?.meterType,
    streams,
    now: () => clock.now,
  };
  const apiDeps = {
    meterTypes,
    meters: meterStore,
    scheduler,
    now: () => clock.now,
    newId: randomUUID,
    streams,
  };
  const processors = new DynamoDbStreamProcessorStore(table.client, table.tableName);
  const versionDeps = {
    processors: wrap(processors),
    pins: wrap(processors),
    deployed: streams,
    now: () => clock.now,
  };
  const versions =
    options.versions &&
    new StreamVersions({ ...versionDeps, refreshMs: options.versions.refreshMs });
  if (versions) {
    // A closing period keeps the carry fields of the stream's current version, as deployed.
    periodEnd.carryFields = async (meterKey) => {
      const stream = streams.find((s) => s.meterKey === meterKey);
      return stream && (await versions.current(stream.name)).configuration;
    };
  }
  const handler = createIngestHandler({
    store,
    corrections,
    meterType: async (id) => (await meterTypes.get(id))?.meterType,
    now: () => clock.now,
    streams,
    ...(versions ? { versions } : {}),
    metrics,
    logFailure: (message, details) => failureLog.push({ message, details }),
  });

  /** Creates a meter type and a meter for a user; the meter is created at `createdAt`. */
  async function meterFor(
    userId: string,
    type: Record<string, unknown> = {},
    createdAt = new Date('2025-01-10T00:00:00.000Z'),
  ) {
    const deps = { ...apiDeps, now: () => createdAt };
    const meterType = await createMeterType(deps, {
      name: `type-${randomUUID()}`,
      unit: 'units',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
      ...type,
    });
    const meter = await createMeter(deps, {
      meterKey: streams[0]?.meterKey,
      meterTypeId: meterType.id,
      userId,
    });
    return { meterType, meter };
  }

  /** The stored state of a meter (live or retired), strongly consistent. */
  async function state(meterId: string): Promise<MeterState> {
    const view = await meters.get(meterId);
    if (!view) throw new Error(`meter ${meterId} not found`);
    const all = await store.loadMeters(view.meterKey, view.userId);
    const found = all.find((m) => m.id === meterId);
    if (!found) throw new Error(`meter ${meterId} not in its partition`);
    return found;
  }

  return {
    table,
    counter,
    streams,
    /** The stored processors (unwrapped: saving a version never crashes). */
    processors,
    versionDeps,
    clock,
    meterTypes,
    meters,
    store,
    corrections,
    metrics,
    failureLog,
    handler,
    meterFor,
    state,
    apiDeps,
    scheduler,
    publisher,
    history,
    periodEnd,
    periodEndStore,
    flush: (meterId: string) => flushMeter(periodEnd, meterId),
    sweep: () => sweepDueMeters(periodEnd),
  };
}
