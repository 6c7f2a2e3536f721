/** Maps every error to one HTTP response, in one place. Only 4xx messages reach the caller. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConflictError, NotFoundError, ServiceUnavailableError } from '../application/errors.js';
import { ValidationError } from '../domain/validation.js';
import { SchedulerUnavailableError } from '../ports/period-end-scheduler.js';

/** An HTTP-level client error raised while reading a request (413, 415, 404 route, 405). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A JSON response with the service's standard headers. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** The response for an error; `log` receives every 5xx with its cause. */
export function errorResponse(
  error: unknown,
  log: (message: string, error: unknown) => void,
): APIGatewayProxyStructuredResultV2 {
  if (error instanceof ValidationError) {
    return jsonResponse(400, { message: error.message, issues: error.issues });
  }
  if (error instanceof NotFoundError) return jsonResponse(404, { message: error.message });
  if (error instanceof ConflictError) {
    return jsonResponse(409, {
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
    });
  }
  if (error instanceof HttpError) {
    return jsonResponse(error.statusCode, { message: error.message }, error.headers);
  }
  if (error instanceof ServiceUnavailableError || error instanceof SchedulerUnavailableError) {
    log('dependency unavailable', error);
    const retryAfter = error instanceof ServiceUnavailableError ? error.retryAfterSeconds : 1;
    return jsonResponse(
      503,
      { message: 'the service is busy; retry shortly' },
      { 'retry-after': String(retryAfter) },
    );
  }
  log('unhandled error', error);
  return jsonResponse(500, { message: 'internal error' });
}
