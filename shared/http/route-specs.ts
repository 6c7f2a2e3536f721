/**
 * Method, path and access level of every route the API serves, for the API Gateway routes the
 * CDK creates and the OpenAPI document. Derived from the route lists themselves, so a route
 * added to a list is deployed, and gets a level, too.
 */
import type { DataCorrectionDeps } from '../application/data-corrections.js';
import { type AccessLevel, accessOf } from './access-levels.js';
import { coreRoutes, type Route, routeKeyOf } from './api.js';
import { dataCorrectionRoutes } from './data-correction-routes.js';
import { streamRoutes } from './stream-routes.js';

/** A route as API Gateway knows it: method, path under the base path, and access level. */
export interface RouteSpec extends Pick<Route, 'method' | 'path'> {
  readonly access: AccessLevel;
}

// Only method, path and access are read from these routes; their handlers are dropped unused, so
// the dependencies they close over are never touched.
const notUsed = new Proxy(
  {},
  {
    get: () => {
      throw new Error('route specs carry no dependencies');
    },
  },
) as DataCorrectionDeps;

/** Every route: meter types, meters and summary; data corrections; streams. */
export const ALL_ROUTE_SPECS: readonly RouteSpec[] = [
  ...coreRoutes,
  ...dataCorrectionRoutes(notUsed),
  ...streamRoutes([]),
].map((route) => ({ method: route.method, path: route.path, access: accessOf(route) }));

/** The API Gateway route keys of every route, e.g. `GET /usage-metering/v1/meters/{id}`. */
export const ALL_ROUTE_KEYS: readonly string[] = ALL_ROUTE_SPECS.map(routeKeyOf);
