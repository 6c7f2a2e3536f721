/**
 * Routes the console uses that another branch adds to the API (issue 13: stream updates and
 * versions), in openapi-typescript's shape. `Paths` takes the generated declaration of a path over this one as soon as
 * `npm run console:types` finds it in openapi.json, so this file only fills gaps; once every
 * path here is generated, delete it. Until then the console treats a 404 from these routes as
 * "not available on this API" and hides the feature.
 */
import type { components, paths as generated } from './openapi-types.js';

type ErrorBody = components['schemas']['Error'];
type Json<T> = { headers: { [name: string]: unknown }; content: { 'application/json': T } };
type NoParams = { query?: never; header?: never; path?: never; cookie?: never };
type Unused = {
  put?: never;
  patch?: never;
  delete?: never;
  options?: never;
  head?: never;
  trace?: never;
};

/** One version of a stream's configuration. */
export interface StreamVersion {
  version: number;
  updatedAt: string;
  configuration: components['schemas']['StreamConfiguration'];
}

interface Pending {
  '/streams/{name}/versions': Unused & {
    parameters: NoParams;
    get: {
      parameters: { query?: never; header?: never; path: { name: string }; cookie?: never };
      requestBody?: never;
      responses: { 200: Json<{ versions: StreamVersion[] }>; 404: Json<ErrorBody> };
    };
    post?: never;
  };
}

/** The stream update (issue 13): PUT with If-Match, 412 when stale, warnings beside the view. */
export interface StreamUpdatePath {
  parameters: NoParams;
  get: generated['/streams/{name}']['get'];
  put: {
    parameters: {
      query?: never;
      header?: { 'If-Match'?: string };
      path: { name: string };
      cookie?: never;
    };
    requestBody: { content: { 'application/json': components['schemas']['StreamConfiguration'] } };
    responses: {
      200: Json<
        components['schemas']['Stream'] & { warnings?: { code: string; message: string }[] }
      >;
      400: Json<ErrorBody>;
      404: Json<ErrorBody>;
      412: Json<ErrorBody>;
    };
  };
  post?: never;
  patch?: never;
  delete?: never;
  options?: never;
  head?: never;
  trace?: never;
}

type StreamPath = generated['/streams/{name}'] extends { put: object }
  ? generated['/streams/{name}']
  : StreamUpdatePath;

/** The API's paths: the generated ones, the stream update, and the pending ones not yet generated. */
export type Paths = Omit<generated, '/streams/{name}'> & {
  '/streams/{name}': StreamPath;
} & Omit<Pending, keyof generated>;
