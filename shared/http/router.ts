/**
 * The API's own small router: matches a request against the route table (built once), and reads
 * what an operation gets. 404 for an unknown path, 405 with `Allow` for a wrong method (middy 6's
 * router answers 404 there), 413 / 415 / 400 for a body that is too large, not JSON, or malformed.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  BadRequestError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors.js';
import type { ApiRequest } from './route-helpers.js';
import { API_BASE_PATH, type RouteSpec } from './route-specs.js';

/** The largest JSON body the API reads. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A request matched to its route, with what the route's operation reads. */
export interface RoutedRequest<R extends RouteSpec> {
  route: R;
  request: ApiRequest;
}

/** Builds the router of a route table: event in, route and request out, or a 4xx thrown. */
export function createRouter<R extends RouteSpec>(routes: readonly R[]) {
  const table = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
  return (event: APIGatewayProxyEventV2): RoutedRequest<R> => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const parts = path.startsWith(`${API_BASE_PATH}/`)
      ? path.slice(API_BASE_PATH.length).split('/').filter(Boolean)
      : undefined;
    const matches = table.flatMap(({ route, segments }) => {
      const params = parts && paramsOf(segments, parts);
      return params ? [{ route, params }] : [];
    });
    if (matches.length === 0) throw new NotFoundError(`no route for ${path}`);
    const match = matches.find(({ route }) => route.method === method);
    if (!match) {
      const allowed = matches.map(({ route }) => route.method);
      throw new MethodNotAllowedError(`${method} is not allowed on ${path}`, allowed);
    }
    const body =
      method === 'POST' || method === 'PUT' || method === 'PATCH' ? readJsonBody(event) : undefined;
    const query = Object.fromEntries(
      Object.entries(event.queryStringParameters ?? {}).filter(([, v]) => v !== undefined),
    );
    const accept = headerOf(event, 'accept');
    const ifMatch = headerOf(event, 'if-match');
    return {
      route: match.route,
      request: {
        params: match.params,
        query,
        body,
        ...(accept ? { accept } : {}),
        ...(ifMatch !== undefined ? { ifMatch } : {}),
      },
    };
  };
}

/** The path parameters when `parts` fit the route's `segments`, else undefined. */
function paramsOf(segments: string[], parts: string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i] ?? '';
    if (segment.startsWith('{') && segment.endsWith('}')) {
      if (part.length === 0) return undefined;
      params[segment.slice(1, -1)] = safeDecode(part);
    } else if (segment !== part) {
      return undefined;
    }
  }
  return params;
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
    throw new PayloadTooLargeError(`the body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  const contentType = headerOf(event, 'content-type') ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(mediaType)) {
    throw new UnsupportedMediaTypeError(
      'the body must be JSON, sent with content-type: application/json',
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadRequestError('the body is not valid JSON');
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
