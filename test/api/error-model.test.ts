/**
 * One error model: every error carries its HTTP meaning and one function maps it to the response
 * (shared/http/responses.ts); the router answers 404, 405 with `Allow`, 413, 415 and 400 itself.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ConflictError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PublishFailedError,
  SchedulerUnavailableError,
  ServiceError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../shared/domain/errors.js';
import { errorResponse } from '../../shared/http/responses.js';
import { ALL_ROUTE_SPECS, API_BASE_PATH } from '../../shared/http/route-specs.js';
import { createRouter, MAX_BODY_BYTES } from '../../shared/http/router.js';

function mapped(error: unknown) {
  const logged: { message: string; error: unknown }[] = [];
  const response = errorResponse(error, (message, cause) => logged.push({ message, error: cause }));
  return { ...response, logged };
}

const JSON_ONLY = { 'content-type': 'application/json' };

describe('errorResponse', () => {
  it.each([
    [new BadRequestError('the body is not valid JSON'), 400],
    [new NotFoundError('meter m not found'), 404],
    [new PayloadTooLargeError('the body must be at most 65536 bytes'), 413],
    [new UnsupportedMediaTypeError('the body must be JSON'), 415],
  ])('answers %s with its status and message, unlogged', (error, status) => {
    expect(mapped(error)).toEqual({
      statusCode: status,
      headers: JSON_ONLY,
      body: JSON.stringify({ message: error.message }),
      logged: [],
    });
  });

  it('names the fields at fault of a validation error', () => {
    const error = new ValidationError([{ field: 'name', message: 'is required' }]);
    expect(mapped(error)).toMatchObject({
      statusCode: 400,
      body: '{"message":"name: is required","issues":[{"field":"name","message":"is required"}]}',
    });
  });

  it('names the taken field of a conflict, when there is one', () => {
    expect(mapped(new ConflictError('name taken', 'name')).body).toBe(
      '{"message":"name taken","issues":[{"field":"name","message":"name taken"}]}',
    );
    expect(mapped(new ConflictError('changed meanwhile')).body).toBe(
      '{"message":"changed meanwhile"}',
    );
  });

  it('sends Allow with a 405', () => {
    expect(mapped(new MethodNotAllowedError('PUT is not allowed', ['POST', 'GET']))).toMatchObject({
      statusCode: 405,
      headers: { ...JSON_ONLY, allow: 'POST, GET' },
    });
  });

  it.each([
    new ServiceUnavailableError('the metering store is busy', 3),
    new SchedulerUnavailableError('Could not create schedule x', {
      scheduleName: 'x',
      operation: 'schedule',
    }),
    new PublishFailedError('m', [{ recordId: 'r', error: 'SQS down' }]),
  ])('answers %s with 503 and Retry-After, logs it, and hides its message', (error) => {
    const response = mapped(error);
    expect(response).toMatchObject({
      statusCode: 503,
      headers: { ...JSON_ONLY, 'retry-after': String(error.retryAfterSeconds) },
      body: '{"message":"the service is busy; retry shortly"}',
    });
    expect(response.logged).toEqual([{ message: 'dependency unavailable', error }]);
  });

  it.each([new Error('secret table name'), new ServiceError('secret detail'), 'a thrown string'])(
    'answers anything else with a bare 500 and logs it: %s',
    (error) => {
      expect(mapped(error)).toEqual({
        statusCode: 500,
        headers: JSON_ONLY,
        body: '{"message":"internal error"}',
        logged: [{ message: 'unhandled error', error }],
      });
    },
  );
});

describe('the router', () => {
  const route = createRouter(ALL_ROUTE_SPECS);
  const event = (method: string, path: string, body?: string, contentType = 'application/json') =>
    ({
      rawPath: `${API_BASE_PATH}${path}`,
      headers: body === undefined ? {} : { 'Content-Type': contentType },
      requestContext: { http: { method } },
      body,
      isBase64Encoded: false,
    }) as unknown as APIGatewayProxyEventV2;
  const thrown = (e: APIGatewayProxyEventV2) => {
    try {
      route(e);
    } catch (error) {
      return error;
    }
    throw new Error('expected the router to refuse the request');
  };

  it('finds the operation of a route, with decoded path parameters, query and body', () => {
    const e = event('PATCH', '/meters/a%20b', '{"deleteOnReset":true}');
    const routed = route({ ...e, queryStringParameters: { x: '1', y: undefined } });
    expect(routed.route.operation).toBe('updateMeter');
    expect(routed.request).toEqual({
      params: { id: 'a b' },
      query: { x: '1' },
      body: { deleteOnReset: true },
      bodyText: '{"deleteOnReset":true}',
    });
  });

  it('answers 404 for an unknown path and 405 listing the methods of a known one', () => {
    expect(thrown(event('GET', '/nothing-here'))).toBeInstanceOf(NotFoundError);
    expect(thrown({ ...event('GET', ''), rawPath: '/elsewhere/meters' })).toBeInstanceOf(
      NotFoundError,
    );
    const wrongMethod = thrown(event('PUT', '/meter-types/x'));
    expect(wrongMethod).toBeInstanceOf(MethodNotAllowedError);
    expect((wrongMethod as MethodNotAllowedError).headers).toEqual({
      allow: 'GET, HEAD, PATCH, DELETE',
    });
  });

  it('refuses a body that is too large, not JSON, malformed or reaching a prototype', () => {
    const big = JSON.stringify({ x: 'a'.repeat(MAX_BODY_BYTES) });
    expect(thrown(event('POST', '/meters', big))).toBeInstanceOf(PayloadTooLargeError);
    expect(thrown(event('POST', '/meters', 'x=1', 'text/plain'))).toBeInstanceOf(
      UnsupportedMediaTypeError,
    );
    expect(thrown(event('POST', '/meters', '{'))).toBeInstanceOf(BadRequestError);
    expect(thrown(event('POST', '/meters', '{"a":{"__proto__":{}}}'))).toMatchObject({
      name: 'ValidationError',
      issues: [{ field: 'a.__proto__', message: "'__proto__' is a reserved key" }],
    });
  });
});
