/**
 * The Lambda bundles as esbuild builds them for deployment: each stays under 1 MiB, and each
 * loads and answers in plain Node.js with the environment the stack gives it (ESM, the
 * `require` banner and the locale-free zod included).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CfnElement } from 'aws-cdk-lib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { MeteringFunction } from '../../lib/constructs/metering-function.js';
import { ensureTable } from '../../shared/local/dynamodb-local.js';
import { environmentOf, type Synthesized, synthStack } from './support.js';

// 1 MiB. The budget was 1,000,000 bytes until the API gained HTTP ingestion, stored stream
// processors and bulk corrections (1,002,290 bytes then); a cold start reads the whole file.
const ONE_MIB = 1_048_576;

let synth: Synthesized;
let outdir: string;

beforeAll(() => {
  synth = synthStack({}, { bundle: true });
  outdir = synth.app.outdir;
}, 180_000);

function assetDirOf(fn: MeteringFunction): string {
  const logicalId = synth.stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
  const key: string = synth.json.Resources[logicalId]!.Properties.Code.S3Key;
  return path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

/** The function's environment with every unresolved value replaced by a plausible one. */
function runtimeEnvironmentOf(fn: MeteringFunction): Record<string, string> {
  const logicalId = synth.stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
  const placeholders: Record<string, string> = {
    METERING_TABLE_NAME: 'usage-metering-table',
    SCHEDULE_GROUP_NAME: 'usage-metering-schedules',
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
    SCHEDULE_DLQ_ARN: 'arn:aws:sqs:eu-west-1:123456789012:schedule-dlq',
    RESET_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:reset',
    DESTINATION_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/records',
    DESTINATION_ARN: 'arn:aws:sns:eu-west-1:123456789012:records',
    STREAM_NAMES: JSON.stringify({ 'usage-events': 'UsageMetering-StreamUsageEvents-AbC123' }),
  };
  return Object.fromEntries(
    Object.entries(environmentOf(synth.json, logicalId)).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : (placeholders[name] ?? `placeholder-${name}`),
    ]),
  );
}

/** Imports the bundle in a fresh Node.js process, runs `script` with `handler`, returns its JSON. */
function runBundle(
  fn: MeteringFunction,
  script: string,
  extraEnv: Record<string, string> = {},
): unknown {
  const runner = path.join(outdir, `run-${fn.entry}.mjs`);
  writeFileSync(
    runner,
    `const { handler } = await import(${JSON.stringify(path.join(assetDirOf(fn), 'index.mjs'))});
     const result = await (async () => { ${script} })();
     process.stdout.write('\\n@@' + JSON.stringify(result ?? null));`,
  );
  const output = execFileSync(process.execPath, ['--enable-source-maps', runner], {
    env: {
      PATH: process.env.PATH,
      ...runtimeEnvironmentOf(fn),
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_LAMBDA_FUNCTION_NAME: `usage-metering-${fn.entry}`,
      ...extraEnv,
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  const marker = output.lastIndexOf('\n@@');
  return JSON.parse(output.slice(marker + 3));
}

const entry = (name: string) => {
  const fn = synth.stack.metering.functions.find((f) => f.entry === name);
  if (!fn) throw new Error(`no ${name} function`);
  return fn;
};

describe('bundle size', () => {
  it('keeps every function bundle under 1 MiB', () => {
    const sizes = synth.stack.metering.functions.map((fn) => {
      const dir = assetDirOf(fn);
      const code = readFileSync(path.join(dir, 'index.mjs'));
      return {
        function: fn.entry,
        'index.mjs': code.byteLength,
        'index.mjs.map': statSync(path.join(dir, 'index.mjs.map')).size,
        'index.mjs gzipped': gzipSync(code).byteLength,
      };
    });
    console.table(sizes);
    for (const size of sizes) expect(size['index.mjs'], size.function).toBeLessThan(ONE_MIB);
  });
});

describe('bundles load and answer in Node.js', () => {
  it('api: serves GET /streams and refuses a bad body with a 400 in English', async () => {
    // The streams' processors are stored in the table: the bundle reads (and seeds) them there.
    const endpoint = inject('dynamoDbEndpoint');
    await ensureTable(endpoint, 'usage-metering-table');
    const result = runBundle(
      entry('api'),
      `const event = (method, rawPath, body) => ({
         version: '2.0', rawPath, rawQueryString: '', headers: { 'content-type': 'application/json' },
         requestContext: { http: { method } }, body, isBase64Encoded: false });
       const streams = await handler(event('GET', '/usage-metering/v1/streams'), {});
       const bad = await handler(event('POST', '/usage-metering/v1/meter-types', '{"name": 5}'), {});
       return { streams: streams.statusCode, names: JSON.parse(streams.body).streams.map((s) => s.name),
                bad: bad.statusCode, message: JSON.parse(bad.body).message };`,
      { AWS_ENDPOINT_URL_DYNAMODB: endpoint },
    ) as { streams: number; names: string[]; bad: number; message: string };
    expect(result.streams).toBe(200);
    expect(result.names).toEqual(['usage-events']);
    expect(result.bad).toBe(400);
    // The service's own English messages (shared/domain/validation.ts), never zod's defaults.
    expect(result.message).toContain('name: must be a string');
    expect(result.message).toContain('aggregation: is required');
    expect(result.message).not.toMatch(/Invalid input|expected \w+, received/);
  });

  it('ingest: answers an empty batch with no failures', () => {
    expect(runBundle(entry('ingest'), 'return handler({ Records: [] }, {});')).toEqual({
      batchItemFailures: [],
    });
  });

  it('reset: refuses a malformed trigger without retrying', () => {
    expect(
      runBundle(
        entry('reset'),
        `return handler({ meterId: 'not-a-uuid' },
           { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:reset' });`,
      ),
    ).toEqual({ status: 'invalid-trigger' });
  });

  it('sweeper: loads its configuration', () => {
    expect(runBundle(entry('sweeper'), 'return typeof handler;')).toBe('function');
  });
});
