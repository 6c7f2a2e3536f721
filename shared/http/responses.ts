/**
 * How the API answers: JSON with the service's standard headers, and every error mapped to a
 * response in this one place. An error states its own HTTP meaning (shared/domain/errors.ts);
 * anything else is a 500 whose body says nothing of internals.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ServiceError } from '../domain/errors.js';

/** What a route answers: an API Gateway HTTP API (payload 2.0) result. */
export type RouteResult = APIGatewayProxyStructuredResultV2;

/** A JSON response with the service's standard headers. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): RouteResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** The 201 answer of a create, with the new resource's path in `location`. */
export function created(location: string, body: unknown): RouteResult {
  return jsonResponse(201, body, { location });
}

/** The empty 204 answer of a delete. */
export function noContent(): RouteResult {
  return { statusCode: 204, headers: {}, body: '' };
}

/** The response for an error; `log` receives every 5xx with its cause. */
export function errorResponse(
  error: unknown,
  log: (message: string, error: unknown) => void,
): RouteResult {
  const known = error instanceof ServiceError ? error : new ServiceError('unhandled');
  if (known.statusCode >= 500) {
    log(known.statusCode === 503 ? 'dependency unavailable' : 'unhandled error', error);
  }
  return jsonResponse(known.statusCode, known.toResponseBody(), known.headers);
}
