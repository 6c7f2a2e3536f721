/**
 * The API's own small router: matches a request against the route table (built once), and reads
 * what an operation gets. 404 for an unknown path (exactly as API Gateway matches it: no empty
 * segments, no trailing slash), 405 with `Allow` for a wrong method (middy 6's router answers 404
 * there), HEAD wherever GET is served, and 413 / 415 / 400 for a body that is too large, not
 * UTF-8 JSON, encoded, or malformed.
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
    // API Gateway matches paths segment by segment: `//meter-types` and `/meter-types/` are
    // other paths than `/meter-types`, so empty segments are kept and match nothing.
    const parts = path.startsWith(`${API_BASE_PATH}/`)
      ? path.slice(API_BASE_PATH.length + 1).split('/')
      : undefined;
    const matches = mostSpecific(
      table.flatMap(({ route, segments }) => {
        const params = parts && paramsOf(segments, parts);
        return params ? [{ route, params }] : [];
      }),
    );
    if (matches.length === 0) throw new NotFoundError(`no route for ${path}`);
    // HEAD is GET without the body (the handler drops it), wherever GET is served.
    const served = method === 'HEAD' ? 'GET' : method;
    const match = matches.find(({ route }) => route.method === served);
    if (!match) {
      throw new MethodNotAllowedError(
        `${method} is not allowed on ${path}`,
        allowedMethods(matches.map(({ route }) => route.method)),
      );
    }
    const read =
      method === 'POST' || method === 'PUT' || method === 'PATCH'
        ? readJsonBodyWithText(event, match.route.maxBodyBytes ?? MAX_BODY_BYTES)
        : undefined;
    const body = read?.body;
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
        ...(read?.text !== undefined ? { bodyText: read.text } : {}),
        ...(accept ? { accept } : {}),
        ...(ifMatch !== undefined ? { ifMatch } : {}),
      },
    };
  };
}

/**
 * The matches of the most specific path: a fixed segment beats a path parameter, so
 * `/corrections/counts` is never read as the entry `counts` of `/corrections/{id}` (any method:
 * a wrong one is 405 on the fixed path).
 */
function mostSpecific<M extends { route: RouteSpec }>(matches: M[]): M[] {
  const fixed = (m: M) => m.route.path.split('/').filter((s) => s && !s.startsWith('{')).length;
  const best = Math.max(...matches.map(fixed));
  return matches.filter((m) => fixed(m) === best);
}

/** The methods a path serves, for `Allow`: HEAD beside every GET. */
export function allowedMethods(methods: readonly string[]): string[] {
  return [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))];
}

/** The path parameters when `parts` fit the route's `segments`, else undefined. */
function paramsOf(segments: string[], parts: string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i] ?? '';
    if (part.length === 0) return undefined;
    if (segment.startsWith('{') && segment.endsWith('}')) {
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

/**
 * Reads the JSON body: 413 over 64 KiB; 415 when not JSON, in a charset other than UTF-8, or
 * content-encoded; 400 when not UTF-8 (never replaced by U+FFFD) or not JSON.
 */
export function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  return readJsonBodyWithText(event, MAX_BODY_BYTES)?.body;
}

/** The JSON body and its text, at most `maxBytes`; undefined without a body. */
function readJsonBodyWithText(
  event: APIGatewayProxyEventV2,
  maxBytes: number,
): { body: unknown; text: string } | undefined {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64')
    : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > maxBytes) {
    throw new PayloadTooLargeError(`the body must be at most ${maxBytes} bytes`);
  }
  checkMediaType(event);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw new BadRequestError('the body is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError('the body is not valid JSON');
  }
  const problem = unsafeStructure(body);
  if (problem) throw new ValidationError([problem]);
  return { body, text };
}

/** 415 unless the body is JSON in UTF-8 (the default) and not content-encoded. */
function checkMediaType(event: APIGatewayProxyEventV2): void {
  const encoding = headerOf(event, 'content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new UnsupportedMediaTypeError(
      `the body must not be content-encoded (content-encoding: ${encoding.slice(0, 40)})`,
    );
  }
  const [type = '', ...parameters] = (headerOf(event, 'content-type') ?? '').split(';');
  const mediaType = type.trim().toLowerCase();
  if (mediaType !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(mediaType)) {
    throw new UnsupportedMediaTypeError(
      'the body must be JSON, sent with content-type: application/json',
    );
  }
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    const charset = value
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      throw new UnsupportedMediaTypeError(
        `the body must be UTF-8 (content-type: application/json; charset=utf-8), not ${charset.slice(0, 40)}`,
      );
    }
  }
}

/** Keys that would reach object prototypes in JavaScript code downstream. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Refuses, before any schema sees it, a body holding a `__proto__`, `constructor` or
 * `prototype` key at any depth. The walk uses no recursion, so no nesting can overflow it
 * (the body is at most 1 MiB); the schemas bound nesting where they keep a value.
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
