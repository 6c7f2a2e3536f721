import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalKinesisClient } from '../../shared/local/kinesis-local.js';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

/** The local stack keeps history in DynamoDB Local and still appends every record to the file. */
describe('local stack: history of metered records', () => {
  let stack: LocalStack;
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      kinesisPort: 0,
      log: () => undefined,
      recordsFile: join(dir, 'metered-records.jsonl'),
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (path: string, init: RequestInit = {}) => fetch(`${stack.apiUrl}${path}`, init);
  const postJson = async (path: string, body: unknown): Promise<any> =>
    (
      await request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json();
  const fileLines = () => readFileSync(stack.recordsFile, 'utf8').split('\n').filter(Boolean);

  it('answers exactly the lines of the JSON-lines file, and re-sends one to it', async () => {
    const type = await postJson('/meter-types', {
      name: 'history-calls',
      unit: 'calls',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
      thresholds: [{ name: 'five', value: 5 }],
    });
    const meter = await postJson('/meters', {
      meterKey: 'usage-events',
      meterTypeId: type.id,
      userId: 'hanna',
    });
    const kinesis = createLocalKinesisClient(stack.kinesisEndpoint);
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'usage-events',
        Records: [{ userId: 'hanna', value: 7, timestamp: Date.now() - 1000 }].map((r) => ({
          Data: Buffer.from(JSON.stringify(r)),
          PartitionKey: r.userId,
        })),
      }),
    );
    kinesis.destroy();
    await stack.idle();

    // The threshold's partial push went out promptly: to the file, and into the history.
    const lines = fileLines();
    expect(lines.map((line) => JSON.parse(line).recordType)).toEqual(['partial']);
    const ndjson = await request('/metered-records?userId=hanna', {
      headers: { accept: 'application/x-ndjson' },
    });
    expect(await ndjson.text()).toBe(`${lines.join('\n')}\n`);
    const byMeter: any = await (await request(`/meters/${meter.id}/records`)).json();
    expect(byMeter.meteredRecords.map((r: { recordId: string }) => r.recordId)).toEqual(
      lines.map((line) => JSON.parse(line).recordId),
    );

    const recordId = JSON.parse(lines[0] ?? '{}').recordId;
    expect((await request(`/metered-records/${recordId}/resend`, { method: 'POST' })).status).toBe(
      200,
    );
    expect(fileLines()).toEqual([lines[0], lines[0]]);
    const usage: any = await (await request('/users/hanna/usage')).json();
    expect(usage.meters).toHaveLength(1);
    expect(usage.meters[0]).toMatchObject({ id: meter.id, value: 7, thresholdsReached: ['five'] });
  });
});
