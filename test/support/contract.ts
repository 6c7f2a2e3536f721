/**
 * The contract check: every API response a test sees is held to the committed OpenAPI document
 * (shared/http/openapi.json) — its status is documented for the operation (or is the documented
 * 404 / 405 of an unlisted path or method), its content type is one the document lists, and its
 * body matches that schema. Driven by the document alone, so a route or field added without
 * documenting it fails the test that calls it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { API_BASE_PATH } from '../../shared/http/route-specs.js';

type Json = any;

const documentPath = fileURLToPath(new URL('../../shared/http/openapi.json', import.meta.url));

/** The committed OpenAPI document. */
export const openApiDocument: Json = JSON.parse(readFileSync(documentPath, 'utf8'));

const DOCUMENT_ID = 'urn:usage-metering:openapi';
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** An ajv that knows the document, so a schema can `$ref` any JSON pointer into it. */
export function documentAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema({ ...openApiDocument, $id: DOCUMENT_ID });
  return ajv;
}

const ajv = documentAjv();
const validators = new Map<string, ValidateFunction>();

/** A validator for the schema at a JSON pointer of the document, compiled once. */
export function validatorAt(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

const pointerPart = (part: string) => part.replace(/~/g, '~0').replace(/\//g, '~1');

/** The document's path template that a request path (under the base path) falls under. */
export function pathTemplateOf(path: string): string | undefined {
  const parts = path.split('/').slice(1);
  return Object.keys(openApiDocument.paths).find((template) => {
    const segments = template.split('/').slice(1);
    return (
      segments.length === parts.length &&
      segments.every((segment, i) => {
        const part = parts[i] ?? '';
        return part !== '' && (/^\{\w+\}$/.test(segment) || segment === part);
      })
    );
  });
}

/** What a test saw: the request's method and path (with or without the base path) and the answer. */
export interface ObservedExchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** The answer the document gives for a status: the operation's own, or its `default`. */
function documentedResponse(operation: Json, pointer: string, status: number) {
  const code = operation.responses[String(status)] ? String(status) : undefined;
  if (!code) return undefined;
  let response = operation.responses[code];
  let at = `${pointer}/responses/${code}`;
  if (response.$ref) {
    at = String(response.$ref).replace(/^#/, '');
    response = at
      .split('/')
      .slice(1)
      .reduce((node: Json, part: string) => node?.[part.replace(/~1/g, '/')], openApiDocument);
  }
  return { response, at };
}

/** The problems with an exchange, as sentences; empty when it keeps the contract. */
export function contractProblems(exchange: ObservedExchange): string[] {
  const method = exchange.method.toLowerCase();
  const path = exchange.path.split('?')[0] ?? '';
  if (!path.startsWith(`${API_BASE_PATH}/`) && path.startsWith('/usage-metering')) {
    return checkAgainst(exchange, '/components/responses/NotFound', 404);
  }
  const relative = path.startsWith(API_BASE_PATH) ? path.slice(API_BASE_PATH.length) : path;
  const template = pathTemplateOf(relative);
  if (!template) return checkAgainst(exchange, '/components/responses/NotFound', 404);
  const item = openApiDocument.paths[template];
  const operation = item[method];
  if (!operation) {
    const problems = checkAgainst(exchange, '/components/responses/MethodNotAllowed', 405);
    if (!exchange.headers.allow) problems.push('a 405 must name the allowed methods in `Allow`');
    return problems;
  }
  const pointer = `/paths/${pointerPart(template)}/${method}`;
  const found = documentedResponse(operation, pointer, exchange.status);
  if (!found) {
    return [
      `${exchange.status} is not documented for ${method.toUpperCase()} ${template} (documented: ${Object.keys(operation.responses).join(', ')})`,
    ];
  }
  return checkBody(exchange, found.response, found.at, method === 'head');
}

function checkAgainst(exchange: ObservedExchange, at: string, status: number): string[] {
  if (exchange.status !== status) {
    return [`${exchange.status} where the document says ${status} (${at})`];
  }
  const response = at
    .split('/')
    .slice(1)
    .reduce((node: Json, part: string) => node?.[part], openApiDocument);
  return checkBody(exchange, response, at, exchange.method.toUpperCase() === 'HEAD');
}

/** The body against the documented content: no body where none is documented, or for HEAD. */
function checkBody(
  exchange: ObservedExchange,
  response: Json,
  at: string,
  head: boolean,
): string[] {
  const content: Record<string, Json> | undefined = response?.content;
  if (head || !content) {
    return exchange.body === '' ? [] : [`a body where the document has none (${at})`];
  }
  const mediaType = (exchange.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (!mediaType || !content[mediaType]) {
    return [
      `content-type ${mediaType || '(none)'} where the document lists ${Object.keys(content).join(', ')} (${at})`,
    ];
  }
  if (mediaType !== 'application/json') return [];
  let body: unknown;
  try {
    body = JSON.parse(exchange.body);
  } catch {
    return [`the body is not JSON (${at})`];
  }
  const validate = validatorAt(`${at}/content/${pointerPart(mediaType)}/schema`);
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (error) =>
      `body${error.instancePath} ${error.message ?? 'is invalid'}${
        error.params && Object.keys(error.params).length ? ` ${JSON.stringify(error.params)}` : ''
      } (${at})`,
  );
}

/** The error a test gets when an answer breaks the contract. */
export class ContractViolationError extends Error {
  override readonly name = 'ContractViolationError';
}

/** Throws when the exchange breaks the contract, naming each problem. */
export function assertContract(exchange: ObservedExchange): void {
  const problems = contractProblems(exchange);
  if (problems.length === 0) return;
  throw new ContractViolationError(
    `${exchange.method} ${exchange.path} answered ${exchange.status}, which breaks the OpenAPI document:\n- ${problems.join('\n- ')}\nbody: ${exchange.body.slice(0, 2000)}`,
  );
}
