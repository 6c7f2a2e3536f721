/**
 * Every AWS SDK call a deployed Lambda makes is allowed by its own IAM policy (DESIGN.md 2.7).
 * DynamoDB Local and the local stand-ins check no IAM, so a missing grant would otherwise only
 * show in AWS (as it once did: the ingest role lacked dynamodb:BatchGetItem).
 *
 * How: the stack is synthesized with its esbuild bundles, and each function's bundle runs in a
 * child Node.js process with the function's environment from the template. Every SDK client
 * there talks to a recording proxy (AWS_ENDPOINT_URL), which forwards DynamoDB calls to
 * DynamoDB Local and answers SQS, SNS, Scheduler and Kinesis itself. The functions are driven
 * through their behaviours (every API route; ingest batches with a correction, a threshold, a
 * redelivery and a period change; resets; a sweep), then each recorded call is mapped to the
 * actions, resources and condition context IAM requires, and checked against the function's
 * role policy. The environment and the policy are rendered by one symbolic renderer, so the
 * ARNs the code derives from its environment are the ARNs the policy must name. A call the
 * mapper does not know fails the test. The same runs with an SNS destination.
 *
 * The child processes see a clock the test sets per invocation (lambda-child.mjs), so periods
 * end without waiting; nothing else of the bundles is changed.
 *
 * This file bundles on its own (about 2–3 s of esbuild) rather than sharing bundles.test.ts's
 * output: vitest runs files in separate processes, and a cross-process cache would cost more
 * in complexity and staleness risk than it saves.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import type { APIGatewayProxyStructuredResultV2, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  MeteringEntryPoint,
  MeteringFunction,
} from '../../lib/constructs/metering-function.js';
import { REPO_ROOT } from '../../lib/constructs/metering-function.js';
import { ENV } from '../../shared/config/env-names.js';
import { parseStreamsConfig } from '../../shared/config/streams.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import { ALL_ROUTE_SPECS, API_BASE_PATH } from '../../shared/http/route-specs.js';
import { ensureTable } from '../../shared/local/dynamodb-local.js';
import { CfnRenderer } from '../support/cfn-renderer.js';
import { decide, type RenderedStatement } from '../support/iam-evaluation.js';
import { kinesisEvent, type TestRecord } from '../support/ingest.js';
import { type LambdaProcess, startLambdaProcess } from '../support/lambda-process.js';
import {
  type RecordedCall,
  type RecordingAwsProxy,
  startRecordingAwsProxy,
} from '../support/recording-aws-proxy.js';
import { permissionsFor } from '../support/sdk-call-permissions.js';
import { idsOfType, roleStatements, type Synthesized, synthStack } from './support.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ENTRIES: readonly MeteringEntryPoint[] = ['api', 'ingest', 'reset', 'sweeper'];

/** One deployed function as the test runs it. */
interface DeployedFunction {
  entry: MeteringEntryPoint;
  logicalId: string;
  roleLogicalId: string;
  name: string;
  arn: string;
  timeoutMs: number;
  /** The environment from the template, rendered. */
  environment: Record<string, string>;
  /** The identity-policy statements of its role, rendered. */
  statements: RenderedStatement[];
  /** The access key id its SDK clients sign with: tells its calls apart at the proxy. */
  caller: string;
  process: LambdaProcess;
}

interface Deployment {
  variant: string;
  synth: Synthesized;
  renderer: CfnRenderer;
  functions: Record<MeteringEntryPoint, DeployedFunction>;
  stop(): Promise<void>;
}

let bundled: Synthesized;
let proxy: RecordingAwsProxy;
/** Recorded calls per variant and function, for the checks that span variants. */
const recorded = new Map<string, Record<MeteringEntryPoint, RecordedCall[]>>();
const deployments = new Map<string, Deployment>();

beforeAll(async () => {
  bundled = synthStack({}, { bundle: true });
  proxy = await startRecordingAwsProxy({ dynamoDbEndpoint: inject('dynamoDbEndpoint') });
}, 180_000);

