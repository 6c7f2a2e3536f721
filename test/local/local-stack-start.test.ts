import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFailure, startLocalStack } from '../../shared/local/local-stack.js';

/** The Java processes (DynamoDB Local) this test process has started and not stopped. */
function javaChildren(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], {
    encoding: 'utf8',
  });
  return String(out ?? '')
    .split('\n')
    .filter((line) => /\bjava\b/.test(line));
}

describe('a local stack that cannot start', () => {
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
  });

  it('stops DynamoDB Local again when the Kinesis port is taken, and says which setting to change', async () => {
    const before = javaChildren();
    const failed = await startLocalStack({ port: 0, kinesisPort: busyPort, log: () => {} }).then(
      (stack) => stack.stop().then(() => undefined),
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'EADDRINUSE' });
    // DynamoDB Local started beside the Kinesis that failed; it must not outlive the start.
    await expect.poll(javaChildren, { timeout: 10_000 }).toEqual(before);
    expect(startFailure(failed, { PORT: 3000, KINESIS_PORT: busyPort })).toBe(
      [
        `the local stack could not start: port ${busyPort} on 127.0.0.1 is in use (KINESIS_PORT).`,
        'Stop what listens there, or choose free ports, e.g. PORT=3100 KINESIS_PORT=4667 npm start',
      ].join('\n'),
    );
  }, 60_000);

  it('says the API port is taken the same way, and shows any other error whole', async () => {
    const failed = await startLocalStack({ port: busyPort, kinesisPort: 0, log: () => {} }).then(
      (stack) => stack.stop().then(() => undefined),
      (error: unknown) => error,
    );
    expect(startFailure(failed, { PORT: busyPort, KINESIS_PORT: 4567 })).toContain(
      `port ${busyPort} on 127.0.0.1 is in use (PORT)`,
    );
    expect(javaChildren()).toEqual([]);
    expect(startFailure(new Error('java: not found'), { PORT: 1 })).toMatch(
      /^the local stack could not start: Error: java: not found/,
    );
  }, 60_000);
});
