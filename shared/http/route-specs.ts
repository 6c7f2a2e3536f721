/**
 * Method and path of every route the API serves, for the API Gateway routes the CDK creates.
 * Derived from the route lists themselves, so a route added to a list is deployed too.
 */
import type { DataCorrectionDeps } from '../application/data-corrections.js';
import { coreRoutes, type Route, routeKeyOf } from './api.js';
import { dataCorrectionRoutes } from './data-correction-routes.js';
import { streamRoutes } from './stream-routes.js';

/** A route as API Gateway knows it: method and path under the base path. */
export type RouteSpec = Pick<Route, 'method' | 'path'>;

// Only method and path are read from these routes; their handlers are dropped unused, so the
// dependencies they close over are never touched.
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
].map(({ method, path }) => ({ method, path }));

/** The API Gateway route keys of every route, e.g. `GET /usage-metering/v1/meters/{id}`. */
export const ALL_ROUTE_KEYS: readonly string[] = ALL_ROUTE_SPECS.map(routeKeyOf);
