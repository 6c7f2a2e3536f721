/**
 * The HTTPS API: routes under `/usage-metering/v1`, each a thin adapter from an API Gateway
 * HTTP API (payload 2.0) event to a use case. The same handler runs in Lambda and locally.
 */
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { z } from 'zod';
import type { MeterTypeDeps } from '../application/meter-types.js';
import {
  createMeterType,
  deleteMeterType,
  getMeterType,
  listMeterTypes,
  updateMeterType,
} from '../application/meter-types.js';
import type { MeterDeps } from '../application/meters.js';
import {
  createMeter,
  deleteMeter,
  getMeter,
  listMeters,
  updateMeter,
} from '../application/meters.js';
import { identifier } from '../domain/schemas.js';
import { parseOrThrow, ValidationError } from '../domain/validation.js';
import type { SummaryStore } from '../ports/metering-store.js';
import type { AccessLevel } from './access-levels.js';
import { errorResponse, HttpError, jsonResponse } from './http-errors.js';
import openApiDocument from './openapi.json' with { type: 'json' };
import { idParam, noContent, pagingQuery } from './route-helpers.js';

export const API_BASE_PATH = '/usage-metering/v1';
export const MAX_BODY_BYTES = 64 * 1024;

/** Everything the API's routes need. */
export interface ApiDeps extends MeterDeps, MeterTypeDeps {
  summary: SummaryStore;
  /** Extra read-only routes other features contribute (streams, corrections). */
  extraRoutes?: Route[];
  log?: (message: string, error: unknown) => void;
}

/** A request as a route sees it: path parameters, query string, and the parsed JSON body. */
export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
}

export type RouteResult = APIGatewayProxyStructuredResultV2;

/** One route: method, path under the base path (with `{name}` parameters) and its handler. */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /**
   * Who may call it, when that is more than its method implies (GET read, POST and PATCH write,
   * DELETE admin): API Gateway requires the matching JWT scope.
   */
  access?: AccessLevel;
  handle: (request: ApiRequest, deps: ApiDeps) => Promise<RouteResult>;
}

/** Query string of `GET /meter-types`. */
export const meterTypeListQuery = z.strictObject({
  ...pagingQuery,
  category: identifier(80).optional(),
  name: identifier(80).optional(),
});

/** Query string of `GET /meters`. */
export const meterListQuery = z.strictObject({
  ...pagingQuery,
  meterTypeId: identifier(100).optional(),
  userId: identifier(256).optional(),
  meterKey: identifier(100).optional(),
});

const created = (location: string, body: unknown) => jsonResponse(201, body, { location });

/** The routes of meter types, meters and the summary. */
export const coreRoutes: Route[] = [
  {
    method: 'POST',
    path: '/meter-types',
    handle: async (req, deps) => {
      const type = await createMeterType(deps, req.body);
      return created(`${API_BASE_PATH}/meter-types/${type.id}`, type);
    },
  },
  {
    method: 'GET',
    path: '/meter-types',
    handle: async (req, deps) => {
      const { limit, nextToken, ...filter } = parseOrThrow(meterTypeListQuery, req.query);
      const page = await listMeterTypes(deps, filter, limit, nextToken);
      return jsonResponse(200, { meterTypes: page.items, nextToken: page.nextToken });
    },
  },
  {
    method: 'GET',
    path: '/meter-types/{id}',
    handle: async (req, deps) =>
      jsonResponse(200, await getMeterType(deps, idParam(req, 'id', 'meter type'))),
  },
  {
    method: 'PATCH',
    path: '/meter-types/{id}',
    handle: async (req, deps) =>
      jsonResponse(200, await updateMeterType(deps, idParam(req, 'id', 'meter type'), req.body)),
  },
  {
    method: 'DELETE',
    path: '/meter-types/{id}',
    handle: async (req, deps) => {
      await deleteMeterType(deps, idParam(req, 'id', 'meter type'));
      return noContent();
    },
  },
  {
    method: 'POST',
    path: '/meters',
    handle: async (req, deps) => {
      const meter = await createMeter(deps, req.body);
      return created(`${API_BASE_PATH}/meters/${meter.id}`, meter);
    },
  },
  {
    method: 'GET',
    path: '/meters',
    handle: async (req, deps) => {
      const { limit, nextToken, ...filter } = parseOrThrow(meterListQuery, req.query);
      const page = await listMeters(deps, filter, limit, nextToken);
      return jsonResponse(200, { meters: page.items, nextToken: page.nextToken });
    },
  },
  {
    method: 'GET',
    path: '/meters/{id}',
    handle: async (req, deps) =>
      jsonResponse(200, await getMeter(deps, idParam(req, 'id', 'meter'))),
  },
  {
    method: 'PATCH',
    path: '/meters/{id}',
    handle: async (req, deps) =>
      jsonResponse(200, await updateMeter(deps, idParam(req, 'id', 'meter'), req.body)),
  },
  {
    method: 'DELETE',
    path: '/meters/{id}',
    handle: async (req, deps) => {
      await deleteMeter(deps, idParam(req, 'id', 'meter'));
      return noContent();
    },
  },
  {
    method: 'GET',
    path: '/summary',
    handle: async (_req, deps) => jsonResponse(200, await deps.summary.summary()),
  },
  {
    // The committed document (`npm run openapi`), bundled with the handler.
    method: 'GET',
    path: '/openapi.json',
    handle: async () => jsonResponse(200, openApiDocument),
  },
];

