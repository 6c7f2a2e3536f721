/** Drives the API handler with API Gateway payload 2.0 events, as API Gateway would. */
import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { DynamoDbIngestStore } from '../../shared/adapters/dynamodb/ingest-store.js';
import { DynamoDbMeterStore } from '../../shared/adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../../shared/adapters/dynamodb/meter-type-store.js';
import { DynamoDbStreamProcessorStore } from '../../shared/adapters/dynamodb/stream-processor-store.js';
import { InMemoryDataCorrectionStore } from '../../shared/adapters/in-memory/data-correction-store.js';
import { InMemoryPeriodEndScheduler } from '../../shared/adapters/in-memory/period-end-scheduler.js';
import { InMemoryRecordHistory } from '../../shared/adapters/in-memory/record-history.js';
import { InMemoryRecordPublisher } from '../../shared/adapters/in-memory/record-publisher.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { parseStreamsConfig } from '../../shared/config/streams.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import { type ApiDeps, createApiHandler } from '../../shared/http/api.js';
import { API_BASE_PATH } from '../../shared/http/route-specs.js';
import { assertContract } from './contract.js';
import { freshTable } from './dynamodb.js';

/** The meter keys the API tests create meters under: each has a stream unless a test says otherwise. */
export const TEST_METER_KEYS = [
  'k',
  'usage-events',
  'hostile',
  'calls',
  'other',
  'cups',
  'odd',
  'even',
  'look-alike',
  'a',
  'a#b',
  'a/b',
  'a%2Fb',
  '%2F',
  '#',
  'cf-1e300',
  'cf-1e-200',
  'cf-big',
  'cf-proto',
  'cf-constructor',
  'cf-constructor-1',
  'cf-nested-proto',
  'cf-builtins',
];

/** The categories the API tests' meter types use: a rule of every test stream routes to each. */
export const TEST_CATEGORIES = ['DEFAULT', 'VOICE', 'COFFEE', 'DATA', 'BASE', 'ODD', '#category'];

/** One stream per meter key, each routing records with `category` set to that category. */
export function testStreams(
  meterKeys: readonly string[] = TEST_METER_KEYS,
  categories: readonly string[] = TEST_CATEGORIES,
): StreamConfig[] {
  return parseStreamsConfig(
    meterKeys.map((meterKey, i) => ({
      name: `test-stream-${i}`,
      meterKey,
      guidingRules: categories.map((category, r) => ({
        name: `rule-${r}`,
        conditions: [{ field: 'category', type: 'string', value: category }],
        category,
      })),
    })),
  );
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** The body as sent. */
  raw: string;
}

/** A client for the API handler running against a fresh DynamoDB Local table. */
export async function apiUnderTest(overrides: Partial<ApiDeps> = {}) {
  const table = await freshTable();
  const meters = new DynamoDbMeterStore(table.client, table.tableName);
  const scheduler = new InMemoryPeriodEndScheduler();
  const clock = { now: new Date('2025-01-10T00:00:00.000Z') };
  const errors: unknown[] = [];
  const log = (_message: string, error: unknown) => errors.push(error);
  const meterTypes = new DynamoDbMeterTypeStore(table.client, table.tableName);
  const userMeters = new DynamoDbIngestStore(table.client, table.tableName);
  const streams = testStreams();
  const deps: ApiDeps = {
    meterTypes,
    categories: meterTypes,
    meters,
    summary: meters,
    scheduler,
    now: () => clock.now,
    newId: randomUUID,
    dataCorrections: {
      corrections: new InMemoryDataCorrectionStore(),
      streamWriter: new InMemoryUsageStreamWriter(),
      streams,
      now: () => clock.now,
      log,
    },
    streams,
    streamProcessors: new DynamoDbStreamProcessorStore(table.client, table.tableName),
    meteredRecords: {
      history: new InMemoryRecordHistory(),
      publisher: new InMemoryRecordPublisher(),
      meters: userMeters,
      streams,
    },
    userMeters,
    log,
    ...overrides,
  };
  const handler = createApiHandler(deps);

  async function call(
    method: string,
    path: string,
    body?: unknown,
    options: {
      contentType?: string;
      rawBody?: string;
      query?: Record<string, string>;
      accept?: string;
      headers?: Record<string, string>;
      /** Hold the answer to the OpenAPI document (the default); false only for answers a test breaks on purpose. */
      checkContract?: boolean;
    } = {},
  ): Promise<ApiResponse> {
    const rawBody = options.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: `${API_BASE_PATH}${path}`,
      rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
      headers: {
        ...(rawBody === undefined
          ? {}
          : { 'content-type': options.contentType ?? 'application/json' }),
        ...(options.accept ? { accept: options.accept } : {}),
        ...options.headers,
      },
      queryStringParameters: options.query,
      requestContext: {
        http: { method, path: `${API_BASE_PATH}${path}` },
        requestId: randomUUID(),
      },
      body: rawBody,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const result = (await handler(event, {} as Context)) as APIGatewayProxyStructuredResultV2;
    const headers = (result.headers ?? {}) as Record<string, string>;
    if (options.checkContract !== false) {
      assertContract({
        method,
        path: `${API_BASE_PATH}${path}`,
        status: result.statusCode ?? 200,
        headers,
        body: result.body ?? '',
      });
    }
    const json = (headers['content-type'] ?? 'application/json').startsWith('application/json');
    return {
      status: result.statusCode ?? 200,
      headers,
      body: !result.body ? undefined : json ? JSON.parse(result.body) : result.body,
      raw: result.body ?? '',
    };
  }

  return { call, deps, scheduler, clock, table, errors };
}

/** A valid meter type body; override any field. */
export function meterTypeBody(overrides: Record<string, unknown> = {}) {
  return {
    name: `type-${randomUUID()}`,
    unit: 'minutes',
    aggregation: { type: 'sum' },
    resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
    ...overrides,
  };
}
