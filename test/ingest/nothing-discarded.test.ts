/**
 * Nothing discarded (DESIGN.md 2.7): the event-source mapping retries a failing batch forever,
 * so a shard waits out an outage of DynamoDB instead of dropping records. Driven through the
 * local mapping (its default retry rules, a short back-off): a shard's batches fail far more
 * often than the old limit of 10 retries while the store keeps failing in different ways, then
 * the store recovers and every record is counted exactly once, or is in data correction
 * exactly once; and every failure was logged with its cause and counted.
 */
import { createServer } from 'node:net';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../../shared/adapters/dynamodb/ingest-store.js';
import { LOCAL_AWS } from '../../shared/local/dynamodb-local.js';
import {
  createLocalKinesisClient,
  ensureStream,
  type LocalKinesis,
  startLocalKinesis,
} from '../../shared/local/kinesis-local.js';
import { KinesisEventSourcePoller } from '../../shared/local/kinesis-poller.js';
import type { DataCorrection } from '../../shared/ports/data-correction-store.js';
import type { ShardUsageWrite } from '../../shared/ports/usage-writer.js';
import { ingestUnderTest, streamConfig } from '../support/ingest.js';

let kinesis: LocalKinesis;
let client: KinesisClient;
let unreachableEndpoint: string;

beforeAll(async () => {
  kinesis = await startLocalKinesis({ port: 0 });
  client = createLocalKinesisClient(kinesis.endpoint);
  unreachableEndpoint = `http://127.0.0.1:${await closedPort()}`;
});

afterAll(async () => {
  client?.destroy();
  await kinesis?.stop();
});

/** A local port nothing listens on: a connection is refused at once, as by a DynamoDB that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** What the outage does to one store call. */
type Effect = 'pass' | 'unreachable' | 'response-lost';

interface Call {
  method: string;
  args: unknown[];
}

/**
 * Routes each call of the ingest and data-correction stores to DynamoDB Local, or, as the
 * outage says, to the same store on an unreachable endpoint (the SDK's own connection error),
 * or to DynamoDB Local with its response lost on the way back (the write is done).
 */
function behindOutage(effectOf: (call: Call) => Effect) {
  const unreachable = createDocumentClient({
    endpoint: unreachableEndpoint,
    ...LOCAL_AWS,
    maxAttempts: 1,
  });
  const twinOf = (store: object): object | undefined => {
    if (store instanceof DynamoDbIngestStore) return new DynamoDbIngestStore(unreachable, 'down');
    if (store instanceof DynamoDbDataCorrectionStore)
      return new DynamoDbDataCorrectionStore(unreachable, 'down');
    return undefined;
  };
  return <T extends object>(store: T): T => {
    const twin = twinOf(store);
    if (!twin) return store;
    return new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const effect = effectOf({ method: String(property), args });
          if (effect === 'unreachable') return Reflect.get(twin, property).apply(twin, args);
          const result = await value.apply(target, args);
          if (effect === 'response-lost') throw responseLost();
          return result;
        };
      },
    });
  };
}

/** What the SDK throws when the connection drops after DynamoDB took the request. */
function responseLost(): Error {
  return Object.assign(new Error('socket hang up'), {
    code: 'ECONNRESET',
    $metadata: { attempts: 1, totalRetryDelay: 0 },
  });
}

/** The error and its causes. */
function causesOf(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 10; e = (e as { cause?: unknown }).cause)
    chain.push(e);
  return chain;
}

const writesMeter = (call: Call, meterId: string) =>
  call.method === 'writeShardUsage' && (call.args[0] as ShardUsageWrite).meter.id === meterId;

/** The user of record `i` of a round: four users with meters, a bad record, one without. */
const USERS = ['a', 'b', 'c', 'a', 'invalid', 'nobody'] as const;

interface Sent {
  round: number;
  i: number;
  userId: (typeof USERS)[number];
  value: number;
  eventId: string;
  sequenceNumber: string;
}

