/**
 * End to end through the local stack (issue 13): a rule changed through the API while records
 * flow through the local Kinesis. Each record follows the version pinned to its stream position;
 * records put after the refresh bound follow the new rule; the totals are exact.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbStreamProcessorStore } from '../../shared/adapters/dynamodb/stream-processor-store.js';
import { pinnedVersion } from '../../shared/domain/stream-pins.js';
import { LOCAL_AWS } from '../../shared/local/dynamodb-local.js';
import { createLocalKinesisClient } from '../../shared/local/kinesis-local.js';
import {
  LOCAL_TABLE_NAME,
  type LocalStack,
  startLocalStack,
} from '../../shared/local/local-stack.js';

const STREAM = 'e2e-events';
const REFRESH_MS = 500;

describe('local stack: a rule changed while records flow', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      kinesisPort: 0,
      log: () => undefined,
      refreshMs: REFRESH_MS,
      batchSize: 7,
      streams: [
        {
          name: STREAM,
          meterKey: 'e2e',
          shardCount: 2,
          guidingRules: [{ name: 'all', category: 'A' }],
        },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers = {},
  ): Promise<{ status: number; etag: string | null; body: any }> => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      etag: response.headers.get('etag'),
      body: await response.json(),
    };
  };

  it('routes each record by its pinned version, records after the bound by the new rule, totals exact', async () => {
    const meters: Record<string, string> = {};
    for (const category of ['A', 'B']) {
      const type = await call('POST', '/meter-types', {
        name: `type-${category}`,
        category,
        unit: 'units',
        aggregation: { type: 'sum' },
        resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
      });
      const meter = await call('POST', '/meters', {
        meterKey: 'e2e',
        meterTypeId: type.body.id,
        userId: 'alice',
      });
      meters[category] = meter.body.id;
    }
    const shown = await call('GET', `/streams/${STREAM}`);
    expect([shown.status, shown.etag, shown.body.version]).toEqual([200, '"1"', 1]);

    const kinesis = createLocalKinesisClient(stack.kinesisEndpoint);
    const sent: { shardId: string; sequenceNumber: string; value: number; putAt: number }[] = [];
    let savedAt = 0;
    const startedAt = Date.now();
    for (let round = 0; round < 24; round++) {
      if (round === 8) {
        const saved = await call(
          'PUT',
          `/streams/${STREAM}`,
          { ...shown.body, guidingRules: [{ name: 'all', category: 'B' }] },
          { 'if-match': shown.etag },
        );
        expect([saved.status, saved.etag]).toEqual([200, '"2"']);
        savedAt = Date.now();
      }
      const values = Array.from({ length: 5 }, (_, i) => round * 10 + i + 1);
      const putAt = Date.now();
      const put = await kinesis.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: values.map((value, i) => ({
            Data: Buffer.from(JSON.stringify({ userId: 'alice', value, timestamp: putAt })),
            PartitionKey: `p-${round}-${i}`,
          })),
        }),
      );
      expect(put.FailedRecordCount).toBe(0);
      put.Records?.forEach((record, i) => {
        sent.push({
          shardId: record.ShardId ?? '',
          sequenceNumber: record.SequenceNumber ?? '',
          value: values[i] ?? 0,
          putAt,
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stack.idle();
    expect(new Set(sent.map((r) => r.shardId)).size).toBe(2);

    // The version of each record: the pin that covers its position on its shard.
    const client = createDocumentClient({ endpoint: stack.dynamoDbEndpoint, ...LOCAL_AWS });
    const store = new DynamoDbStreamProcessorStore(client, LOCAL_TABLE_NAME);
    const expected = { A: 0, B: 0 };
    const counts = { A: 0, B: 0 };
    for (const record of sent) {
      const pins = await store.readPins(STREAM, record.shardId);
      expect(pins, record.shardId).toBeDefined();
      const version = pinnedVersion(pins?.pins ?? [], record.sequenceNumber);
      // Put before the save, a record may still go by either version: the one its first
      // attempt routed it by, when it was read. Put after the bound, by the new one.
      if (record.putAt > savedAt + REFRESH_MS) expect(version, 'put after the bound').toBe(2);
      const category = version === 1 ? 'A' : 'B';
      expected[category] += record.value;
      counts[category]++;
    }
    // On each shard, version 1 up to a position (if any) and version 2 from there on.
    for (const shardId of new Set(sent.map((r) => r.shardId))) {
      const pins = (await store.readPins(STREAM, shardId))?.pins ?? [];
      expect([[1, 2], [2]], shardId).toContainEqual(pins.map((pin) => pin.version));
      // Each pin knows when it was added (what prunes it once the stream no longer holds its records).
      for (const pin of pins) {
        expect(pin.at, shardId).toBeGreaterThanOrEqual(startedAt);
        expect(pin.at, shardId).toBeLessThanOrEqual(Date.now());
      }
    }
    client.destroy();
    expect(counts.A).toBeGreaterThan(0);
    expect(counts.B).toBeGreaterThan(0);
    for (const category of ['A', 'B'] as const) {
      const meter = (await call('GET', `/meters/${meters[category]}`)).body;
      expect(meter.value, category).toBe(expected[category]);
      expect(meter.meterMetaData.recordCount, category).toBe(counts[category]);
    }
    expect(expected.A + expected.B).toBe(sent.reduce((sum, r) => sum + r.value, 0));
    const versions = (await call('GET', `/streams/${STREAM}/versions`)).body.versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  }, 120_000);
});

describe('npm start -- --streams FILE', () => {
  it('refuses a bad file at start with a message naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'streams-'));
    const cases = [
      ['missing.json', undefined, /cannot read it/],
      ['not-json.json', '[{', /not valid JSON/],
      [
        'bad-rule.json',
        JSON.stringify([{ name: 's', meterKey: 'k', guidingRules: [{ name: 'r' }] }]),
        /0\.guidingRules\.0\.category/,
      ],
    ] as const;
    for (const [name, text, message] of cases) {
      const file = join(dir, name);
      if (text !== undefined) writeFileSync(file, text);
      const run = promisify(execFile)('npx', ['tsx', 'bin/local-stack.ts', '--streams', file], {
        env: { ...process.env, PORT: '0', KINESIS_PORT: '0' },
      });
      const failure = await run.then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failure?.code, name).toBe(2);
      expect(failure?.stderr, name).toContain(`--streams ${file}`);
      expect(failure?.stderr, name).toMatch(message);
    }
  }, 60_000);
});
