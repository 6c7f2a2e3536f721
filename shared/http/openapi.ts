/**
 * The OpenAPI 3.1 document of the HTTP API: one operation per row of the route table, built from
 * the same zod schemas the handlers parse with (bodies and query strings) plus the response
 * schemas (openapi-schemas.ts). `npm run openapi` writes it to `shared/http/openapi.json`, which
 * `GET /openapi.json` serves and a test keeps current.
 */
import { z } from 'zod';
import { IDENTIFIER_PATTERN } from '../domain/schema-primitives.js';
import { scopesFor } from './access-levels.js';
import {
  buildComponentSchemas,
  componentRef,
  type Json,
  type JsonObject,
} from './openapi-components.js';
import {
  ERROR_EXAMPLES,
  EXPORT_EXAMPLES,
  REQUEST_EXAMPLES,
  RESPONSE_EXAMPLES,
} from './openapi-examples.js';
import { OPERATIONS, type OperationDoc, TAGS } from './openapi-operations.js';
import { QUERY_PARAMETER_DOCS } from './route-helpers.js';
import { ALL_ROUTE_SPECS, API_BASE_PATH, type RouteSpec } from './route-specs.js';
import { MAX_BODY_BYTES } from './router.js';

/** The local stack's API, as `npm start` serves it by default. */
export const LOCAL_SERVER_URL = `http://127.0.0.1:3000${API_BASE_PATH}`;

const QUERY_NOTES: Record<string, string> = {
  limit: 'page size',
  nextToken: 'the `nextToken` of the previous page',
};

/** Query parameters from the strict query object a handler parses with. */
function queryParameters(query: z.ZodObject): JsonObject[] {
  const schema = z.toJSONSchema(query, { io: 'input', target: 'draft-2020-12' }) as JsonObject;
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const field = query.shape[name] as z.ZodType | undefined;
    const documented = field ? QUERY_PARAMETER_DOCS.get(field) : undefined;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(QUERY_NOTES[name] ? { description: QUERY_NOTES[name] } : {}),
      schema: documented ?? property,
    };
  });
}

const jsonContent = (schema: JsonObject, example?: Json): JsonObject => ({
  'application/json': { schema, ...(example === undefined ? {} : { example }) },
});

const errorBody = (description: string, example: Json | undefined): JsonObject => ({
  description,
  content: jsonContent(componentRef('Error'), example),
});

const OPENAPI_DOCUMENT_EXAMPLE: JsonObject = {
  openapi: '3.1.1',
  info: { title: 'Usage metering API', version: '1' },
  paths: {},
  components: {},
};

/**
 * IAM, or a JWT with any one of the scopes of the route's level (default names): one security
 * requirement per scope, because the scopes listed in one requirement would all be needed.
 */
const securityOf = (route: RouteSpec): Json[] => [
  { awsSigV4: [] },
  ...scopesFor(route.access).map((scope) => ({ jwt: [scope] })),
];

/** The CSV and NDJSON forms of a page of metered records, and the header with the next token. */
function exportAnswers(): JsonObject {
  return {
    headers: {
      'x-next-token': {
        description: 'CSV and NDJSON only: the next page token; absent on the last page',
        schema: { type: 'string' },
      },
    },
    content: {
      ...jsonContent(componentRef('MeteredRecordList'), RESPONSE_EXAMPLES.MeteredRecordList),
      'text/csv': {
        schema: { type: 'string', description: 'a header row, then one row per record' },
        example: EXPORT_EXAMPLES.csv,
      },
      'application/x-ndjson': {
        schema: { type: 'string', description: 'one MeteredRecord JSON per line' },
        example: EXPORT_EXAMPLES.ndjson,
      },
    },
  };
}

/** What each path parameter takes: ids are UUIDs (anything else is simply not found). */
const PATH_PARAMETERS: Record<string, JsonObject> = {
  id: {
    description: 'a UUID, in any case; anything else is 404',
    schema: { type: 'string', format: 'uuid' },
  },
  recordId: {
    description: 'a UUID, in any case; anything else is 404',
    schema: { type: 'string', format: 'uuid' },
  },
  userId: {
    description: 'the user id, URL-encoded',
    schema: { type: 'string', minLength: 1, maxLength: 256, pattern: IDENTIFIER_PATTERN },
  },
  name: {
    description: 'a stream name; an unknown one is 404',
    schema: { type: 'string', pattern: '^[a-zA-Z0-9_.-]{1,128}$' },
  },
};

/** `GET /openapi.json`: an OpenAPI 3.1 document; its parts are described by that standard. */
const OPENAPI_DOCUMENT_SCHEMA: JsonObject = {
  type: 'object',
  description: 'this document (OpenAPI 3.1)',
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    ...Object.fromEntries(
      ['info', 'paths', 'components'].map((name) => [
        name,
        { type: 'object', additionalProperties: true },
      ]),
    ),
    ...Object.fromEntries(['servers', 'security', 'tags'].map((name) => [name, { type: 'array' }])),
  },
  required: ['openapi', 'info', 'paths', 'components'],
  additionalProperties: false,
};

