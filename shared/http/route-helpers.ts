/** Small pieces every group of routes shares: paging query fields, path parameters, 204. */

import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { NotFoundError } from '../application/errors.js';

/** `limit` (1–100, default 50) and the opaque `nextToken` of list routes. */
export const pagingQuery = {
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be between 1 and 100' })
    .max(100, { error: 'must be between 1 and 100' })
    .default(50),
  nextToken: z.string().max(4096).optional(),
};

/** A path parameter; API Gateway guarantees it is there for a matched route. */
export function param(request: { params: Record<string, string> }, name: string): string {
  return request.params[name] ?? '';
}

/** The empty 204 answer of a delete. */
export function noContent(): APIGatewayProxyStructuredResultV2 {
  return { statusCode: 204, headers: {}, body: '' };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id path parameter: every id of this API is a UUID, so anything else is simply not found. */
export function idParam(
  request: { params: Record<string, string> },
  name: string,
  what: string,
): string {
  const id = param(request, name);
  if (!UUID.test(id)) {
    throw new NotFoundError(`${what} ${id.length > 40 ? `${id.slice(0, 40)}…` : id} not found`);
  }
  return id;
}
