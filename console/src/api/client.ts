/**
 * The console's only way to the API: an openapi-fetch client typed by the types generated from
 * shared/http/openapi.json (`npm run console:types`), on the console's origin or config.json's
 * `apiBaseUrl`, with the signed-in person's bearer token.
 */
import createClient from 'openapi-fetch';
import type { paths as Paths } from './openapi-types.js';
import type { ErrorBody, FieldIssue, MeteredRecordList } from './schemas.js';

export type * from './schemas.js';

/** The API's path on its origin: the page's `<meta name="api-base">`, else the usual one. */
export function apiBasePath(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="api-base"]');
  return meta?.content || '/usage-metering/v1';
}

let apiOrigin = '';

/** config.json's `apiBaseUrl` ("" = this origin): what goes before the API's base path. */
export function setApiBaseUrl(url: string): void {
  apiOrigin = url.replace(/\/+$/, '');
}

/** Adds `Authorization` to every request once a sign-in has given a token (hosted console). */
let bearerToken: string | undefined;
export function setBearerToken(token: string | undefined): void {
  bearerToken = token;
}

/** A signed-in session: a fresh token before each request, a refreshed one after a 401. */
export interface TokenSource {
  accessToken(): Promise<string>;
  refresh(): Promise<string>;
}
let tokens: TokenSource | undefined;
export function setTokenSource(source: TokenSource | undefined): void {
  tokens = source;
}

/** The request with its origin moved to `apiBaseUrl` and the current bearer token. */
async function prepare(request: Request): Promise<Request> {
  let prepared = request;
  if (apiOrigin && !request.url.startsWith(apiOrigin)) {
    const url = new URL(request.url);
    prepared = new Request(`${apiOrigin}${url.pathname}${url.search}`, request);
  }
  if (tokens) setBearerToken(await tokens.accessToken());
  if (bearerToken) prepared.headers.set('authorization', `Bearer ${bearerToken}`);
  return prepared;
}

/**
 * `fetch` for the API: base URL and token as above; on a 401 with a session, the token is
 * refreshed and the request sent once more.
 */
export async function apiFetch(request: Request): Promise<Response> {
  const retry = tokens ? request.clone() : undefined;
  const response = await fetch(await prepare(request));
  if (response.status !== 401 || !tokens || !retry) return response;
  setBearerToken(await tokens.refresh());
  return fetch(await prepare(retry));
}

export const api = createClient<Paths>({
  baseUrl: apiBasePath(),
  fetch: apiFetch,
});

/** A non-2xx answer of the API, with its field issues when it is a 400. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }

  get issues(): FieldIssue[] {
    return this.body?.issues ?? [];
  }
}

/** The data of an openapi-fetch result, or an ApiError for its error. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = result.error as ErrorBody | undefined;
    throw new ApiError(result.response.status, typeof body === 'object' ? body : undefined);
  }
  return result.data as T;
}

/** A metered-record list (those routes also answer CSV, so their data type includes text). */
export function recordList(data: MeteredRecordList | string): MeteredRecordList {
  if (typeof data === 'string') throw new Error('expected JSON, got text');
  return data;
}

/** True when a route is not served by this API (another branch's route, not yet deployed). */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 404 || error.status === 405);
}
