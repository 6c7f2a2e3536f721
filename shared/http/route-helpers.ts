/** Small pieces every group of operations shares: the request shape, paging, path parameters. */
import { z } from 'zod';
import { NotFoundError } from '../domain/errors.js';
import type { RouteResult } from './responses.js';
import type { OperationId } from './route-specs.js';

/** A request as an operation sees it: path parameters, query string, and the parsed JSON body. */
export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
  /** The `accept` header, for the routes that can answer in more than one format. */
  accept?: string;
  /** The `If-Match` header, for the routes that change a versioned resource. */
  ifMatch?: string;
}

/** Serves one route, its dependencies bound beforehand. */
export type Operation = (request: ApiRequest) => Promise<RouteResult>;

/** One bound operation per operation of the route table. */
export type Operations = Readonly<Record<OperationId, Operation>>;

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

/** A path parameter; the router guarantees it is there for a matched route. */
export function param(request: { params: Record<string, string> }, name: string): string {
  return request.params[name] ?? '';
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
