/**
 * The API's routes as one plain table: method, path under the base path, access level and the
 * operation that serves it. The CDK creates an API Gateway route per row, the OpenAPI document
 * has an operation per row, and the API handler binds each operation to its dependencies
 * (operations.ts); a row added here does not compile until it is served and documented.
 */
import type { AccessLevel } from './access-levels.js';

/** Every path of the API starts with this. */
export const API_BASE_PATH = '/usage-metering/v1';

/** The HTTP methods the API serves. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route: method, path under the base path (with `{name}` parameters), access, operation. */
export interface RouteSpec<Operation extends string = string> {
  readonly method: HttpMethod;
  readonly path: string;
  /** Who may call it: API Gateway requires this level's JWT scope or a higher one. */
  readonly access: AccessLevel;
  /** The operation that serves it; also its OpenAPI `operationId`. */
  readonly operation: Operation;
  /** The largest body it reads, when not the API's 64 KiB (`MAX_BODY_BYTES`). */
  readonly maxBodyBytes?: number;
}

/** The body limit of the HTTP ingestion routes: 1 MiB of usage records. */
export const INGEST_MAX_BODY_BYTES = 1024 * 1024;

// Order matters to the OpenAPI document, which lists paths in this order. Where a fixed path and a
// `{parameter}` path both fit, the router takes the more specific (fixed) one.
const ROUTES = [
  { method: 'POST', path: '/meter-types', access: 'write', operation: 'createMeterType' },
  { method: 'GET', path: '/meter-types', access: 'read', operation: 'listMeterTypes' },
  { method: 'GET', path: '/meter-types/{id}', access: 'read', operation: 'getMeterType' },
  { method: 'PATCH', path: '/meter-types/{id}', access: 'write', operation: 'updateMeterType' },
  { method: 'DELETE', path: '/meter-types/{id}', access: 'admin', operation: 'deleteMeterType' },
  { method: 'POST', path: '/meters', access: 'write', operation: 'createMeter' },
  { method: 'GET', path: '/meters', access: 'read', operation: 'listMeters' },
  { method: 'GET', path: '/meters/{id}', access: 'read', operation: 'getMeter' },
  { method: 'PATCH', path: '/meters/{id}', access: 'write', operation: 'updateMeter' },
  { method: 'DELETE', path: '/meters/{id}', access: 'admin', operation: 'deleteMeter' },
  { method: 'GET', path: '/summary', access: 'read', operation: 'getSummary' },
  { method: 'GET', path: '/openapi.json', access: 'read', operation: 'getOpenApiDocument' },
  { method: 'GET', path: '/corrections', access: 'read', operation: 'listDataCorrections' },
  // The fixed paths come before `/corrections/{id}`: the router takes the first row that fits.
  { method: 'GET', path: '/corrections/counts', access: 'read', operation: 'countDataCorrections' },
  // Admin, as the single re-send and delete below are.
  {
    method: 'POST',
    path: '/corrections/reprocess',
    access: 'admin',
    operation: 'reprocessDataCorrections',
  },
  {
    method: 'POST',
    path: '/corrections/delete',
    access: 'admin',
    operation: 'deleteDataCorrections',
  },
  { method: 'GET', path: '/corrections/{id}', access: 'read', operation: 'getDataCorrection' },
  // Admin, not write: the record goes back on its stream and is counted, so re-sending changes
  // usage as much as deleting does.
  {
    method: 'POST',
    path: '/corrections/{id}/reprocess',
    access: 'admin',
    operation: 'reprocessDataCorrection',
  },
  {
    method: 'DELETE',
    path: '/corrections/{id}',
    access: 'admin',
    operation: 'deleteDataCorrection',
  },
  { method: 'GET', path: '/streams', access: 'read', operation: 'listStreams' },
  { method: 'GET', path: '/metered-records', access: 'read', operation: 'listMeteredRecords' },
  {
    method: 'GET',
    path: '/metered-records/{recordId}',
    access: 'read',
    operation: 'getMeteredRecord',
  },
  // Admin: a consumer that is not idempotent on recordId would bill again.
  {
    method: 'POST',
    path: '/metered-records/{recordId}/resend',
    access: 'admin',
    operation: 'resendMeteredRecord',
  },
  { method: 'GET', path: '/meters/{id}/records', access: 'read', operation: 'listMeterRecords' },
  { method: 'GET', path: '/users/{userId}/usage', access: 'read', operation: 'getUserUsage' },
  { method: 'GET', path: '/streams/{name}', access: 'read', operation: 'getStream' },
  // Admin: a stream's rules decide where every record of every user goes.
  { method: 'PUT', path: '/streams/{name}', access: 'admin', operation: 'replaceStream' },
  {
    method: 'GET',
    path: '/streams/{name}/versions',
    access: 'read',
    operation: 'listStreamVersions',
  },
  // Read, though a POST: a dry run writes nothing and shows what GET /meters already shows.
  {
    method: 'POST',
    path: '/streams/{name}/dry-run',
    access: 'read',
    operation: 'dryRunStream',
  },
  // Write: HTTP ingestion puts usage on the stream, as a producer with Kinesis access would.
  {
    method: 'POST',
    path: '/usage-records',
    access: 'write',
    operation: 'ingestUsageRecords',
    maxBodyBytes: INGEST_MAX_BODY_BYTES,
  },
  {
    method: 'POST',
    path: '/streams/{name}/records',
    access: 'write',
    operation: 'ingestStreamRecords',
    maxBodyBytes: INGEST_MAX_BODY_BYTES,
  },
] as const satisfies readonly RouteSpec[];

