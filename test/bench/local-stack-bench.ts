/**
 * Section 6 of the bench: the local stack end to end. Meters are created through the HTTP API,
 * records are put on the local Kinesis with PutRecords, and the clock runs until every record
 * is metered (the poller is idle and the API shows the exact totals). Then the same records are
 * read back with a plain GetRecords loop: the local Kinesis' own read rate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { forEachLimited } from '../../shared/application/concurrency.js';
import { DEFAULT_STREAMS } from '../../shared/config/streams.js';
import { createLocalKinesisClient } from '../../shared/local/kinesis-local.js';
import { startLocalStack } from '../../shared/local/local-stack.js';
import { fixed, int, type Row, rate, times } from './report.js';

export interface LocalStackResult {
  dedup: boolean;
  records: number;
  users: number;
  startMs: number;
  putMs: number;
  endToEndMs: number;
  endToEndPerSecond: number;
  readPerSecond: number;
  readLimit: number;
  putFailures: number;
  batchErrors: number;
  corrections: number;
  shards: number;
  dynamoDbPort: number;
}

async function json(response: Response): Promise<any> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${response.url}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The shipped stream configuration, with de-duplication as asked (it ships switched on). */
function shippedStreams(dedup: boolean) {
  return DEFAULT_STREAMS.map((stream) => ({
    ...stream,
    deduplication: { enabled: dedup, windowHours: stream.deduplication?.windowHours ?? 24 },
  }));
}

export async function measureLocalStack(options: {
  records: number;
  users: number;
  timeoutMs: number;
  dedup: boolean;
}): Promise<LocalStackResult> {
  const dir = mkdtempSync(join(tmpdir(), 'usage-metering-bench-'));
  const logs: string[] = [];
  const startedAt = performance.now();
  const stack = await startLocalStack({
    port: 0,
    kinesisPort: 0,
    recordsFile: join(dir, 'metered-records.jsonl'),
    streams: shippedStreams(options.dedup),
    log: (line) => logs.push(line),
  });
  const startMs = performance.now() - startedAt;
  const dynamoDbPort = Number(new URL(stack.dynamoDbEndpoint).port);
  const kinesis = createLocalKinesisClient(stack.kinesisEndpoint);
  try {
    const api = stack.apiUrl;
    const post = (path: string, body: unknown) =>
      fetch(`${api}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(json);
    const streams = (await json(await fetch(`${api}/streams`))).streams as {
      name: string;
      meterKey: string;
    }[];
    const stream = streams[0];
    if (!stream) throw new Error('the local stack has no stream');
    const type = await post('/meter-types', {
      name: 'bench-e2e',
      unit: 'units',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
    });
    const users = Array.from({ length: options.users }, (_, i) => `e2e-${i}`);
    const meterIds = new Map<string, string>();
    await forEachLimited(users, 8, async (userId) => {
      const meter = await post('/meters', {
        meterKey: stream.meterKey,
        meterTypeId: type.id,
        userId,
      });
      meterIds.set(userId, meter.id);
    });

    const tenths = new Map<string, number>();
    const entries: PutRecordsRequestEntry[] = [];
    for (let i = 0; i < options.records; i++) {
      const userId = users[i % users.length] as string;
      const value = (i % 7) + 1;
      tenths.set(userId, (tenths.get(userId) ?? 0) + value);
      entries.push({
        Data: Buffer.from(JSON.stringify({ userId, value: value / 10, eventId: `e2e-${i}` })),
        PartitionKey: userId,
      });
    }

    const started = performance.now();
    let putFailures = 0;
    for (let at = 0; at < entries.length; at += 500) {
      let chunk = entries.slice(at, at + 500);
      for (let attempt = 0; chunk.length > 0; attempt++) {
        if (attempt > 20) throw new Error('PutRecords kept failing');
        const output = await kinesis.send(
          new PutRecordsCommand({ StreamName: stream.name, Records: chunk }),
        );
        const failed = chunk.filter((_, j) => output.Records?.[j]?.ErrorCode !== undefined);
        putFailures += failed.length;
        chunk = failed;
      }
    }
    const putMs = performance.now() - started;

    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      try {
        await stack.idle();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    const endToEndMs = performance.now() - started;

    for (const [userId, expected] of tenths) {
      const view = await json(await fetch(`${api}/meters/${meterIds.get(userId)}`));
      if (Number(view.value) !== expected / 10)
        throw new Error(`local stack: ${userId} has ${view.value}, expected ${expected / 10}`);
    }
    const corrections = (await json(await fetch(`${api}/corrections?limit=100`))).corrections
      .length as number;

    // The local Kinesis' own read rate: the same records, GetRecords with the poller's batch size.
    const readLimit = 500;
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream.name }));
    const readStarted = performance.now();
    let read = 0;
    for (const shard of Shards) {
      let iterator = (
        await kinesis.send(
          new GetShardIteratorCommand({
            StreamName: stream.name,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (iterator) {
        const output = await kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: readLimit }),
        );
        const n = output.Records?.length ?? 0;
        read += n;
        if (n === 0 && (output.MillisBehindLatest ?? 0) === 0) break;
        iterator = output.NextShardIterator;
      }
    }
    const readMs = performance.now() - readStarted;
    if (read < options.records) throw new Error(`read back ${read} of ${options.records} records`);

    return {
      dedup: options.dedup,
      records: options.records,
      users: options.users,
      startMs,
      putMs,
      endToEndMs,
      endToEndPerSecond: options.records / (endToEndMs / 1000),
      readPerSecond: read / (readMs / 1000),
      readLimit,
      putFailures,
      batchErrors: logs.filter((line) => line.startsWith('ingest batch failed')).length,
      corrections,
      shards: Shards.length,
      dynamoDbPort,
    };
  } finally {
    kinesis.destroy();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function localStackRows(r: LocalStackResult): Row[] {
  return [
    {
      section: '6',
      measure: `local stack end to end: ${int(r.records)} records (PutRecords → local Kinesis → poller → ingest → DynamoDB Local), ${int(r.users)} meters, shipped stream config${r.dedup ? ' (dedup on, as shipped)' : ' with dedup off'}`,
      measured: `${rate(r.endToEndPerSecond)} records/s`,
      target: `local Kinesis read rate: ${rate(r.readPerSecond)} records/s (GetRecords, Limit ${r.readLimit})`,
      ratio: times(r.endToEndPerSecond / r.readPerSecond),
      notes: `${fixed(r.endToEndMs / 1000, 1)} s from first put to all metered (puts took ${fixed(r.putMs / 1000, 1)} s, ${r.putFailures} retried); ${r.shards} shard; totals exact via the API; ${r.batchErrors} failed batches, ${r.corrections} corrections; stack start ${fixed(r.startMs / 1000, 1)} s`,
    },
  ];
}
