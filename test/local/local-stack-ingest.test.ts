import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalKinesisClient } from '../../shared/local/kinesis-local.js';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

/** A producer and a client of the local stack: records through Kinesis, results through the API. */
describe('local stack: usage through Kinesis', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, kinesisPort: 0, log: () => undefined });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const post = async (path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const get = async (path: string): Promise<any> => (await fetch(`${stack.apiUrl}${path}`)).json();

  it('meters records put with the AWS SDK, corrects a bad one, and reprocesses it', async () => {
    const streams = await get('/streams');
    expect(
      streams.streams.map((s: { name: string; meterKey: string }) => [s.name, s.meterKey]),
    ).toEqual([['usage-events', 'usage-events']]);
    const type = await post('/meter-types', {
      name: 'voice-minutes',
      category: 'VOICE',
      unit: 'minutes',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
    });
    const meter = await post('/meters', {
      meterKey: 'usage-events',
      meterTypeId: type.body.id,
      userId: 'alice',
    });
    expect(meter.status).toBe(201);

    const kinesis = createLocalKinesisClient(stack.kinesisEndpoint);
    const now = Date.now();
    const records = [
      ...Array.from({ length: 40 }, (_, i) => ({
        userId: 'alice',
        service: 'voice',
        region: i % 2 ? 'eu' : 'us',
        value: 1.5,
        timestamp: now - 1000,
        eventId: `call-${i}`,
      })),
      {
        userId: 'alice',
        service: 'voice',
        region: 'eu',
        value: 1.5,
        timestamp: now - 1000,
        eventId: 'call-0',
      },
      { userId: 'bob', service: 'voice', value: 2, timestamp: now - 1000 },
    ];
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'usage-events',
        Records: records.map((r) => ({
          Data: Buffer.from(JSON.stringify(r)),
          PartitionKey: r.userId,
        })),
      }),
    );
    expect(put.FailedRecordCount).toBe(0);
    await stack.idle();

    const view = await get(`/meters/${meter.body.id}`);
    expect(view.value).toBe(60);
    expect(view.meterMetaData.recordCount).toBe(40);
    expect(view.groups).toEqual([
      { fields: { region: 'eu' }, value: 30, count: 20 },
      { fields: { region: 'us' }, value: 30, count: 20 },
    ]);

    const corrections = await get('/corrections?reason=NO_METER');
    expect(corrections.corrections).toHaveLength(1);
    const entry = corrections.corrections[0];
    expect(entry).toMatchObject({ reason: 'NO_METER', userId: 'bob', streamName: 'usage-events' });
    expect(JSON.parse(Buffer.from(entry.data, 'base64').toString())).toMatchObject({
      userId: 'bob',
      value: 2,
    });

    const bobMeter = await post('/meters', {
      meterKey: 'usage-events',
      meterTypeId: type.body.id,
      userId: 'bob',
    });
    const reprocessed = await post(`/corrections/${entry.id}/reprocess`);
    expect(reprocessed.status).toBe(200);
    expect(reprocessed.body.reprocessedAt).toBeDefined();
    expect((await post(`/corrections/${entry.id}/reprocess`)).status).toBe(409);
    await stack.idle();
    expect((await get(`/meters/${bobMeter.body.id}`)).value).toBe(2);
    kinesis.destroy();
  });
});