/** The name of an operation of the API, e.g. `getMeter`. */
export type OperationId = (typeof ROUTES)[number]['operation'];

/** Every route the API serves. */
export const ALL_ROUTE_SPECS: readonly RouteSpec<OperationId>[] = ROUTES;

/** A method API Gateway routes on: the API's own, HEAD, and ANY for every other. */
export type GatewayMethod = HttpMethod | 'HEAD' | 'ANY';

/** One route API Gateway declares, with the access level its authorizer requires. */
export interface GatewayRoute {
  readonly method: GatewayMethod;
  readonly path: string;
  readonly access: AccessLevel;
}

/**
 * What API Gateway declares so that it answers as the local gateway does: every route of the
 * table, HEAD beside every GET (same access), and an `ANY` route per path into the same
 * Lambda, whose router answers 405 with `Allow` for a method the path does not serve (API
 * Gateway prefers a route with the method to `ANY`, so `ANY` only ever sees those). `ANY`
 * needs the lowest access level: any caller may learn which methods a path has.
 */
export function gatewayRoutesOf(routes: readonly RouteSpec[]): GatewayRoute[] {
  const paths = [...new Set(routes.map((route) => route.path))];
  return paths.flatMap((path) => {
    const own = routes.filter((route) => route.path === path);
    const heads = own
      .filter((route) => route.method === 'GET')
      .map((route) => ({ method: 'HEAD' as const, path, access: route.access }));
    return [
      ...own.map(({ method, access }) => ({ method, path, access })),
      ...heads,
      { method: 'ANY' as const, path, access: 'read' as const },
    ];
  });
}

/** Every route API Gateway declares. */
export const ALL_GATEWAY_ROUTES: readonly GatewayRoute[] = gatewayRoutesOf(ALL_ROUTE_SPECS);

/** The API Gateway route key of a route, e.g. `GET /usage-metering/v1/meters/{id}`. */
export function routeKeyOf(route: { method: string; path: string }): string {
  return `${route.method} ${API_BASE_PATH}${route.path}`;
}

/** The API Gateway route keys of every route it declares (HEAD and ANY included). */
export const ALL_ROUTE_KEYS: readonly string[] = ALL_GATEWAY_ROUTES.map(routeKeyOf);
