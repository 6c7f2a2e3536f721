import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

/** Usage sent over HTTPS goes through the local Kinesis and ingestion, like an SDK producer's. */
describe('local stack: usage over HTTP', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, kinesisPort: 0, log: () => undefined });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const post = async (path: string, body: unknown): Promise<any> => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const get = async (path: string): Promise<any> => (await fetch(`${stack.apiUrl}${path}`)).json();

  it('counts records posted to /usage-records once, even when the whole request is sent again', async () => {
    const type = await post('/meter-types', {
      name: 'http-minutes',
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
    const now = Date.now() - 1000;
    const records = Array.from({ length: 25 }, (_, i) => ({
      userId: 'alice',
      service: 'voice',
      value: 0.1,
      timestamp: now,
      eventId: `http-${i}`,
    }));
    const first = await post('/usage-records', records);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ stream: 'usage-events', accepted: 25, rejected: 0 });
    expect(first.body).not.toHaveProperty('warnings');
    // The client did not see the answer and sends it all again: de-duplication by eventId.
    const again = await post('/streams/usage-events/records', [...records, 'junk']);
    expect(again.body).toMatchObject({ accepted: 25, rejected: 1 });
    const sequences = first.body.results.map((r: { sequenceNumber: string }) => r.sequenceNumber);
    expect(new Set(sequences).size).toBe(25);
    await stack.idle();

    const view = await get(`/meters/${meter.body.id}`);
    expect(view.value).toBe(2.5);
    expect(view.meterMetaData.recordCount).toBe(25);
  });
});
