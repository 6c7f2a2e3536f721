/**
 * The console's only way to the API: an openapi-fetch client typed by the types generated from
 * shared/http/openapi.json (`npm run console:types`), on the same origin as the console.
 */
import createClient from 'openapi-fetch';
import type { components } from './openapi-types.js';
import type { Paths } from './pending-routes.js';

export type Schemas = components['schemas'];
export type MeterType = Schemas['MeterType'];
export type MeterTypeCreate = Schemas['MeterTypeCreate'];
export type Meter = Schemas['Meter'];
export type MeteredRecord = Schemas['MeteredRecord'];
export type MeteredRecordList = Schemas['MeteredRecordList'];
export type DataCorrection = Schemas['DataCorrection'];
export type Stream = Schemas['Stream'];
export type StreamConfiguration = Schemas['StreamConfiguration'];
export type ErrorBody = Schemas['Error'];
export type FieldIssue = NonNullable<ErrorBody['issues']>[number];
export type ResetSchedule = Schemas['ResetSchedule'];
export type Warning = NonNullable<Schemas['MeterTypeWithWarnings']['warnings']>[number];

/** Where the API is: the page's `<meta name="api-base">`, else the local stack's base path. */
export function apiBase(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="api-base"]');
  return meta?.content || '/usage-metering/v1';
}

/** Adds `Authorization` to every request once a sign-in has given a token (hosted console). */
let bearerToken: string | undefined;
export function setBearerToken(token: string | undefined): void {
  bearerToken = token;
}

export const api = createClient<Paths>({ baseUrl: apiBase() });
api.use({
  onRequest({ request }) {
    if (bearerToken) request.headers.set('authorization', `Bearer ${bearerToken}`);
    return request;
  },
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