/** The success and error answers of an operation. */
function responsesOf(route: RouteSpec, doc: OperationDoc): JsonObject {
  const responses: JsonObject = {};
  if (doc.accepted) {
    responses['202'] = {
      description: 'accepted',
      content: jsonContent(componentRef(doc.returns ?? ''), RESPONSE_EXAMPLES[doc.returns ?? '']),
    };
  } else if (doc.created) {
    responses['201'] = {
      description: 'created',
      headers: { Location: { $ref: '#/components/headers/Location' } },
      content: jsonContent(componentRef(doc.returns ?? ''), RESPONSE_EXAMPLES[doc.returns ?? '']),
    };
  } else if (doc.noContent) {
    responses['204'] = { description: 'deleted' };
  } else {
    responses['200'] = {
      description: 'OK',
      ...(doc.etag ? { headers: { ETag: { $ref: '#/components/headers/ETag' } } } : {}),
      content: doc.returns
        ? jsonContent(componentRef(doc.returns), RESPONSE_EXAMPLES[doc.returns])
        : jsonContent(OPENAPI_DOCUMENT_SCHEMA, OPENAPI_DOCUMENT_EXAMPLE),
    };
    if (doc.exports) Object.assign(responses['200'] as JsonObject, exportAnswers());
  }
  const errors: Record<string, string> = { ...doc.errors };
  if (doc.readsBody) {
    errors['400'] ??= 'the body is not valid JSON';
    errors['413'] = `the body is larger than ${sizeOf(route.maxBodyBytes ?? MAX_BODY_BYTES)}`;
    errors['415'] = 'the body is not sent as `content-type: application/json`';
  }
  for (const code of Object.keys(errors).sort()) {
    const example = code === '400' && !doc.readsBody ? '400-query' : code;
    responses[code] = errorBody(errors[code] ?? '', ERROR_EXAMPLES[example]);
  }
  responses['431'] = { $ref: '#/components/responses/HeadersTooLarge' };
  responses['500'] = { $ref: '#/components/responses/InternalError' };
  if (doc.mayBeBusy) responses['503'] = { $ref: '#/components/responses/ServiceUnavailable' };
  return responses;
}

/** A GET's answers for HEAD: the same status codes and headers, no body. */
function headResponses(responses: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(responses).map(([code, response]) => {
      const { content: _content, ...rest } = response as JsonObject;
      return [code, '$ref' in rest ? { description: `as GET: ${code}`, ...headersOf(rest) } : rest];
    }),
  );
}

function headersOf(response: JsonObject): JsonObject {
  const ref = String(response.$ref ?? '');
  const headers = (RESPONSES[ref.split('/').pop() ?? ''] as JsonObject | undefined)?.headers;
  return headers ? { headers } : {};
}

/** HEAD beside a GET, as the API serves it (the router, and a route of its own in API Gateway). */
function headOperation(get: JsonObject): JsonObject {
  return {
    ...get,
    operationId: `${String(get.operationId)}Head`,
    summary: `${String(get.summary)} (headers only)`,
    description: 'As GET, with the same status and headers, and no body.',
    responses: headResponses(get.responses as JsonObject),
  };
}

function sizeOf(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

const IF_MATCH: JsonObject = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description:
    'The ETag of the version the change is based on (`"3"` or `3`), or `*`; a weak tag (`W/"3"`) matches nothing (strong comparison). A stale one is refused with 412. Without it, the change is still based on the version read when the request arrives.',
  schema: { type: 'string' },
  example: '"3"',
};

/** The JSON body of an operation, with its example when it has one. */
function bodyContent(doc: OperationDoc): JsonObject {
  return jsonContent(
    componentRef(doc.body ?? ''),
    REQUEST_EXAMPLES[doc.body ?? ''] ?? (doc.bodyExample as Json | undefined),
  );
}

function operationObject(route: RouteSpec, doc: OperationDoc): JsonObject {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name ?? '',
    in: 'path',
    required: true,
    ...PATH_PARAMETERS[name ?? ''],
  }));
  return {
    operationId: route.operation,
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(pathParameters.length || doc.query || doc.ifMatch
      ? {
          parameters: [
            ...pathParameters,
            ...(doc.query ? queryParameters(doc.query) : []),
            ...(doc.ifMatch ? [IF_MATCH] : []),
          ],
        }
      : {}),
    ...(doc.body ? { requestBody: { required: true, content: bodyContent(doc) } } : {}),
    responses: responsesOf(route, doc),
    security: securityOf(route),
  };
}

/** One path item per path of the route table, an operation per route, in the table's order. */
function buildPaths(): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of ALL_ROUTE_SPECS) {
    paths[route.path] ??= {};
    const operation = operationObject(route, OPERATIONS[route.operation]);
    (paths[route.path] as JsonObject)[route.method.toLowerCase()] = operation;
    if (route.method === 'GET') (paths[route.path] as JsonObject).head = headOperation(operation);
  }
  return paths;
}

