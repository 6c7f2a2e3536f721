/**
 * The local Kinesis event source mapping against kinesalite: ordering, batching, partial
 * batch responses, bisection, retries (forever by default, backing off; discards only when
 * bounded), shard discovery and a clean stop.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalKinesisClient,
  ensureStream,
  type LocalKinesis,
  startLocalKinesis,
} from '../../shared/local/kinesis-local.js';
import {
  type DiscardDetails,
  KinesisEventSourcePoller,
  type KinesisEventSourcePollerOptions,
  PollerIdleTimeoutError,
} from '../../shared/local/kinesis-poller.js';

let kinesis: LocalKinesis;
let client: KinesisClient;
const pollers: KinesisEventSourcePoller[] = [];

beforeAll(async () => {
  kinesis = await startLocalKinesis({ port: 0 });
  client = createLocalKinesisClient(kinesis.endpoint);
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  client?.destroy();
  await kinesis?.stop();
});

interface PutRecord {
  shardId: string;
  sequenceNumber: string;
  data: string;
}

async function newStream(shardCount: number): Promise<string> {
  const streamName = `test-${randomUUID()}`;
  await ensureStream(client, streamName, shardCount);
  return streamName;
}

async function shardIds(streamName: string): Promise<string[]> {
  const { Shards } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  return (Shards ?? []).map((shard) => shard.ShardId ?? '');
}

/** Puts records in order; `shard` picks the shard (index in ListShards) through its hash range. */
async function put(
  streamName: string,
  items: { data: string; partitionKey?: string; shard?: number }[],
): Promise<PutRecord[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const open = Shards.filter(
    (shard) => shard.SequenceNumberRange?.EndingSequenceNumber === undefined,
  );
  const output = await client.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: items.map((item) => ({
        Data: Buffer.from(item.data),
        PartitionKey: item.partitionKey ?? randomUUID(),
        ExplicitHashKey:
          item.shard === undefined ? undefined : open[item.shard]?.HashKeyRange?.StartingHashKey,
      })),
    }),
  );
  return (output.Records ?? []).map((record, i) => {
    expect(record.ErrorCode).toBeUndefined();
    return {
      shardId: record.ShardId ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: items[i]?.data ?? '',
    };
  });
}

function startPoller(
  options: Omit<KinesisEventSourcePollerOptions, 'client'>,
): KinesisEventSourcePoller {
  const poller = new KinesisEventSourcePoller({ client, pollIntervalMs: 50, ...options });
  pollers.push(poller);
  poller.start();
  return poller;
}

function decode(record: KinesisStreamRecord): string {
  return Buffer.from(record.kinesis.data, 'base64').toString('utf8');
}

