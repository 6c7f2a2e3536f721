import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalKinesisClient } from '../../shared/local/kinesis-local.js';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

/** `npm start -- --persist DIR`: a restart loses no usage and sends no record twice. */
describe('local stack with --persist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'metering-persist-'));
  const recordsFile = join(dir, 'records.jsonl');
  const start = () =>
    startLocalStack({
      port: 0,
      kinesisPort: 0,
      persistDir: join(dir, 'data'),
      recordsFile,
      log: () => undefined,
    });
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (
    s: LocalStack,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<any> => {
    const response = await fetch(`${s.apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.json();
  };
  const put = async (s: LocalStack, values: number[]) => {
    const kinesis = createLocalKinesisClient(s.kinesisEndpoint);
    const now = Date.now();
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'usage-events',
        Records: values.map((value) => ({
          Data: Buffer.from(JSON.stringify({ userId: 'persisted', value, timestamp: now - 1000 })),
          PartitionKey: 'persisted',
        })),
      }),
    );
    kinesis.destroy();
    await s.idle();
  };
  const partials = () =>
    readFileSync(recordsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((r) => r.recordType === 'partial');

  it('keeps meters, usage and sent records across a restart, and replays nothing twice', async () => {
    stack = await start();
    const type = await call(stack, 'POST', '/meter-types', {
      name: 'persisted-calls',
      unit: 'calls',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
      thresholds: [{ name: 'ten', value: 10 }],
    });
    const meter = await call(stack, 'POST', '/meters', {
      meterKey: 'usage-events',
      meterTypeId: type.id,
      userId: 'persisted',
    });
    await put(stack, [3, 4, 5]);
    expect((await call(stack, 'GET', `/meters/${meter.id}`)).value).toBe(12);
    expect(partials()).toHaveLength(1);
    await stack.stop();

    // Restarted, the poller reads the stream again from its start: every record is skipped.
    stack = await start();
    await stack.idle();
    expect((await call(stack, 'GET', `/meters/${meter.id}`)).value).toBe(12);
    await put(stack, [1]);
    const view = await call(stack, 'GET', `/meters/${meter.id}`);
    expect([view.value, view.meterMetaData.recordCount]).toEqual([13, 4]);
    expect(partials()).toHaveLength(1);
    expect((await call(stack, 'GET', '/summary')).meters).toBe(1);
  }, 120_000);
});