afterAll(async () => {
  for (const deployment of deployments.values()) await deployment.stop();
  await proxy?.stop();
  if (bundled) rmSync(bundled.app.outdir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// The deployment: bundles, rendered environments and policies, child processes.

function logicalIdOf(synth: Synthesized, fn: MeteringFunction): string {
  return synth.stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
}

function functionOf(synth: Synthesized, entry: MeteringEntryPoint): MeteringFunction {
  const fn = synth.stack.metering.functions.find((f) => f.entry === entry);
  if (!fn) throw new Error(`no ${entry} function in the stack`);
  return fn;
}

/** The bundle esbuild built for the function (from the bundled synth). */
function bundleOf(entry: MeteringEntryPoint): string {
  const logicalId = logicalIdOf(bundled, functionOf(bundled, entry));
  const key: string = bundled.json.Resources[logicalId]?.Properties.Code.S3Key;
  return path.join(bundled.app.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
}

/**
 * The identity-policy statements of a role: its AWS::IAM::Policy documents and inline
 * policies (roleStatements), and customer managed policies of the template attached to it.
 * AWS managed policies are not evaluated (they can only be missing from the check, which makes
 * it stricter, never laxer).
 */
function identityStatements(json: Synthesized['json'], roleLogicalId: string): unknown[] {
  const statements: unknown[] = [...roleStatements(json, roleLogicalId)];
  const attached = new Set<string>();
  const role = json.Resources[roleLogicalId];
  for (const arn of role?.Properties?.ManagedPolicyArns ?? []) {
    if (arn && typeof arn === 'object' && 'Ref' in arn) attached.add(String(arn.Ref));
  }
  for (const id of idsOfType(json, 'AWS::IAM::ManagedPolicy')) {
    const policy = json.Resources[id]?.Properties;
    const roles: unknown[] = policy?.Roles ?? [];
    if (
      attached.has(id) ||
      roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))
    ) {
      statements.push(...(policy?.PolicyDocument?.Statement ?? []));
    }
  }
  return statements;
}

async function deploy(variant: string, synth: Synthesized): Promise<Deployment> {
  const renderer = new CfnRenderer(synth.json, {
    region: REGION,
    account: ACCOUNT,
    nameSuffix: `-${variant}-${randomUUID().slice(0, 8)}`,
    // SDK v3's SQS client sends each call to its QueueUrl's origin when that differs from its
    // endpoint (AWS_ENDPOINT_URL is not enough): queue URLs point at the proxy.
    queueUrl: ({ account, name }) => `${proxy.endpoint}/${account}/${name}`,
  });
  const endpoint = inject('dynamoDbEndpoint');
  for (const id of idsOfType(synth.json, 'AWS::DynamoDB::Table')) {
    await ensureTable(endpoint, renderer.nameOf(id));
  }
  const started: DeployedFunction[] = [];
  try {
    for (const entry of ENTRIES) {
      const logicalId = logicalIdOf(synth, functionOf(synth, entry));
      const properties = synth.json.Resources[logicalId]?.Properties;
      const roleLogicalId = String(properties.Role?.['Fn::GetAtt']?.[0]);
      const environment = Object.fromEntries(
        Object.entries(
          renderer.render(properties.Environment?.Variables ?? {}) as Record<string, unknown>,
        ).map(([name, value]) => [name, String(value)]),
      );
      const name = renderer.renderString({ Ref: logicalId });
      // DynamoDB Local accepts only letters and digits in an access key id.
      const caller = `${variant}${entry}`;
      const child = await startLambdaProcess(bundleOf(entry), {
        ...environment,
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_ACCESS_KEY_ID: caller,
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL: proxy.endpoint,
        AWS_LAMBDA_FUNCTION_NAME: name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(properties.MemorySize ?? 128),
        TZ: 'UTC',
      });
      started.push({
        entry,
        logicalId,
        roleLogicalId,
        name,
        arn: renderer.renderString({ 'Fn::GetAtt': [logicalId, 'Arn'] }),
        timeoutMs: Number(properties.Timeout ?? 3) * 1000,
        environment,
        statements: identityStatements(synth.json, roleLogicalId).map(
          (s) => renderer.render(s) as RenderedStatement,
        ),
        caller,
        process: child,
      });
    }
  } catch (error) {
    for (const fn of started) await fn.process.stop();
    throw error;
  }
  const functions = Object.fromEntries(started.map((fn) => [fn.entry, fn])) as Record<
    MeteringEntryPoint,
    DeployedFunction
  >;
  return {
    variant,
    synth,
    renderer,
    functions,
    stop: async () => {
      for (const fn of started) await fn.process.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Driving the functions through their behaviours.

type ApiResult = { status: number; body: any };

/** Sets a dotted field path in a record. */
function setField(record: Record<string, unknown>, fieldPath: string, value: unknown): void {
  const parts = fieldPath.split('.');
  let target = record;
  for (const part of parts.slice(0, -1)) {
    target[part] ??= {};
    target = target[part] as Record<string, unknown>;
  }
  target[parts[parts.length - 1] as string] = value;
}

/** What driving the functions produced, for the assertions. */
interface ScenarioRun {
  routesDriven: Set<string>;
}

async function driveEverything(deployment: Deployment): Promise<ScenarioRun> {
  const { functions, renderer } = deployment;
  const routesDriven = new Set<string>();
  let clock = Date.parse('2025-01-15T10:10:00Z');
  const at = (iso: string) => {
    clock = Date.parse(iso);
  };
  // Each invocation a second after the previous one.
  const tick = () => {
    clock += 1000;
    return new Date(clock).toISOString();
  };
  const invoke = async <T>(fn: DeployedFunction, event: unknown): Promise<T> => {
    try {
      return await fn.process.invoke<T>(event, {
        now: tick(),
        context: { functionName: fn.name, invokedFunctionArn: fn.arn, timeoutMs: fn.timeoutMs },
      });
    } catch (error) {
      throw new Error(
        `${fn.entry} failed: ${String(error)}\n--- its output ---\n${fn.process.output().slice(-4000)}`,
      );
    }
  };

  const api = async (
    method: string,
    template: string,
    options: {
      params?: Record<string, string>;
      query?: Record<string, string>;
      body?: unknown;
      status: number;
    },
  ): Promise<ApiResult> => {
    const concrete = template.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(options.params?.[name] ?? ''),
    );
    const rawPath = `${API_BASE_PATH}${concrete}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const event = {
      version: '2.0',
      routeKey: `${method} ${API_BASE_PATH}${template}`,
      rawPath,
      rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      queryStringParameters: options.query,
      pathParameters: options.params,
      requestContext: {
        http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
        requestId: randomUUID(),
        routeKey: `${method} ${API_BASE_PATH}${template}`,
        stage: '$default',
      },
      body,
      isBase64Encoded: false,
    };
    const result = await invoke<APIGatewayProxyStructuredResultV2>(functions.api, event);
    const status = result.statusCode ?? 200;
    if (status !== options.status) {
      throw new Error(
        `${method} ${rawPath} answered ${status} (expected ${options.status}): ${result.body}\n` +
          `--- api output ---\n${functions.api.process.output().slice(-4000)}`,
      );
    }
    routesDriven.add(`${method} ${template}`);
    return { status, body: result.body ? JSON.parse(result.body) : undefined };
  };

  // The stream the ingest function reads, as its mapping and configuration say.
  const streams: StreamConfig[] = parseStreamsConfig(
    functions.ingest.environment[ENV.streamsConfig],
  );
  const stream = streams[0];
  if (!stream) throw new Error('no stream configured');
  const eventSourceArn = eventSourceArnOf(deployment, stream);
  const usage = (
    userId: string,
    value: number,
    timestamp: string,
    eventId?: string,
  ): TestRecord => {
    const data: Record<string, unknown> = {};
    setField(data, stream.fields.userId, userId);
    setField(data, stream.fields.value, value);
    setField(data, stream.fields.timestamp, timestamp);
    if (eventId) setField(data, stream.fields.eventId, eventId);
    return { data, arrivalTime: Date.parse(timestamp) + 1000 };
  };
  const batch = (records: TestRecord[]): KinesisStreamEvent => {
    const event = kinesisEvent(records, 'shardId-000000000000', stream.name);
    for (const record of event.Records) {
      record.eventSourceARN = eventSourceArn;
      record.awsRegion = REGION;
      record.invokeIdentityArn = renderer.renderString({
        'Fn::GetAtt': [functions.ingest.roleLogicalId, 'Arn'],
      });
    }
    return event;
  };
  const ingest = async (event: KinesisStreamEvent) => {
    const result = await invoke<{ batchItemFailures: unknown[] }>(functions.ingest, event);
    if (result.batchItemFailures.length > 0) {
      throw new Error(
        `ingest reported failures ${JSON.stringify(result)}\n--- ingest output ---\n${functions.ingest.process.output().slice(-4000)}`,
      );
    }
  };

  const tag = randomUUID().slice(0, 8);
  const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };

  // --- API at 10:10: meter types and meters. -------------------------------------------------
  at('2025-01-15T10:10:00Z');
  const type = (
    await api('POST', '/meter-types', {
      body: {
        name: `hourly-${tag}`,
        externalRef: `ref-${tag}`,
        unit: 'units',
        aggregation: { type: 'sum' },
        resetSchedule: hourly,
        thresholds: [{ name: 'ten', value: 10 }],
      },
      status: 201,
    })
  ).body;
  const doomedType = (
    await api('POST', '/meter-types', {
      body: {
        name: `doomed-${tag}`,
        unit: 'units',
        aggregation: { type: 'sum' },
        resetSchedule: hourly,
      },
      status: 201,
    })
  ).body;
  await api('GET', '/meter-types', { query: { category: 'DEFAULT', limit: '10' }, status: 200 });
  await api('GET', '/meter-types/{id}', { params: { id: type.id }, status: 200 });
  await api('PATCH', '/meter-types/{id}', {
    params: { id: type.id },
    body: { description: 'every hour' },
    status: 200,
  });
  const meter = async (userId: string, extra: Record<string, unknown> = {}) =>
    (
      await api('POST', '/meters', {
        body: { meterKey: stream.meterKey, meterTypeId: type.id, userId, ...extra },
        status: 201,
      })
    ).body as { id: string; periodEnd: string };
  const alice = await meter(`alice-${tag}`); // ingest
  // A unique meter: ingest reads its claims (BatchGetItem) and writes them with the meter
  // (TransactWriteItems of Puts), or the meter alone (PutItem) when no value is new.
  const uniqueType = (
    await api('POST', '/meter-types', {
      body: {
        name: `devices-${tag}`,
        unit: 'devices',
        aggregation: { type: 'unique', field: 'deviceId' },
        resetSchedule: hourly,
      },
      status: 201,
    })
  ).body;
  const devices = (
    await api('POST', '/meters', {
      body: { meterKey: stream.meterKey, meterTypeId: uniqueType.id, userId: `uma-${tag}` },
      status: 201,
    })
  ).body as { id: string };
  const bob = (
    await api('POST', '/meters', {
      body: {
        meterKey: stream.meterKey,
        meterTypeExternalRef: `ref-${tag}`,
        userId: `bob-${tag}`,
        deleteOnReset: true,
      },
      status: 201,
    })
  ).body as { id: string; periodEnd: string }; // reset, then deleted
  const carol = await meter(`carol-${tag}`); // reset, next period scheduled
  const dave = await meter(`dave-${tag}`); // deleted through the API, flushed by the sweeper
  await meter(`erin-${tag}`); // overdue: the sweeper closes its period
  await api('GET', '/meters', { query: { userId: `alice-${tag}` }, status: 200 });
  await api('GET', '/meters/{id}', { params: { id: alice.id }, status: 200 });
  await api('PATCH', '/meters/{id}', {
    params: { id: alice.id },
    body: { customFields: { plan: 'gold' } },
    status: 200,
  });
  await api('GET', '/summary', { status: 200 });
  await api('GET', '/openapi.json', { status: 200 });
  await api('GET', '/streams', { status: 200 });
  const shown = await api('GET', '/streams/{name}', { params: { name: stream.name }, status: 200 });
  // A new version of the processor (a transaction: conditional put of the current item and put
  // of the version item) with the same rules, then the history (a consistent Query).
  await api('PUT', '/streams/{name}', {
    params: { name: stream.name },
    body: { ...(shown.body as object), description: `saved by the grants test ${tag}` },
    status: 200,
  });
  await api('GET', '/streams/{name}/versions', { params: { name: stream.name }, status: 200 });
  // A dry run reads the user's meters (a consistent query) and their types, and writes nothing.
  await api('POST', '/streams/{name}/dry-run', {
    params: { name: stream.name },
    body: { records: [{ userId: `alice-${tag}`, value: 1, timestamp: '2025-01-15T10:00:00Z' }] },
    status: 200,
  });
  // HTTP ingestion puts records on the stream (PutRecords); the stubbed stream keeps nothing.
  const overHttp = [usage(`zed-${tag}`, 1, '2025-01-15T10:00:00Z', `h1-${tag}`).data];
  await api('POST', '/streams/{name}/records', {
    params: { name: stream.name },
    body: overHttp,
    status: 202,
  });
  await api('POST', '/usage-records', { body: overHttp, status: streams.length === 1 ? 202 : 400 });
  await api('DELETE', '/meter-types/{id}', { params: { id: doomedType.id }, status: 204 });

  // --- Ingest at 10:30: usage, a bad record, a record without a meter, a threshold. ----------
  at('2025-01-15T10:30:00Z');
  const first = [
    usage(`alice-${tag}`, 4, '2025-01-15T10:20:00Z', `e1-${tag}`),
    { data: undefined, raw: 'not json at all' },
    usage(`alice-${tag}`, 7, '2025-01-15T10:25:00Z', `e2-${tag}`), // 11 ≥ 10: partial push
    usage(`nobody-${tag}`, 1, '2025-01-15T10:26:00Z', `e3-${tag}`),
  ];
  await ingest(batch(first));
  // The same batch again (a Lambda retry): below the correction high-water mark, so the
  // function looks the records up in data correction (BatchGetItem).
  await ingest(batch(first.map((r) => ({ ...r }))));
  // The unique meter: new values (claims in a transaction with the meter), a mix of new and
  // already counted ones, then only counted ones (the meter alone, by version).
  const seen = (deviceId: string, n: number): TestRecord => {
    const record = usage(`uma-${tag}`, 1, '2025-01-15T10:27:00Z', `u${n}-${tag}`);
    setField(record.data as Record<string, unknown>, 'deviceId', deviceId);
    return record;
  };
  await ingest(batch([seen('d1', 1), seen('d2', 2), seen('d1', 3)]));
  await ingest(batch([seen('d2', 4), seen('d3', 5)]));
  await ingest(batch([seen('d3', 6), seen('d1', 7)]));
  const counted = await api('GET', '/meters/{id}', { params: { id: devices.id }, status: 200 });
  if (counted.body?.value !== 3 || counted.body?.meterMetaData?.recordCount !== 7) {
    throw new Error(`the unique meter counted ${JSON.stringify(counted.body)}`);
  }
  // At 11:05 a record of the next period: the 10:10–11:00 period is closed on the way, its
  // final record sent, and the next period scheduled.
  at('2025-01-15T11:05:00Z');
  await ingest(batch([usage(`alice-${tag}`, 2, '2025-01-15T11:02:00Z', `e4-${tag}`)]));

  // --- API at 11:10: data corrections; a meter deleted. -------------------------------------
  at('2025-01-15T11:10:00Z');
  const corrections = (await api('GET', '/corrections', { query: { limit: '50' }, status: 200 }))
    .body.corrections as { id: string; sequenceNumber: string; reason: string }[];
  const ours = corrections.filter((c) => first.some((r) => r.sequenceNumber === c.sequenceNumber));
  if (ours.length < 2) {
    throw new Error(`expected 2 data corrections, found ${JSON.stringify(corrections)}`);
  }
  // The record that is not JSON can never be re-sent (422); nobody's can, once a meter exists.
  const resend = ours.find((c) => c.reason === 'NO_METER')!;
  const discard = ours.find((c) => c.reason === 'INVALID_RECORD')!;
  await api('GET', '/corrections/{id}', { params: { id: resend.id }, status: 200 });
  // The filtered lists read the user, reason and open indexes; the counts the open index.
  const window = { from: '2025-01-15T00:00:00Z', to: '2025-01-16T00:00:00Z' };
  await api('GET', '/corrections', { query: { userId: `nobody-${tag}`, ...window }, status: 200 });
  await api('GET', '/corrections', { query: { reason: 'NO_METER', ...window }, status: 200 });
  await api('GET', '/corrections/counts', { status: 200 });
  await api('POST', '/corrections/{id}/reprocess', { params: { id: resend.id }, status: 200 });
  // The bulk re-send reads the open index and each entry (Query, GetItem); the record that is
  // not JSON comes back as failed with NOT_REPROCESSABLE, and nothing is put for it.
  const bulk = await api('POST', '/corrections/reprocess', { body: window, status: 200 });
  if (bulk.body?.failed?.[0]?.code !== 'NOT_REPROCESSABLE') {
    throw new Error(`bulk re-send: ${JSON.stringify(bulk.body)}`);
  }
  await api('DELETE', '/corrections/{id}', { params: { id: discard.id }, status: 204 });
  const deleted = await api('POST', '/corrections/delete', { body: window, status: 200 });
  if (deleted.body?.deleted < 1) throw new Error(`bulk delete: ${JSON.stringify(deleted.body)}`);
  await api('DELETE', '/meters/{id}', { params: { id: dave.id }, status: 204 });

  // --- Reset at 11:10: a deleteOnReset meter (deleted in a transaction) and a plain one. ------
  const reset = (meterId: string, periodEnd: string) =>
    invoke<{ status: string; periodsClosed: number; sent: number; deleted: boolean }>(
      functions.reset,
      { meterId, periodEnd },
    );
  expect(await reset(bob.id, bob.periodEnd)).toMatchObject({
    status: 'flushed',
    periodsClosed: 1,
    deleted: true,
  });
  expect(await reset(carol.id, carol.periodEnd)).toMatchObject({
    status: 'flushed',
    periodsClosed: 1,
    deleted: false,
  });

  // --- Sweeper a day later: everything is overdue, whatever delay it grants the schedules
  // (a flexible window is at most a day), among them the meter deleted through the API. ------
  at('2025-01-16T12:10:00Z');
  const sweep = await invoke<{ due: number; flushed: number; failed: unknown[] }>(
    functions.sweeper,
    {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: new Date(clock).toISOString(),
      region: REGION,
      resources: [],
      detail: {},
    },
  );
  expect(sweep.failed).toEqual([]);
  expect(sweep.due).toBeGreaterThanOrEqual(2);
  expect(sweep.flushed).toBe(sweep.due);

  // --- History: what the reset and the sweeper kept, read through its indexes and re-sent. ----
  const kept = await api('GET', '/metered-records', {
    query: { userId: `carol-${tag}`, recordType: 'final' },
    status: 200,
  });
  const recordId = kept.body?.meteredRecords?.[0]?.recordId as string | undefined;
  if (!recordId) throw new Error(`no kept record of carol: ${JSON.stringify(kept.body)}`);
  await api('GET', '/metered-records', { query: { meterTypeId: type.id }, status: 200 });
  await api('GET', '/metered-records/{recordId}', { params: { recordId }, status: 200 });
  await api('POST', '/metered-records/{recordId}/resend', { params: { recordId }, status: 200 });
  await api('GET', '/meters/{id}/records', { params: { id: dave.id }, status: 200 });
  await api('GET', '/users/{userId}/usage', { params: { userId: `carol-${tag}` }, status: 200 });

  return { routesDriven };
}

/** The ARN Lambda puts in `eventSourceARN`: the mapping's, for the configured stream. */
function eventSourceArnOf(deployment: Deployment, stream: StreamConfig): string {
  const { synth, renderer } = deployment;
  const { json } = synth;
  const construct = synth.stack.metering.streams.streams.find((s) => s.config.name === stream.name);
  if (!construct) throw new Error(`no Kinesis stream for the configured stream ${stream.name}`);
  const streamArn = renderer.renderString({
    'Fn::GetAtt': [
      synth.stack.getLogicalId(construct.stream.node.defaultChild as CfnElement),
      'Arn',
    ],
  });
  const mapped = idsOfType(json, 'AWS::Lambda::EventSourceMapping')
    .map((id) => json.Resources[id]?.Properties)
    .filter(
      (mapping) =>
        JSON.stringify(mapping?.FunctionName) ===
        JSON.stringify({ Ref: deployment.functions.ingest.logicalId }),
    )
    .map((mapping) => renderer.renderString(mapping?.EventSourceArn));
  if (!mapped.includes(streamArn)) {
    throw new Error(`no event source mapping of the ingest function reads ${streamArn}`);
  }
  return streamArn;
}

// ---------------------------------------------------------------------------------------------
// The checks.

/** Each call the function made that its policy does not allow, or that cannot be mapped. */
function ungranted(fn: DeployedFunction, calls: readonly RecordedCall[]): string[] {
  const problems: string[] = [];
  for (const call of calls) {
    const needed = permissionsFor(call, { account: ACCOUNT });
    if (!needed.mapped) {
      problems.push(`${fn.entry}: unmapped call (${needed.reason})`);
      continue;
    }
    for (const permission of needed.permissions) {
      if (!decide(fn.statements, permission).allowed) {
        const context = permission.context ? ` with ${JSON.stringify(permission.context)}` : '';
        problems.push(
          `${fn.entry} (role ${fn.roleLogicalId}): ${call.service} ${call.operation} needs ${permission.action} on ${permission.resource}${context}`,
        );
      }
    }
  }
  return [...new Set(problems)];
}

/** The metered records a function sent: the bodies of its SendMessageBatch / PublishBatch calls. */
function publishedRecords(calls: readonly RecordedCall[]): { recordType: string; id: string }[] {
  return calls.flatMap((call) => {
    if (call.service === 'sqs' && call.operation === 'SendMessageBatch') {
      return (call.input.Entries ?? []).map((e: { MessageBody: string }) =>
        JSON.parse(e.MessageBody),
      );
    }
    if (call.service === 'sns' && call.operation === 'PublishBatch') {
      return Object.entries(call.input)
        .filter(([field]) => /^PublishBatchRequestEntries\.member\.\d+\.Message$/.test(field))
        .map(([, message]) => JSON.parse(String(message)));
    }
    return [];
  });
}

const operationsOf = (calls: readonly RecordedCall[]) =>
  [...new Set(calls.map((c) => `${c.service}:${c.operation}`))].sort();

/** The operations each function must at least have made, so no check passes vacuously. */
function expectedOperations(destination: 'sqs' | 'sns'): Record<MeteringEntryPoint, string[]> {
  const publish = destination === 'sqs' ? 'sqs:SendMessageBatch' : 'sns:PublishBatch';
  return {
    api: [
      'dynamodb:TransactWriteItems',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'kinesis:PutRecord',
      'kinesis:PutRecords',
      publish,
    ],
    ingest: [
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:TransactWriteItems',
      publish,
      'scheduler:CreateSchedule',
    ],
    reset: [
      'dynamodb:GetItem',
      'dynamodb:TransactWriteItems',
      'dynamodb:BatchWriteItem',
      publish,
      'scheduler:CreateSchedule',
    ],
    sweeper: [
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:BatchWriteItem',
      publish,
      'scheduler:CreateSchedule',
    ],
  };
}

const VARIANTS = [
  { variant: 'sqs', destination: 'sqs', synth: () => bundled },
  {
    variant: 'sns',
    destination: 'sns',
    // The bundles are the same code; only the environment and the policies differ.
    synth: () => synthStack({ metering: { destination: { kind: 'sns' } } }),
  },
] as const;

describe.each(VARIANTS)('with an $destination destination', ({ variant, destination, synth }) => {
  let deployment: Deployment;
  let run: ScenarioRun;
  const callsOf = (entry: MeteringEntryPoint) => proxy.callsBy(deployment.functions[entry].caller);

  beforeAll(async () => {
    deployment = await deploy(variant, synth());
    deployments.set(variant, deployment);
    run = await driveEverything(deployment);
    const byEntry = Object.fromEntries(ENTRIES.map((e) => [e, callsOf(e)])) as Record<
      MeteringEntryPoint,
      RecordedCall[]
    >;
    recorded.set(variant, byEntry);
    console.log(
      `${variant}: SDK calls per function\n` +
        ENTRIES.map((e) => `  ${e}: ${operationsOf(byEntry[e]).join(', ')}`).join('\n'),
    );
  }, 120_000);

  // Its processes end with it (the recorded calls and policies stay for the checks below).
  afterAll(async () => {
    await deployment?.stop();
    if (deployment && deployment.synth !== bundled) {
      rmSync(deployment.synth.app.outdir, { recursive: true, force: true });
    }
  });

  it('drives every API route', () => {
    const all = ALL_ROUTE_SPECS.map((r) => `${r.method} ${r.path}`);
    expect(all.filter((route) => !run.routesDriven.has(route))).toEqual([]);
  });

  it('sends every call to the recording proxy', () => {
    for (const entry of ENTRIES) {
      expect(deployment.functions[entry].process.escapedHosts(), entry).toEqual([]);
    }
  });

  it('signs every call as one of the functions, and the proxy answered each', () => {
    const known = new Set(
      [...deployments.values()].flatMap((d) => Object.values(d.functions).map((f) => f.caller)),
    );
    expect(proxy.calls.filter((c) => !known.has(c.caller))).toEqual([]);
    const mine = new Set(Object.values(deployment.functions).map((f) => f.caller));
    const ours = proxy.calls.filter((c) => mine.has(c.caller));
    // 4xx from DynamoDB Local are answers (a failed condition is one); 5xx and refusals are not.
    expect(ours.filter((c) => c.status >= 500 || c.status === 0)).toEqual([]);
  });

  it.each(ENTRIES)('%s: makes the calls its behaviours need', (entry) => {
    const operations = operationsOf(callsOf(entry));
    expect(operations.length).toBeGreaterThan(0);
    expect(operations).toEqual(expect.arrayContaining(expectedOperations(destination)[entry]));
  });

  it('sends the records the behaviours produce: a prompt partial push, finals', () => {
    const kinds = (entry: MeteringEntryPoint) =>
      [...new Set(publishedRecords(callsOf(entry)).map((r) => r.recordType))].sort();
    expect(kinds('ingest')).toEqual(['final', 'partial']);
    expect(kinds('reset')).toEqual(['final']);
    expect(kinds('sweeper')).toEqual(['final']);
    // The API re-sends one kept final record.
    expect(kinds('api')).toEqual(['final']);
  });

  it.each(ENTRIES)('%s: every SDK call is allowed by its role', (entry) => {
    const fn = deployment.functions[entry];
    expect(ungranted(fn, callsOf(entry))).toEqual([]);
  });
});

describe('the grant check itself', () => {
  it('finds the grant of the incident missing: ingest without dynamodb:BatchGetItem', () => {
    const deployment = deployments.get('sqs');
    const calls = recorded.get('sqs')?.ingest ?? [];
    if (!deployment || calls.length === 0) throw new Error('the sqs run did not happen');
    const ingest = deployment.functions.ingest;
    const withoutBatchGet: DeployedFunction = {
      ...ingest,
      statements: ingest.statements.map((s) => ({
        ...s,
        Action: [s.Action ?? []].flat().filter((a) => a !== 'dynamodb:BatchGetItem'),
      })),
    };
    expect(ungranted(ingest, calls)).toEqual([]);
    expect(ungranted(withoutBatchGet, calls)).toEqual([
      expect.stringContaining(
        'dynamodb:BatchGetItem on arn:aws:dynamodb:us-east-1:123456789012:table/',
      ),
    ]);
  });

  it("checks each item of ingest's unique-meter transactions: without dynamodb:PutItem they are refused", () => {
    const deployment = deployments.get('sqs');
    const calls = recorded.get('sqs')?.ingest ?? [];
    if (!deployment || calls.length === 0) throw new Error('the sqs run did not happen');
    // The transactions of the unique meter: its meter item and the claims, all Puts.
    const entitiesOf = (call: RecordedCall): unknown[] =>
      (call.input.TransactItems as { Put?: { Item?: Record<string, any> } }[]).map(
        (item) => item.Put?.Item?.entity?.S,
      );
    const transactions = calls.filter(
      (c) => c.operation === 'TransactWriteItems' && entitiesOf(c).includes('unique-claim'),
    );
    // The claims are looked up first, in a strongly consistent BatchGetItem.
    const claimReads = calls.filter((c) =>
      Object.values(c.input.RequestItems ?? {}).some((request: any) =>
        request.Keys?.some((key: any) => String(key.pk?.S).startsWith('UNIQ#')),
      ),
    );
    expect(claimReads.map((c) => c.operation)).toEqual([
      'BatchGetItem',
      'BatchGetItem',
      'BatchGetItem',
    ]);
    // d1 and d2 in the first batch, d3 in the second; the third brings nothing new.
    expect(transactions.map(entitiesOf)).toEqual([
      ['meter', 'unique-claim', 'unique-claim'],
      ['meter', 'unique-claim'],
    ]);
    const ingest = deployment.functions.ingest;
    const withoutPut: DeployedFunction = {
      ...ingest,
      statements: ingest.statements.map((s) => ({
        ...s,
        Action: [s.Action ?? []].flat().filter((a) => a !== 'dynamodb:PutItem'),
      })),
    };
    expect(ungranted(withoutPut, transactions)).toEqual([
      expect.stringMatching(
        /dynamodb TransactWriteItems needs dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table\//,
      ),
    ]);
  });

  it('fails a call it cannot map; evaluates wildcards, Deny and PassRole conditions', () => {
    const call = (service: string, operation: string, input: Record<string, any> = {}) => ({
      caller: 'test',
      service,
      region: REGION,
      operation,
      input,
      status: 200,
    });
    expect(permissionsFor(call('dynamodb', 'DescribeTable'), { account: ACCOUNT })).toMatchObject({
      mapped: false,
    });
    expect(permissionsFor(call('lambda', 'Invoke'), { account: ACCOUNT })).toMatchObject({
      mapped: false,
    });
    const passRole = [
      {
        Effect: 'Allow' as const,
        Action: 'iam:PassRole',
        Resource: 'arn:aws:iam::123456789012:role/r',
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ];
    const request = { action: 'iam:PassRole', resource: 'arn:aws:iam::123456789012:role/r' };
    expect(
      decide(passRole, {
        ...request,
        context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      }).allowed,
    ).toBe(true);
    expect(
      decide(passRole, { ...request, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } })
        .allowed,
    ).toBe(false);
    expect(decide(passRole, request).allowed).toBe(false);
    const table = 'arn:aws:dynamodb:us-east-1:123456789012:table/t';
    const statements = [
      { Effect: 'Allow' as const, Action: 'dynamodb:*Item', Resource: `${table}*` },
      { Effect: 'Deny' as const, Action: 'dynamodb:DeleteItem', Resource: '*' },
      { Effect: 'Allow' as const, Action: 'dynamodb:Quer?', Resource: `${table}/index/*` },
    ];
    const allowed = (action: string, resource: string) =>
      decide(statements, { action, resource }).allowed;
    expect(allowed('dynamodb:GetItem', table)).toBe(true);
    expect(allowed('DynamoDB:getitem', table)).toBe(true);
    expect(allowed('dynamodb:DeleteItem', table)).toBe(false);
    expect(allowed('dynamodb:Query', table)).toBe(false);
    expect(allowed('dynamodb:Query', `${table}/index/gsi1`)).toBe(true);
    expect(allowed('dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/u')).toBe(
      false,
    );
  });

  it('renders template values symbolically, and the same way in environments and policies', () => {
    const renderer = new CfnRenderer(
      {
        Resources: {
          Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
          Named: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'fixed' } },
          Queue: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
          Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
          Role: { Type: 'AWS::IAM::Role', Properties: {} },
        },
      },
      { region: 'eu-west-1', account: '111122223333', nameSuffix: '-x' },
    );
    expect(
      renderer.render({
        table: { Ref: 'Table' },
        index: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Table', 'Arn'] }, '/index/gsi1']] },
        stream: { 'Fn::GetAtt': 'Named.Arn' },
        queue: { Ref: 'Queue' },
        queueArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        topic: { Ref: 'Topic' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a template
        role: { 'Fn::Sub': 'role=${Role.Arn} in ${AWS::Region} ${!Literal}' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a template
        sub: { 'Fn::Sub': ['${v}-${AWS::AccountId}', { v: { Ref: 'Table' } }] },
        id: {
          'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }],
        },
        json: { 'Fn::Join': ['', ['{"s":"', { Ref: 'Named' }, '"}']] },
        list: ['a', { Ref: 'AWS::NoValue' }, 'b'],
      }),
    ).toEqual({
      table: 'Table-x',
      index: 'arn:aws:dynamodb:eu-west-1:111122223333:table/Table-x/index/gsi1',
      stream: 'arn:aws:kinesis:eu-west-1:111122223333:stream/fixed',
      queue: 'https://sqs.eu-west-1.amazonaws.com/111122223333/Queue-x.fifo',
      queueArn: 'arn:aws:sqs:eu-west-1:111122223333:Queue-x.fifo',
      topic: 'arn:aws:sns:eu-west-1:111122223333:Topic-x',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a template
      role: 'role=arn:aws:iam::111122223333:role/Role-x in eu-west-1 ${Literal}',
      sub: 'Table-x-111122223333',
      id: '00000000-0000-0000-0000-000000000000',
      json: '{"s":"fixed"}',
      list: ['a', 'b'],
    });
    expect(() => renderer.render({ Ref: 'Missing' })).toThrow(/no resource/);
    expect(() => renderer.render({ 'Fn::GetAtt': ['Table', 'Nope'] })).toThrow(/does not know/);
    expect(() => renderer.render({ 'Fn::ImportValue': 'x' })).toThrow(/does not know/);
  });

  it('every SDK command in the code is made by some function in these runs', () => {
    const made = new Set(
      [...recorded.values()].flatMap((byEntry) =>
        Object.values(byEntry).flatMap((calls) => calls.map((c) => `${c.service}:${c.operation}`)),
      ),
    );
    expect(made.size).toBeGreaterThan(0);
    const commands = sdkCommandsInCode();
    expect(commands.length).toBeGreaterThan(0);
    expect(
      commands.filter((c) => !made.has(c.operation)).map((c) => `${c.operation} (${c.file})`),
    ).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The commands the code can send, read from its source.

// The document client's commands and the DynamoDB operations they send.
const DOCUMENT_CLIENT_OPERATIONS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactWriteCommand: 'TransactWriteItems',
  TransactGetCommand: 'TransactGetItems',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Every `new XxxCommand(` in lambdas/ and shared/ (not shared/local: DynamoDB Local set-up and
 * local stand-ins), as `service:Operation`, the service being the SDK package's.
 */
function sdkCommandsInCode(): { operation: string; file: string }[] {
  const files = [
    ...sourceFiles(path.join(REPO_ROOT, 'lambdas')),
    ...sourceFiles(path.join(REPO_ROOT, 'shared')).filter(
      (f) => !f.startsWith(path.join(REPO_ROOT, 'shared', 'local') + path.sep),
    ),
  ];
  const found: { operation: string; file: string }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const relative = path.relative(REPO_ROOT, file);
    // Local name → the module and the name it has there.
    const imported = new Map<string, { from: string; name: string }>();
    for (const match of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
      for (const specifier of (match[1] ?? '').split(',')) {
        const [name, local = name] = specifier
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)
          .map((part) => part.trim());
        if (name && local) imported.set(local, { from: match[2] ?? '', name });
      }
    }
    for (const match of text.matchAll(/import\s*\*\s*as\s+(\w+)\s+from\s*'([^']+)'/g)) {
      imported.set(`${match[1]}.`, { from: match[2] ?? '', name: '' });
    }
    for (const match of text.matchAll(/new\s+((?:\w+\.)?)(\w+)\s*\(/g)) {
      const [, namespace = '', local = ''] = match;
      const source = imported.get(namespace || local);
      const command = namespace ? local : (source?.name ?? local);
      if (!command.endsWith('Command')) continue;
      const from = source?.from ?? '';
      if (from === '@aws-sdk/lib-dynamodb') {
        const operation = DOCUMENT_CLIENT_OPERATIONS[command];
        found.push({ operation: `dynamodb:${operation ?? `unknown ${command}`}`, file: relative });
      } else if (from.startsWith('@aws-sdk/client-')) {
        // The package names of the clients used here are their SigV4 signing names.
        const service = from.slice('@aws-sdk/client-'.length);
        found.push({
          operation: `${service}:${command.slice(0, -'Command'.length)}`,
          file: relative,
        });
      } else {
        found.push({ operation: `unknown ${command} from '${from}'`, file: relative });
      }
    }
  }
  return found;
}
