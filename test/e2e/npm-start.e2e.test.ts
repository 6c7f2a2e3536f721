/**
 * End to end, as a user runs it: `npm start` as a child process on free ports, driven only
 * through its public surfaces (HTTP, the AWS SDK Kinesis client, the records file). The
 * records sent downstream are checked against totals computed here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../shared/local/dynamodb-local.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  api: string;
  kinesis: string;
  recordsFile: string;
  dynamoPort: number;
}

async function startStack(): Promise<Started> {
  const [port, kinesisPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'metering-e2e-'));
  const recordsFile = join(dir, 'records.jsonl');
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      KINESIS_PORT: String(kinesisPort),
      RECORDS_FILE: recordsFile,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up in 60 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const dynamoPort = Number(/DynamoDB:\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  return {
    child,
    output: () => output,
    api: `http://127.0.0.1:${port}/usage-metering/v1`,
    kinesis: `http://127.0.0.1:${kinesisPort}`,
    recordsFile,
    dynamoPort,
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function readRecords(file: string): any[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('npm start, end to end', () => {
  let stack: Started;
  beforeAll(async () => {
    stack = await startStack();
  }, 90_000);
  afterAll(async () => {
    try {
      if (stack?.child.exitCode === null && stack.child.pid)
        process.kill(-stack.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });

  const call = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${stack.api}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  it('serves the web console it built at / beside the API, and prints its URL', async () => {
    const origin = stack.api.replace('/usage-metering/v1', '');
    expect(stack.output()).toContain(`Console:    ${origin}/`);
    const page = await fetch(`${origin}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/console/app.js');
    const script = await fetch(`${origin}/console/app.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(10_000);
  });

  it('meters usage put on Kinesis and sends partial and final records with the right totals', async () => {
    expect(stack.output()).toContain(`Records to: ${stack.recordsFile}`);
    // Everything below happens inside one minute, so each meter's usage lands in one period
    // (and the deleteOnReset meter is not deleted before its usage arrives).
    if (60_000 - (Date.now() % 60_000) < 25_000) {
      await new Promise((resolve) => setTimeout(resolve, 60_000 - (Date.now() % 60_000) + 500));
    }
    const type = await call('POST', '/meter-types', {
      name: `e2e-${Date.now()}`,
      unit: 'calls',
      aggregation: { type: 'sum' },
      resetSchedule: { minute: '*', hour: '*', day: '*', month: '*', weekday: '*' },
      thresholds: [{ name: 'hundred', value: 100 }],
    });
    expect(type.status).toBe(201);
    const users = ['ada', 'grace'];
    const meters: Record<string, any> = {};
    for (const userId of users) {
      const meter = await call('POST', '/meters', {
        meterKey: 'usage-events',
        meterTypeId: type.body.id,
        userId,
      });
      expect(meter.status).toBe(201);
      meters[userId] = meter.body;
    }
    const leaver = await call('POST', '/meters', {
      meterKey: 'usage-events',
      meterTypeId: type.body.id,
      userId: 'leaver',
      deleteOnReset: true,
    });

    const minuteStart = Date.now() - (Date.now() % 60_000);
    for (const userId of users)
      meters[userId] = (await call('GET', `/meters/${meters[userId].id}`)).body;
    const totals: Record<string, number> = { ada: 0, grace: 0, leaver: 0 };
    const records = Array.from({ length: 300 }, (_, i) => {
      const userId = ['ada', 'grace', 'leaver'][i % 3] as string;
      const value = (i % 7) + 0.5;
      totals[userId] = (totals[userId] ?? 0) + value;
      return {
        userId,
        value,
        timestamp: new Date(Math.max(minuteStart, Date.now() - 1000)).toISOString(),
        eventId: `e2e-${i}`,
      };
    });
    const kinesis = new KinesisClient({
      endpoint: stack.kinesis,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      requestHandler: new NodeHttpHandler(),
    });
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
    kinesis.destroy();

    for (const userId of users) {
      const filled = await until(
        `${userId}'s meter to reach ${totals[userId]}`,
        async () => {
          const view = await call('GET', `/meters/${meters[userId].id}`);
          return view.body.value === totals[userId] ||
            view.body.periodStart !== meters[userId].periodStart
            ? view.body
            : undefined;
        },
        20_000,
      );
      // Unless the minute ended meanwhile, the open period shows every record.
      if (filled.periodStart === meters[userId].periodStart)
        expect(filled.meterMetaData.recordCount).toBe(100);
    }
    const partial = await until(
      'a partial push',
      async () =>
        readRecords(stack.recordsFile).find(
          (r) => r.recordType === 'partial' && r.threshold === 'hundred',
        ),
      20_000,
    );
    expect(['ada', 'grace', 'leaver']).toContain(partial.userId);

    // The final records arrive after the minute ends (plus the scheduler's and sweeper's slack).
    let lastSums = '';
    const finals = await until(
      'final records of every user',
      async () => {
        const all = readRecords(stack.recordsFile).filter(
          (r) => r.recordType === 'final' && r.meterTypeId === type.body.id,
        );
        const sums: Record<string, number> = {};
        for (const r of all) sums[r.userId] = (sums[r.userId] ?? 0) + r.value;
        lastSums = JSON.stringify({ sums, totals, output: stack.output().slice(-3000) });
        return ['ada', 'grace', 'leaver'].every(
          (u) => Math.abs((sums[u] ?? 0) - (totals[u] ?? 0)) < 1e-9,
        )
          ? all
          : undefined;
      },
      110_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${lastSums}`);
    });
    const ids = finals.map((r: { recordId: string }) => r.recordId);
    expect(new Set(ids).size).toBe(ids.length);
    // The leaver's meter was deleted on reset once its record was sent; the others go on.
    await until(
      'the leaver meter to be gone',
      async () =>
        (await call('GET', `/meters/${leaver.body.id}`)).status === 404 ? true : undefined,
      20_000,
    );
    const next = await call('GET', `/meters/${meters.ada.id}`);
    expect(Date.parse(next.body.periodStart)).toBeGreaterThan(Date.parse(meters.ada.periodStart));
  }, 200_000);

  it('stops cleanly on Ctrl-C, leaving no Java process listening', async () => {
    expect(await listening(stack.dynamoPort)).toBe(true);
    const exited = new Promise<number | null>((resolve) =>
      stack.child.once('exit', (code) => resolve(code)),
    );
    if (stack.child.pid) process.kill(-stack.child.pid, 'SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000)),
    ]);
    expect(code).not.toBe('timeout');
    await until(
      'DynamoDB Local to stop',
      async () => ((await listening(stack.dynamoPort)) ? undefined : true),
      10_000,
    );
    rmSync(stack.recordsFile, { force: true });
  }, 40_000);
});