/** Puts one round of records on the stream's only shard, in order. */
async function putRound(streamName: string, round: number, count: number): Promise<Sent[]> {
  const items = Array.from({ length: count }, (_, i) => {
    const userId = USERS[i % USERS.length] as (typeof USERS)[number];
    return { round, i, userId, value: round * 100 + i + 1, eventId: `e-${round}-${i}` };
  });
  const output = await client.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: items.map((item) => ({
        PartitionKey: 'one-shard',
        Data: Buffer.from(
          item.userId === 'invalid'
            ? `{"userId":"a","value":${item.value}`
            : JSON.stringify({
                userId: item.userId,
                value: item.value,
                eventId: item.eventId,
                timestamp: '2025-01-15T10:00:00Z',
              }),
        ),
      })),
    }),
  );
  return items.map((item, i) => {
    const record = output.Records?.[i];
    expect(record?.ErrorCode).toBeUndefined();
    return { ...item, sequenceNumber: record?.SequenceNumber ?? '' };
  });
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function allCorrections(
  t: Awaited<ReturnType<typeof ingestUnderTest>>,
): Promise<DataCorrection[]> {
  const items: DataCorrection[] = [];
  let nextToken: string | undefined;
  do {
    const page = await t.corrections.list({}, 100, nextToken);
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

describe('ingestion: nothing discarded while DynamoDB fails', () => {
  it.each([false, true])(
    'a shard waits out 40 failed attempts and then counts every record exactly once (de-duplication %s)',
    async (dedup) => {
      // A stream of its own: the poller reads it from the start.
      const streamName = `usage-dedup-${dedup}`;
      await ensureStream(client, streamName, 1);
      const meterIds = { a1: '', a2: '', b: '', c: '' };
      let invocation = 0;
      // The outage, invocation by invocation; from the 41st on, DynamoDB is back.
      const effectOf = (call: Call): Effect => {
        const n = invocation;
        // DynamoDB unreachable altogether: the correction look-up fails first.
        if (n <= 8) return 'unreachable';
        // Meter reads fail.
        if (n <= 16) return call.method === 'loadMeters' ? 'unreachable' : 'pass';
        // Meter updates: a2's lands but its response is lost (a1 and c are updated meanwhile); b's never lands.
        if (n <= 24) {
          if (writesMeter(call, meterIds.a2)) return 'response-lost';
          return writesMeter(call, meterIds.b) ? 'unreachable' : 'pass';
        }
        // Correction look-ups and puts fail, and b's meter still cannot be updated.
        if (n <= 32) {
          const fails =
            call.method === 'existingIds' ||
            call.method === 'putAll' ||
            writesMeter(call, meterIds.b);
          return fails ? 'unreachable' : 'pass';
        }
        // The high-water mark is raised but the corrections' puts fail; c's meters cannot be read.
        if (n <= 40) {
          const fails =
            call.method === 'putAll' || (call.method === 'loadMeters' && call.args[1] === 'c');
          return fails ? 'unreachable' : 'pass';
        }
        return 'pass';
      };
      const t = await ingestUnderTest(
        streamConfig({ name: streamName, deduplication: { enabled: dedup, windowHours: 24 } }),
        { wrap: behindOutage(effectOf) },
      );
      const a = await t.meterFor('a');
      const a2 = await t.meterFor('a', { aggregation: { type: 'increment' } });
      meterIds.a1 = a.meter.id;
      meterIds.a2 = a2.meter.id;
      meterIds.b = (await t.meterFor('b')).meter.id;
      meterIds.c = (await t.meterFor('c')).meter.id;

      const failedAttempts = new Map<string, number>();
      const discarded: unknown[] = [];
      const poller = new KinesisEventSourcePoller({
        client,
        streamName,
        handler: async (event: KinesisStreamEvent) => {
          invocation++;
          const response = await t.handler(event);
          if (response.batchItemFailures.length > 0) {
            const head = event.Records[0]?.kinesis.sequenceNumber ?? '';
            failedAttempts.set(head, (failedAttempts.get(head) ?? 0) + 1);
          }
          return response;
        },
        batchSize: 25,
        pollIntervalMs: 20,
        retryDelayMs: 2,
        maxRetryDelayMs: 20,
        onDiscard: (records) => discarded.push(...records),
      });
      const sent = await putRound(streamName, 1, 30);
      poller.start();
      try {
        // More records arrive while the shard waits.
        await waitFor(() => invocation >= 12, 'the 12th invocation');
        sent.push(...(await putRound(streamName, 2, 30)));
        await waitFor(() => invocation >= 30, 'the 30th invocation');
        sent.push(...(await putRound(streamName, 3, 18)));
        await poller.idle({ timeoutMs: 30_000 });
      } finally {
        await poller.stop();
      }

      // The shard waited: one record led more failed attempts than the old limit allowed.
      const failed = [...failedAttempts.values()].reduce((sum, n) => sum + n, 0);
      expect(failed).toBeGreaterThanOrEqual(40);
      expect(Math.max(...failedAttempts.values())).toBeGreaterThan(10);
      expect(discarded).toEqual([]);

      // Every valid record counted once by each meter of its user...
      const valid = (userId: string) => sent.filter((record) => record.userId === userId);
      const sum = (records: Sent[]) => records.reduce((total, record) => total + record.value, 0);
      const expected = [
        [meterIds.a1, sum(valid('a')), valid('a').length],
        [meterIds.a2, valid('a').length, valid('a').length],
        [meterIds.b, sum(valid('b')), valid('b').length],
        [meterIds.c, sum(valid('c')), valid('c').length],
      ] as const;
      for (const [meterId, value, count] of expected) {
        const view = await t.meters.get(meterId);
        expect([view?.value, view?.meterMetaData.recordCount], meterId).toEqual([value, count]);
      }
      // ...and every other record in data correction exactly once, with its reason: none in
      // both, none lost.
      const corrections = await allCorrections(t);
      const notMetered = sent.filter((r) => r.userId === 'invalid' || r.userId === 'nobody');
      expect(
        corrections.map((c) => [c.sequenceNumber, c.reason]).sort(),
        'data correction',
      ).toEqual(
        notMetered
          .map((r) => [r.sequenceNumber, r.userId === 'invalid' ? 'INVALID_RECORD' : 'NO_METER'])
          .sort(),
      );
      expect(valid('a').length + valid('b').length + valid('c').length + corrections.length).toBe(
        sent.length,
      );

      // Every failure was seen: logged at its stage with its cause, and counted.
      const stages = new Set(t.failureLog.map((entry) => entry.details.stage));
      expect([...stages].sort()).toEqual(['correction-lookup', 'meter', 'store-corrections']);
      for (const { details } of t.failureLog) {
        expect(details).toMatchObject({ streamName, shardId: 'shardId-000000000000' });
        const codes = causesOf(details.error).map((e) => (e as { code?: string }).code);
        expect(codes.some((code) => code === 'ECONNREFUSED' || code === 'ECONNRESET')).toBe(true);
      }
      const logged = t.failureLog.reduce((total, entry) => total + entry.details.records, 0);
      expect(t.metrics.total('failed')).toBe(logged);
      expect(t.metrics.batches.filter((batch) => batch.counts.failed > 0)).toHaveLength(failed);
      expect(t.metrics.batches).toHaveLength(invocation);
    },
    60_000,
  );
});
