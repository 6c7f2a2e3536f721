import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../bin/demo-steps.js';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

/** `npm run demo` against an in-process local stack: every step must see what it expects. */
describe('the demo', () => {
  let stack: LocalStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'usage-metering-demo-'));
    stack = await startLocalStack({
      port: 0,
      kinesisPort: 0,
      recordsFile: join(dir, 'metered-records.jsonl'),
      log: () => {},
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Up to 25 s waiting for room in the minute, the rest of it, then the period end.
  it('runs every step and sees what it expects', async () => {
    const lines: string[] = [];
    const ok = await runDemo({
      apiUrl: stack.apiUrl,
      kinesisEndpoint: stack.kinesisEndpoint,
      recordsFile: stack.recordsFile,
      log: (line) => lines.push(line),
    });
    expect(ok, lines.join('\n')).toBe(true);
    expect(lines.join('\n')).toContain('✔ demo passed');
  }, 180_000);

  it('fails, saying what to do, when no local stack answers', async () => {
    const lines: string[] = [];
    const ok = await runDemo({
      apiUrl: 'http://127.0.0.1:9/usage-metering/v1',
      kinesisEndpoint: 'http://127.0.0.1:9',
      recordsFile: join(dir, 'none.jsonl'),
      log: (line) => lines.push(line),
    });
    expect(ok).toBe(false);
    expect(lines.join('\n')).toMatch(/✘ no API at .* start the local stack with `npm start`/);
  });
});
