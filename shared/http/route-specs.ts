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
}

// Order matters only to the OpenAPI document, which lists paths in this order.
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
] as const satisfies readonly RouteSpec[];

/** The name of an operation of the API, e.g. `getMeter`. */
export type OperationId = (typeof ROUTES)[number]['operation'];

/** Every route the API serves. */
export const ALL_ROUTE_SPECS: readonly RouteSpec<OperationId>[] = ROUTES;

/** The API Gateway route key of a route, e.g. `GET /usage-metering/v1/meters/{id}`. */
export function routeKeyOf(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${API_BASE_PATH}${route.path}`;
}

/** The API Gateway route keys of every route. */
export const ALL_ROUTE_KEYS: readonly string[] = ALL_ROUTE_SPECS.map(routeKeyOf);