function range(count: number, prefix = 'r'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

/** Records of all batches, with the batch each came in. */
function recorder() {
  const batches: KinesisStreamRecord[][] = [];
  return {
    batches,
    sizes: () => batches.map((batch) => batch.length),
    data: () => batches.flat().map(decode),
    handler: async (event: KinesisStreamEvent) => {
      batches.push(event.Records);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KinesisEventSourcePoller', () => {
  it('delivers every record once, per shard in sequence order, and resumes after a restart', async () => {
    const streamName = await newStream(2);
    const put1 = await put(
      streamName,
      range(30, 'a').map((data) => ({ data })),
    );
    const put2 = await put(
      streamName,
      range(30, 'b').map((data) => ({ data })),
    );
    const seen = recorder();
    const poller = startPoller({ streamName, handler: seen.handler });
    await poller.idle();

    const delivered = seen.batches.flat();
    expect(delivered.map(decode).sort()).toEqual([...put1, ...put2].map((r) => r.data).sort());
    for (const shardId of await shardIds(streamName)) {
      const expected = [...put1, ...put2].filter((r) => r.shardId === shardId);
      const got = delivered.filter((r) => r.eventID.startsWith(`${shardId}:`));
      expect(got.map((r) => r.kinesis.sequenceNumber)).toEqual(
        expected.map((r) => r.sequenceNumber),
      );
      expect(got.map(decode)).toEqual(expected.map((r) => r.data));
    }
    // Each batch holds one shard's records, in increasing sequence order.
    for (const batch of seen.batches) {
      const shards = new Set(batch.map((r) => r.eventID.split(':')[0]));
      expect(shards.size).toBe(1);
      const seqs = batch.map((r) => BigInt(r.kinesis.sequenceNumber));
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }

    await poller.stop();
    const put3 = await put(
      streamName,
      range(5, 'c').map((data) => ({ data })),
    );
    poller.start();
    await poller.idle();
    expect(
      seen
        .data()
        .filter((d) => d.startsWith('c'))
        .sort(),
    ).toEqual(put3.map((r) => r.data).sort());
    expect(seen.data()).toHaveLength(65);
  });

  it('hands the handler an event shaped like Lambda’s KinesisStreamEvent', async () => {
    const streamName = await newStream(1);
    const before = Date.now();
    const [record] = await put(streamName, [{ data: '{"meterKey":"k1"}', partitionKey: 'user-1' }]);
    const after = Date.now();
    const seen = recorder();
    const poller = startPoller({ streamName, handler: seen.handler });
    await poller.idle();

    expect(seen.batches).toHaveLength(1);
    const [event] = seen.batches;
    expect(event).toStrictEqual([
      {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'user-1',
          sequenceNumber: record?.sequenceNumber,
          data: Buffer.from('{"meterKey":"k1"}').toString('base64'),
          approximateArrivalTimestamp: expect.any(Number),
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${record?.shardId}:${record?.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: expect.stringMatching(/^arn:aws:iam::000000000000:role\//),
        awsRegion: 'us-east-1',
        eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      },
    ]);
    const arrival = event?.[0]?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(arrival).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 1);
    expect(arrival).toBeLessThanOrEqual(after / 1000 + 1);
  });

  it('respects batchSize', async () => {
    const streamName = await newStream(1);
    await put(
      streamName,
      range(25).map((data) => ({ data })),
    );
    const seen = recorder();
    const poller = startPoller({ streamName, handler: seen.handler, batchSize: 10 });
    await poller.idle();
    expect(seen.sizes()).toEqual([10, 10, 5]);
    expect(seen.data()).toEqual(range(25));
  });

  it('waits up to batchWindowMs to fill a batch, and no longer than needed when it is full', async () => {
    const streamName = await newStream(1);
    const seen = recorder();
    const poller = startPoller({
      streamName,
      handler: seen.handler,
      batchSize: 10,
      batchWindowMs: 1_000,
    });
    await poller.idle();
    const firstPut = Date.now();
    await put(
      streamName,
      range(3, 'a').map((data) => ({ data })),
    );
    await sleep(150);
    await put(
      streamName,
      range(3, 'b').map((data) => ({ data })),
    );
    await poller.idle();
    expect(seen.sizes()).toEqual([6]);
    expect(Date.now() - firstPut).toBeGreaterThanOrEqual(1_000);

    const started = Date.now();
    await put(
      streamName,
      range(10, 'c').map((data) => ({ data })),
    );
    await poller.idle();
    expect(seen.sizes()).toEqual([6, 10]);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('starts at LATEST when asked', async () => {
    const streamName = await newStream(1);
    await put(streamName, [{ data: 'old' }]);
    const seen = recorder();
    const poller = startPoller({ streamName, handler: seen.handler, startingPosition: 'LATEST' });
    await poller.idle();
    await put(streamName, [{ data: 'new' }]);
    await poller.idle();
    expect(seen.data()).toEqual(['new']);
  });

  it('retries from the lowest batchItemFailure; earlier records are not redelivered, later ones may join', async () => {
    const streamName = await newStream(1);
    const records = await put(
      streamName,
      range(10).map((data) => ({ data })),
    );
    const batches: string[][] = [];
    const poller = startPoller({
      streamName,
      batchSize: 20,
      handler: async (event) => {
        batches.push(event.Records.map(decode));
        if (batches.length > 1) return { batchItemFailures: [] };
        // Arrives while the batch is in flight: the retry batch, read from the checkpoint, has it.
        await put(streamName, [{ data: 'late' }]);
        return {
          batchItemFailures: [
            { itemIdentifier: records[7]?.sequenceNumber ?? '' },
            { itemIdentifier: records[4]?.sequenceNumber ?? '' },
          ],
        };
      },
    });
    await poller.idle();
    expect(batches).toEqual([range(10), [...range(10).slice(4), 'late']]);
  });

  it('treats an unknown or empty itemIdentifier as a failure of the whole batch', async () => {
    const streamName = await newStream(1);
    await put(
      streamName,
      range(4).map((data) => ({ data })),
    );
    const batches: string[][] = [];
    const errors: unknown[] = [];
    const poller = startPoller({
      streamName,
      bisectBatchOnError: false,
      onError: (err) => errors.push(err),
      handler: async (event) => {
        batches.push(event.Records.map(decode));
        if (batches.length === 1)
          return { batchItemFailures: [{ itemIdentifier: 'no-such-record' }] };
        if (batches.length === 2) return { batchItemFailures: [{ itemIdentifier: '' }] };
        return undefined;
      },
    });
    await poller.idle();
    expect(batches).toEqual([range(4), range(4), range(4)]);
    expect(errors.map((e) => (e as Error).name)).toEqual([
      'InvalidBatchResponseError',
      'InvalidBatchResponseError',
    ]);
  });

  it('bisects a batch whose invocation throws, and retries each half', async () => {
    const streamName = await newStream(1);
    await put(
      streamName,
      range(8).map((data) => ({ data })),
    );
    const batches: string[][] = [];
    const poller = startPoller({
      streamName,
      onError: () => {},
      handler: async (event) => {
        const data = event.Records.map(decode);
        batches.push(data);
        // r5 only goes through alone.
        if (data.includes('r5') && data.length > 1) throw new Error('poison in batch');
      },
    });
    await poller.idle();
    expect(batches.map((b) => b.length)).toEqual([8, 4, 4, 2, 1, 1, 2]);
    expect(batches).toEqual([
      range(8),
      ['r0', 'r1', 'r2', 'r3'],
      ['r4', 'r5', 'r6', 'r7'],
      ['r4', 'r5'],
      ['r4'],
      ['r5'],
      ['r6', 'r7'],
    ]);
  });

  it('without bisection retries the whole batch', async () => {
    const streamName = await newStream(1);
    await put(
      streamName,
      range(3).map((data) => ({ data })),
    );
    const batches: string[][] = [];
    const poller = startPoller({
      streamName,
      bisectBatchOnError: false,
      onError: () => {},
      handler: async (event) => {
        batches.push(event.Records.map(decode));
        if (batches.length < 3) throw new Error('transient');
      },
    });
    await poller.idle();
    expect(batches).toEqual([range(3), range(3), range(3)]);
  });

  it('by default retries a failing record forever, backing off up to maxRetryDelayMs: its shard waits, nothing is discarded', async () => {
    const streamName = await newStream(1);
    const records = await put(
      streamName,
      range(5).map((data) => ({ data })),
    );
    const batches: string[][] = [];
    const failedAt: number[] = [];
    const discarded: string[][] = [];
    let healthy = false;
    const poller = startPoller({
      streamName,
      retryDelayMs: 5,
      maxRetryDelayMs: 40,
      onDiscard: (dropped) => discarded.push(dropped.map(decode)),
      handler: async (event) => {
        const data = event.Records.map(decode);
        batches.push(data);
        if (healthy || !data.includes('r2')) return undefined;
        failedAt.push(Date.now());
        return { batchItemFailures: [{ itemIdentifier: records[2]?.sequenceNumber ?? '' }] };
      },
    });
    // The shard waits on r2: the stream is never drained while it fails.
    await expect(poller.idle({ timeoutMs: 1_500 })).rejects.toThrow(PollerIdleTimeoutError);
    const failures = failedAt.length;
    // Far beyond the old limit of 10 retries, yet no busy loop: about 1,500 ms / 40 ms.
    expect(failures).toBeGreaterThan(12);
    expect(failures).toBeLessThanOrEqual(45);
    // Each wait doubles from 5 ms and stops growing at 40 ms (timers never fire early).
    failedAt.slice(1).forEach((at, i) => {
      expect(at - (failedAt[i] as number)).toBeGreaterThanOrEqual(Math.min(5 * 2 ** i, 40) - 1);
    });
    // r3 and r4 wait behind r2: they come only in its retries, never on their own.
    expect(batches.slice(1).every((batch) => batch.join() === 'r2,r3,r4')).toBe(true);

    healthy = true;
    await poller.idle();
    expect(discarded).toEqual([]);
    expect(batches[0]).toEqual(range(5));
    expect(batches.at(-1)).toEqual(['r2', 'r3', 'r4']);
    expect(batches).toHaveLength(failures + 1);
  });

  it('with maxRetryAttempts, hands a record that always fails to onDiscard and moves on', async () => {
    const streamName = await newStream(1);
    const records = await put(
      streamName,
      range(5).map((data) => ({ data })),
    );
    const batches: string[][] = [];
    const discarded: { records: string[]; details: DiscardDetails }[] = [];
    const attempts: (number | undefined)[] = [];
    const poller = startPoller({
      streamName,
      maxRetryAttempts: 2,
      onError: (_err, context) => attempts.push(context.attempt),
      onDiscard: (dropped, details) => discarded.push({ records: dropped.map(decode), details }),
      handler: async (event) => {
        const data = event.Records.map(decode);
        batches.push(data);
        if (data.includes('r2')) throw new Error('r2 is bad');
      },
    });
    await poller.idle();

    expect(batches).toEqual([
      range(5),
      ['r0', 'r1', 'r2'],
      ['r0', 'r1'],
      ['r2'],
      ['r2'],
      ['r2'],
      ['r3', 'r4'],
    ]);
    expect(attempts).toEqual([1, 1, 1, 2, 3]);
    expect(discarded).toEqual([
      {
        records: ['r2'],
        details: {
          condition: 'RetryAttemptsExhausted',
          streamName,
          shardId: records[2]?.shardId,
          startSequenceNumber: records[2]?.sequenceNumber,
          endSequenceNumber: records[2]?.sequenceNumber,
          batchSize: 1,
          attempts: 3,
          lastError: expect.objectContaining({ message: 'r2 is bad' }),
        },
      },
    ]);
    // Delivered (successfully) once each, except the discarded one.
    const succeeded = batches.filter((b) => !b.includes('r2')).flat();
    expect(succeeded).toEqual(['r0', 'r1', 'r3', 'r4']);
  });

  it('with maxRetryAttempts, discards the retried batch when batchItemFailures keep naming the same record', async () => {
    const streamName = await newStream(1);
    const records = await put(
      streamName,
      range(5).map((data) => ({ data })),
    );
    const batches: string[][] = [];
    const discarded: string[][] = [];
    const poller = startPoller({
      streamName,
      maxRetryAttempts: 1,
      onDiscard: (dropped) => discarded.push(dropped.map(decode)),
      handler: async (event) => {
        batches.push(event.Records.map(decode));
        return { batchItemFailures: [{ itemIdentifier: records[2]?.sequenceNumber ?? '' }] };
      },
    });
    await poller.idle();
    // Like Lambda: the whole batch being retried goes to the on-failure destination.
    expect(batches).toEqual([range(5), ['r2', 'r3', 'r4']]);
    expect(discarded).toEqual([['r2', 'r3', 'r4']]);
  });

  it('works the shards in parallel, one batch per shard at a time, each in order', async () => {
    const streamName = await newStream(3);
    const items = [0, 1, 2].flatMap((shard) =>
      range(6, `s${shard}-`).map((data) => ({ data, shard })),
    );
    const records = await put(streamName, items);
    const inFlight = new Map<string, number>();
    let concurrent = 0;
    let maxConcurrent = 0;
    let maxPerShard = 0;
    const delivered = new Map<string, string[]>();
    const poller = startPoller({
      streamName,
      batchSize: 2,
      handler: async (event) => {
        const shardId = event.Records[0]?.eventID.split(':')[0] ?? '';
        inFlight.set(shardId, (inFlight.get(shardId) ?? 0) + 1);
        concurrent += 1;
        maxPerShard = Math.max(maxPerShard, inFlight.get(shardId) ?? 0);
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await sleep(40);
        delivered.set(shardId, [...(delivered.get(shardId) ?? []), ...event.Records.map(decode)]);
        concurrent -= 1;
        inFlight.set(shardId, (inFlight.get(shardId) ?? 0) - 1);
      },
    });
    await poller.idle();
    expect(maxPerShard).toBe(1);
    expect(maxConcurrent).toBeGreaterThanOrEqual(2);
    for (const shardId of await shardIds(streamName)) {
      expect(delivered.get(shardId)).toEqual(
        records.filter((r) => r.shardId === shardId).map((r) => r.data),
      );
    }
    expect(delivered.size).toBe(3);
  });

  it('picks up new shards and delivers a child’s records only after its parent’s', async () => {
    const streamName = await newStream(1);
    const [parent] = await shardIds(streamName);
    await put(
      streamName,
      range(3, 'parent-').map((data) => ({ data })),
    );
    await splitInTwo(streamName, parent ?? '');
    await put(streamName, [
      { data: 'child-0', shard: 0 },
      { data: 'child-1', shard: 1 },
    ]);
    const delivered: string[] = [];
    const poller = startPoller({
      streamName,
      batchSize: 1,
      handler: async (event) => {
        await sleep(20);
        delivered.push(...event.Records.map(decode));
      },
    });
    await poller.idle();
    expect(delivered.slice(0, 3)).toEqual(range(3, 'parent-'));
    expect(delivered.slice(3).sort()).toEqual(['child-0', 'child-1']);

    // A split while the poller runs: the new shards are found and read as well.
    const [child] = (await shardIds(streamName)).slice(-1);
    await splitInTwo(streamName, child ?? '', (2n ** 127n + 2n ** 126n).toString());
    await put(streamName, [{ data: 'grandchild', shard: 2 }]);
    await poller.idle();
    expect(delivered.at(-1)).toBe('grandchild');
  });

  it('stop() waits for the batch in flight and leaves no timer behind', async () => {
    const streamName = await newStream(2);
    await put(
      streamName,
      range(4).map((data) => ({ data })),
    );
    const timersBefore = activeTimers();
    let calls = 0;
    let finished = 0;
    let entered: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const poller = startPoller({
      streamName,
      batchSize: 1,
      handler: async () => {
        calls += 1;
        entered();
        await sleep(150);
        finished += 1;
      },
    });
    await inHandler;
    await poller.stop();
    expect(finished).toBe(calls);
    const callsAtStop = calls;
    await sleep(300);
    expect(calls).toBe(callsAtStop);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('rejects settings the real mapping would reject', () => {
    expect(
      () =>
        new KinesisEventSourcePoller({
          client,
          streamName: 's',
          handler: async () => {},
          batchSize: 0,
        }),
    ).toThrow(RangeError);
    expect(
      () =>
        new KinesisEventSourcePoller({
          client,
          streamName: 's',
          handler: async () => {},
          retryDelayMs: 500,
          maxRetryDelayMs: 100,
        }),
    ).toThrow(/maxRetryDelayMs must be an integer from 500/);
  });
});

describe('local Kinesis', () => {
  it('ensureStream is idempotent and keeps an existing stream as it is', async () => {
    const streamName = `test-${randomUUID()}`;
    await ensureStream(client, streamName, 2);
    await ensureStream(client, streamName, 2);
    await ensureStream(client, streamName, 5);
    expect(await shardIds(streamName)).toHaveLength(2);
  });

  it('keeps streams and records in persistDir across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kinesis-local-'));
    try {
      const first = await startLocalKinesis({ persistDir: join(dir, 'kinesis') });
      const firstClient = createLocalKinesisClient(first.endpoint);
      await ensureStream(firstClient, 'kept', 1);
      await firstClient.send(
        new PutRecordsCommand({
          StreamName: 'kept',
          Records: [{ Data: Buffer.from('persisted'), PartitionKey: 'p' }],
        }),
      );
      firstClient.destroy();
      await first.stop();

      const second = await startLocalKinesis({ persistDir: join(dir, 'kinesis') });
      const secondClient = createLocalKinesisClient(second.endpoint);
      try {
        const [shardId] = (
          await secondClient.send(new ListShardsCommand({ StreamName: 'kept' }))
        ).Shards?.map((shard) => shard.ShardId) ?? [undefined];
        const { ShardIterator } = await secondClient.send(
          new GetShardIteratorCommand({
            StreamName: 'kept',
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        const { Records = [] } = await secondClient.send(new GetRecordsCommand({ ShardIterator }));
        expect(Records.map((r) => Buffer.from(r.Data ?? new Uint8Array()).toString())).toEqual([
          'persisted',
        ]);
      } finally {
        secondClient.destroy();
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function splitInTwo(
  streamName: string,
  shardId: string,
  newStartingHashKey = (2n ** 127n).toString(),
): Promise<void> {
  await client.send(
    new SplitShardCommand({
      StreamName: streamName,
      ShardToSplit: shardId,
      NewStartingHashKey: newStartingHashKey,
    }),
  );
  await ensureStream(client, streamName, 1);
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}