const INFO: JsonObject = {
  title: 'Usage metering API',
  version: '1',
  summary: 'Meter types, meters, data corrections and streams of the usage-metering service.',
  description: [
    "Meter types describe what is measured; meters are one customer's bucket for one meter type. Usage arrives on Kinesis (see the `UsageRecord` schema); at every period end a metered record (`MeteredRecord`) goes to SQS or SNS.",
    '',
    'Bodies are JSON in UTF-8, at most 64 KiB (usage records sent over HTTPS: 1 MiB), sent as `content-type: application/json` (a `charset` other than UTF-8, or any `content-encoding`, is 415; bytes that are not UTF-8 are 400). Errors are `{ "message", "issues": [{ "field", "message" }] }`: `issues` names every field at fault (400) or the field whose value is taken (409). Ids are UUIDs, case-insensitive on input and lower case in answers. `null` in a PATCH clears an optional field; fields that are not set are left out of answers. A path this document does not list is 404 (`NotFound`); a listed path with a method it does not list is 405 with `Allow` (`MethodNotAllowed`); HEAD is served wherever GET is. Every route that reads DynamoDB or the scheduler may answer 503 with `Retry-After`. A deployment throttles all callers together (100 requests per second, burst 200 by default) and answers 429 above that: retry with backoff. Response objects list every field they may hold; new fields come with a new version of this document.',
    '',
    'Authorization: AWS IAM (Signature Version 4, service `execute-api`) by default; a deployment may use a JWT authorizer (issuer and audience, e.g. OAuth2 client credentials) instead. Every operation has an access level: `read` (GET), `write` (create and change) or `admin` (delete, re-send). With JWT, an operation lists the scopes that may call it, any one of which suffices; a scope of a higher level includes the lower ones. The local stack checks neither.',
  ].join('\n'),
  license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
};

const SERVERS: Json[] = [
  { url: LOCAL_SERVER_URL, description: 'the local stack (`npm start`)' },
  {
    url: `https://{apiId}.execute-api.{region}.amazonaws.com${API_BASE_PATH}`,
    description: 'a deployment on API Gateway (HTTP API)',
    variables: {
      apiId: { default: 'abcdef1234', description: 'the HTTP API id from the stack outputs' },
      region: { default: 'us-east-1' },
    },
  },
];

const HEADERS: JsonObject = {
  Allow: {
    description: 'the methods the path serves, e.g. `GET, HEAD, PATCH, DELETE`',
    schema: { type: 'string' },
  },
  Location: {
    description: 'path of the created resource, under the base path',
    schema: { type: 'string' },
  },
  ETag: {
    description: 'the version of the resource, as a strong entity tag: `"3"`',
    schema: { type: 'string' },
    example: '"3"',
  },
  RetryAfter: {
    description: 'seconds to wait before retrying',
    schema: { type: 'integer', minimum: 0 },
  },
};

const RESPONSES: JsonObject = {
  MethodNotAllowed: {
    description:
      'Any path of this document, with a method it does not list: `Allow` names the methods it serves (HEAD wherever GET is).',
    headers: { Allow: { $ref: '#/components/headers/Allow' } },
    content: jsonContent(componentRef('Error'), ERROR_EXAMPLES['405']),
  },
  NotFound: {
    description:
      'A path this document does not list (paths match exactly: no trailing slash, no empty segments).',
    content: jsonContent(componentRef('Error'), {
      message: 'no route for /usage-metering/v1/meters/',
    }),
  },
  HeadersTooLarge: {
    description:
      'The request headers are too large (API Gateway or the local gateway refuse them before the API sees them); the body, if any, is not JSON.',
  },
  InternalError: {
    description: 'A failure of the service; the body says nothing of internals.',
    content: jsonContent(componentRef('Error'), ERROR_EXAMPLES['500']),
  },
  ServiceUnavailable: {
    description: 'DynamoDB or the scheduler is throttled or unavailable; retry after a while',
    headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    content: jsonContent(componentRef('Error'), ERROR_EXAMPLES['503']),
  },
};

const SECURITY_SCHEMES: JsonObject = {
  awsSigV4: {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description:
      'The default: AWS IAM. Sign requests with Signature Version 4 for the service `execute-api`; the caller needs `execute-api:Invoke` on the route.',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
  jwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'The alternative, for a deployment with a JWT authorizer (issuer and audience, e.g. OAuth2 client credentials): a bearer token from its issuer; such a deployment requires this scheme instead of awsSigV4. The token needs one of the scopes an operation lists: `usage-metering/read`, `usage-metering/write` or `usage-metering/admin` by default; a deployment may rename them.',
  },
};

/** Builds the OpenAPI 3.1 document of the API; deterministic, so it can be committed. */
export function buildOpenApiDocument(): JsonObject {
  return {
    openapi: '3.1.1',
    info: INFO,
    servers: SERVERS,
    security: [{ awsSigV4: [] }],
    tags: Object.values(TAGS).map((name) => ({ name })),
    paths: buildPaths(),
    components: {
      schemas: buildComponentSchemas(),
      headers: HEADERS,
      responses: RESPONSES,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/** The document as committed: two-space JSON with a trailing newline. */
export function renderOpenApiDocument(document: JsonObject = buildOpenApiDocument()): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
