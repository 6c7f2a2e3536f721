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
  /** The body's JSON text as sent (HTTP ingestion keeps each record's own bytes). */
  bodyText?: string;
  /** The `accept` header, for the routes that can answer in more than one format. */
  accept?: string;
  /** The `If-Match` header, for the routes that change a versioned resource. */
  ifMatch?: string;
}

/** Serves one route, its dependencies bound beforehand. */
export type Operation = (request: ApiRequest) => Promise<RouteResult>;

/** One bound operation per operation of the route table. */
export type Operations = Readonly<Record<OperationId, Operation>>;

/**
 * A page size from the query string: decimal digits only (no sign, spaces, `0x`, `1e2`), a whole
 * number from 1 to `max`.
 */
export function pageLimit(max: number, fallback: number) {
  const message = `must be a whole number from 1 to ${max}, in decimal digits`;
  const schema = z
    .string({ error: message })
    .regex(/^[0-9]{1,7}$/, { error: message })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: message }).max(max, { error: message }))
    .optional()
    .transform((n) => n ?? fallback);
  QUERY_PARAMETER_DOCS.set(schema, {
    type: 'integer',
    minimum: 1,
    maximum: max,
    default: fallback,
  });
  return schema;
}

/**
 * How the document shows query parameters that are parsed from text: `limit` is an integer to
 * a client (sent in decimal), though the handler reads the string.
 */
export const QUERY_PARAMETER_DOCS = new Map<z.ZodType, Record<string, string | number>>();

/** The opaque `nextToken` of list routes: a token the API returned (base64url). */
export const nextTokenQuery = z
  .string({ error: 'must be a token this API returned' })
  .regex(/^[A-Za-z0-9_-]{1,4096}$/, { error: 'is not a token this API returned' })
  .optional();

/** `limit` (1–100, default 50) and the opaque `nextToken` of list routes. */
export const pagingQuery = {
  limit: pageLimit(100, 50),
  nextToken: nextTokenQuery,
};

/** A path parameter; the router guarantees it is there for a matched route. */
export function param(request: { params: Record<string, string> }, name: string): string {
  return request.params[name] ?? '';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id path parameter: every id of this API is a UUID, so anything else is simply not found.
 * Ids are case-insensitive on input and lower case everywhere else.
 */
export function idParam(
  request: { params: Record<string, string> },
  name: string,
  what: string,
): string {
  const id = param(request, name);
  if (!UUID.test(id)) {
    throw new NotFoundError(`${what} ${id.length > 40 ? `${id.slice(0, 40)}…` : id} not found`);
  }
  return id.toLowerCase();
}
