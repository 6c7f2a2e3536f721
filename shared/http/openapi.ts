/**
 * The OpenAPI 3.1 document of the HTTP API: one operation per row of the route table, built from
 * the same zod schemas the handlers parse with (bodies and query strings) plus the response
 * schemas (openapi-schemas.ts). `npm run openapi` writes it to `shared/http/openapi.json`, which
 * `GET /openapi.json` serves and a test keeps current.
 */
import { z } from 'zod';
import { scopesFor } from './access-levels.js';
import {
  buildComponentSchemas,
  componentRef,
  type Json,
  type JsonObject,
} from './openapi-components.js';
import { OPERATIONS, type OperationDoc, TAGS } from './openapi-operations.js';
import { ALL_ROUTE_SPECS, API_BASE_PATH, type RouteSpec } from './route-specs.js';

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
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(QUERY_NOTES[name] ? { description: QUERY_NOTES[name] } : {}),
    schema: property,
  }));
}

const jsonContent = (schema: JsonObject): JsonObject => ({
  'application/json': { schema },
});

const errorBody = (description: string): JsonObject => ({
  description,
  content: jsonContent(componentRef('Error')),
});

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
      ...jsonContent(componentRef('MeteredRecordList')),
      'text/csv': {
        schema: { type: 'string', description: 'a header row, then one row per record' },
      },
      'application/x-ndjson': {
        schema: { type: 'string', description: 'one MeteredRecord JSON per line' },
      },
    },
  };
}

/** The success and error answers of an operation. */
function responsesOf(doc: OperationDoc): JsonObject {
  const responses: JsonObject = {};
  if (doc.created) {
    responses['201'] = {
      description: 'created',
      headers: { Location: { $ref: '#/components/headers/Location' } },
      content: jsonContent(componentRef(doc.returns ?? '')),
    };
  } else if (doc.noContent) {
    responses['204'] = { description: 'deleted' };
  } else {
    responses['200'] = {
      description: 'OK',
      ...(doc.etag ? { headers: { ETag: { $ref: '#/components/headers/ETag' } } } : {}),
      content: jsonContent(doc.returns ? componentRef(doc.returns) : { type: 'object' }),
    };
    if (doc.exports) Object.assign(responses['200'] as JsonObject, exportAnswers());
  }
  const errors: Record<string, string> = { ...doc.errors };
  if (doc.readsBody) {
    errors['400'] ??= 'the body is not valid JSON';
    errors['413'] = 'the body is larger than 64 KiB';
    errors['415'] = 'the body is not sent as `content-type: application/json`';
  }
  for (const code of Object.keys(errors).sort()) {
    responses[code] = errorBody(errors[code] ?? '');
  }
  if (doc.mayBeBusy) responses['503'] = { $ref: '#/components/responses/ServiceUnavailable' };
  return responses;
}

const IF_MATCH: JsonObject = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description:
    'The ETag of the version the change is based on (`"3"`, `3` or `W/"3"`), or `*`. A stale one is refused with 412. Without it, the change is still based on the version read when the request arrives.',
  schema: { type: 'string' },
  example: '"3"',
};

/** The JSON body of an operation, with its example when it has one. */
function bodyContent(doc: OperationDoc): JsonObject {
  const content = jsonContent(componentRef(doc.body ?? ''));
  if (doc.bodyExample !== undefined) {
    (content['application/json'] as JsonObject).example = doc.bodyExample as Json;
  }
  return content;
}

function operationObject(route: RouteSpec, doc: OperationDoc): JsonObject {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name ?? '',
    in: 'path',
    required: true,
    schema: { type: 'string', minLength: 1 },
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
    responses: responsesOf(doc),
    security: securityOf(route),
  };
}

/** One path item per path of the route table, an operation per route, in the table's order. */
function buildPaths(): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of ALL_ROUTE_SPECS) {
    paths[route.path] ??= {};
    (paths[route.path] as JsonObject)[route.method.toLowerCase()] = operationObject(
      route,
      OPERATIONS[route.operation],
    );
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
    'Bodies are JSON, at most 64 KiB. Errors are `{ "message", "issues": [{ "field", "message" }] }`. Every route that reads DynamoDB or the scheduler may answer 503 with `Retry-After`. A deployment throttles all callers together (100 requests per second, burst 200 by default) and answers 429 above that: retry with backoff. Responses may gain fields; clients should ignore fields they do not know.',
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
  ServiceUnavailable: {
    description: 'DynamoDB or the scheduler is throttled or unavailable; retry after a while',
    headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    content: jsonContent(componentRef('Error')),
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
