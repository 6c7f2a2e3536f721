/**
 * The HTTPS API: the route table (route-specs.ts) served by operations bound to their
 * dependencies, each a thin adapter from an API Gateway HTTP API (payload 2.0) event to a use
 * case. The same handler runs in Lambda and locally.
 */
import { readFile } from 'node:fs/promises';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { DataCorrectionDeps } from '../application/data-corrections.js';
import type { MeterTypeDeps } from '../application/meter-types.js';
import type { MeteredRecordDeps } from '../application/metered-records.js';
import type { MeterDeps } from '../application/meters.js';
import { listProcessors, processorNamed } from '../application/stream-processors.js';
import { NotFoundError } from '../domain/errors.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { CategoryCensus } from '../ports/category-census.js';
import type { SummaryStore } from '../ports/metering-store.js';
import type { StreamProcessorStore } from '../ports/stream-processor-store.js';
import type { UserMeterReader } from '../ports/user-meter-reader.js';
import { dataCorrectionOperations } from './data-correction-operations.js';
import { ingestOperations } from './ingest-operations.js';
import { meterOperations, meterTypeOperations } from './meter-operations.js';
import { meteredRecordOperations } from './metered-record-operations.js';
import { errorResponse, jsonResponse, type RouteResult } from './responses.js';
import type { Operations } from './route-helpers.js';
import { ALL_ROUTE_SPECS } from './route-specs.js';
import { createRouter } from './router.js';
import { streamOperations } from './stream-operations.js';

/** Everything the API's operations need. */

let openApi: Promise<unknown> | undefined;

/**
 * The committed document (`npm run openapi`), read beside this module on the first request
 * (the Lambda bundle carries it as a file next to index.mjs): it is large, and most
 * containers never serve it, so it stays out of the code parsed at every cold start.
 */
function openApiDocument(): Promise<unknown> {
  openApi ??= readFile(new URL('./openapi.json', import.meta.url), 'utf8').then(JSON.parse);
  return openApi;
}

export interface ApiDeps extends MeterDeps, MeterTypeDeps {
  summary: SummaryStore;
  /** What the data-correction operations need (`/corrections`). */
  dataCorrections: DataCorrectionDeps;
  /** What the history operations need (`/metered-records`). */
  meteredRecords: MeteredRecordDeps;
  /** The deployed streams: which exist, and the seed of each one's processor. */
  streams: readonly StreamConfig[];
  /** The streams' processors, every version (the API owns them). */
  streamProcessors: StreamProcessorStore;
  /** The Kinesis stream name of each stream, where CloudFormation named them. */
  kinesisNames?: Readonly<Record<string, string>>;
  /** Reads a user's meters as ingestion does, for dry runs of a stream. */
  userMeters: UserMeterReader;
  /** Which categories meter types have, for the warnings of dry runs. */
  categories: CategoryCensus;
  /** Where every 5xx is logged with its cause; console.error if absent. */
  log?: (message: string, error: unknown) => void;
}

/** Every operation of the route table, bound to its dependencies. */
export function bindOperations(deps: ApiDeps): Operations {
  const processors = { processors: deps.streamProcessors, deployed: deps.streams, now: deps.now };
  const currentStreams = async () =>
    (await listProcessors(processors)).map((processor) => processor.configuration);
  const currentStream = async (name: string) =>
    (await processorNamed(processors, name)).configuration;
  return {
    ...meterTypeOperations({ ...deps, currentStreams }),
    ...meterOperations(deps),
    getSummary: async () => jsonResponse(200, await deps.summary.summary()),
    getOpenApiDocument: async () => jsonResponse(200, await openApiDocument()),
    ...dataCorrectionOperations({
      currentStream: (name) =>
        currentStream(name).catch((error: unknown) => {
          if (error instanceof NotFoundError) return undefined;
          throw error;
        }),
      ...deps.dataCorrections,
    }),
    // HTTP ingestion puts on the same streams that data corrections are re-sent to.
    ...ingestOperations(deps.streams, deps.dataCorrections.streamWriter, currentStream),
    ...meteredRecordOperations(deps.meteredRecords),
    ...streamOperations({
      ...processors,
      kinesisNames: deps.kinesisNames,
      dryRun: {
        userMeters: deps.userMeters,
        categories: deps.categories,
        meterType: async (id) => (await deps.meterTypes.get(id))?.meterType,
        now: deps.now,
      },
    }),
  };
}

/** Builds the API's Lambda handler from its dependencies. */
export function createApiHandler(deps: ApiDeps) {
  const route = createRouter(ALL_ROUTE_SPECS);
  const operations = bindOperations(deps);
  const log = deps.log ?? ((message: string, error: unknown) => console.error(message, error));
  return middy<APIGatewayProxyEventV2, RouteResult, Error, Context>()
    .onError((request) => {
      request.response = headless(request.event, errorResponse(request.error, log));
    })
    .handler(async (event) => {
      const routed = route(event);
      return headless(event, await operations[routed.route.operation](routed.request));
    });
}

/** HEAD answers as GET would, status and headers, without the body. */
function headless(event: APIGatewayProxyEventV2, result: RouteResult): RouteResult {
  return event.requestContext.http.method.toUpperCase() === 'HEAD'
    ? { ...result, body: '' }
    : result;
}