/** The API Gateway route key of a route, e.g. `GET /usage-metering/v1/meters/{id}`. */
export function routeKeyOf(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${API_BASE_PATH}${route.path}`;
}

/** Finds the route for a method and concrete path, with its path parameters. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  rawPath: string,
): { route: Route; params: Record<string, string> } | 'method-not-allowed' | undefined {
  if (!rawPath.startsWith(`${API_BASE_PATH}/`)) return undefined;
  const parts = rawPath.slice(API_BASE_PATH.length).split('/').filter(Boolean);
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((segment, i) => {
      const part = parts[i] ?? '';
      if (segment.startsWith('{') && segment.endsWith('}')) {
        params[segment.slice(1, -1)] = safeDecode(part);
        return part.length > 0;
      }
      return segment === part;
    });
    if (!matches) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? 'method-not-allowed' : undefined;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Reads the JSON body: 413 over 64 KiB, 415 when not JSON, 400 when malformed. */
export function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64')
    : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) {
    throw new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  const contentType = headerOf(event, 'content-type') ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(mediaType)) {
    throw new HttpError(415, 'the body must be JSON, sent with content-type: application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  const problem = unsafeStructure(body);
  if (problem) throw new ValidationError([problem]);
  return body;
}

/** Keys that would reach object prototypes in JavaScript code downstream. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Refuses, before any schema sees it, a body holding a `__proto__`, `constructor` or
 * `prototype` key at any depth. The walk uses no recursion, so no nesting can overflow it
 * (the body is at most 64 KiB); the schemas bound nesting where they keep a value.
 */
function unsafeStructure(body: unknown): { field: string; message: string } | undefined {
  const stack: { value: unknown; path: string }[] = [{ value: body, path: '' }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: string };
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const child = path ? `${path}.${key}` : key;
      if (RESERVED_KEYS.has(key)) {
        const field = child.length > 200 ? `${child.slice(0, 200)}…` : child;
        return { field, message: `'${key}' is a reserved key` };
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: child });
    }
  }
  return undefined;
}

function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** Builds the API's Lambda handler from its dependencies. */
export function createApiHandler(deps: ApiDeps) {
  const routes = [...coreRoutes, ...(deps.extraRoutes ?? [])];
  const log = deps.log ?? ((message: string, error: unknown) => console.error(message, error));
  const handle = async (event: APIGatewayProxyEventV2): Promise<RouteResult> => {
    const method = event.requestContext.http.method.toUpperCase();
    const match = matchRoute(routes, method, event.rawPath);
    if (match === undefined) throw new HttpError(404, `no route for ${event.rawPath}`);
    if (match === 'method-not-allowed')
      throw new HttpError(405, `${method} is not allowed on ${event.rawPath}`);
    const body = method === 'POST' || method === 'PATCH' ? readJsonBody(event) : undefined;
    const query = Object.fromEntries(
      Object.entries(event.queryStringParameters ?? {}).filter(([, v]) => v !== undefined),
    );
    return match.route.handle({ params: match.params, query, body }, deps);
  };
  return middy<APIGatewayProxyEventV2, RouteResult, Error, Context>()
    .onError((request) => {
      request.response = errorResponse(request.error, log);
    })
    .handler(handle);
}
