import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { scopesFor } from '../../shared/http/access-levels.js';
import { buildOpenApiDocument, renderOpenApiDocument } from '../../shared/http/openapi.js';
import {
  errorResponseSchema,
  meterResponse,
  meterTypeResponse,
  meterTypeWithWarningsResponse,
  summaryResponse,
} from '../../shared/http/openapi-schemas.js';
import { ALL_ROUTE_SPECS } from '../../shared/http/route-specs.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

const committedPath = fileURLToPath(new URL('../../shared/http/openapi.json', import.meta.url));
const committed = readFileSync(committedPath, 'utf8');
const document = JSON.parse(committed);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `$ref` in a JSON value. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string' ? [child] : refsIn(child),
  );
}

function resolve(pointer: string): unknown {
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .reduce<any>((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], document);
}

describe('the OpenAPI document', () => {
  it('is committed as generated from the zod schemas', () => {
    expect(
      committed === renderOpenApiDocument(),
      'shared/http/openapi.json is stale: run `npm run openapi` and commit the result',
    ).toBe(true);
  });

  it('is generated the same way every time', () => {
    expect(renderOpenApiDocument(buildOpenApiDocument())).toBe(renderOpenApiDocument());
  });

  it('is an OpenAPI 3.1 document: info, servers, security, and responses on every operation', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(document.servers[0].url).toBe('http://127.0.0.1:3000/usage-metering/v1');
    expect(document.security).toEqual([{ awsSigV4: [] }]);
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['awsSigV4', 'jwt']);
    const operationIds: string[] = [];
    for (const [path, item] of Object.entries<any>(document.paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, operation] of Object.entries<any>(item)) {
        expect(METHODS).toContain(method);
        operationIds.push(operation.operationId);
        const codes = Object.keys(operation.responses);
        expect(
          codes.some((code) => /^2\d\d$/.test(code)),
          `${method} ${path}`,
        ).toBe(true);
        for (const [code, response] of Object.entries<any>(operation.responses)) {
          expect(code).toMatch(/^[1-5]\d\d$/);
          expect(response.description ?? response.$ref, `${method} ${path} ${code}`).toBeTruthy();
        }
        const declared = (operation.parameters ?? [])
          .filter((p: any) => p.in === 'path')
          .map((p: any) => p.name);
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
        expect(declared).toEqual(templated);
      }
    }
    expect(new Set(operationIds).size).toBe(operationIds.length);
    for (const ref of refsIn(document)) expect(resolve(ref), ref).toBeDefined();
  });

  it('documents every route the API serves, with its status codes', () => {
    for (const route of ALL_ROUTE_SPECS) {
      expect(document.paths[route.path]?.[route.method.toLowerCase()], route.path).toBeDefined();
    }
    const codes = (method: string, path: string) =>
      Object.keys(document.paths[path][method].responses);
    expect(codes('post', '/meter-types')).toEqual([
      '201',
      '400',
      '409',
      '413',
      '415',
      '431',
      '500',
      '503',
    ]);
    expect(document.paths['/meter-types'].post.responses['201'].headers).toHaveProperty('Location');
    expect(codes('delete', '/meter-types/{id}')).toEqual([
      '204',
      '404',
      '409',
      '431',
      '500',
      '503',
    ]);
    expect(codes('get', '/meters/{id}')).toEqual(['200', '404', '431', '500', '503']);
    expect(codes('head', '/meters/{id}')).toEqual(['200', '404', '431', '500', '503']);
    expect(codes('post', '/meters')).toEqual([
      '201',
      '400',
      '404',
      '409',
      '413',
      '415',
      '431',
      '500',
      '503',
    ]);
    expect(document.components.responses.ServiceUnavailable.headers).toHaveProperty('Retry-After');
  });

  it('says which JWT scopes may call each operation, any one of them, by access level', () => {
    const alternatives = (method: string, path: string) =>
      document.paths[path][method].security.map(
        (requirement: object) => Object.entries(requirement)[0],
      );
    for (const route of ALL_ROUTE_SPECS) {
      expect(alternatives(route.method.toLowerCase(), route.path), route.path).toEqual([
        ['awsSigV4', []],
        ...scopesFor(route.access).map((scope) => ['jwt', [scope]]),
      ]);
    }
    const [read, write, admin] = ['read', 'write', 'admin'].map((l) => [
      'jwt',
      [`usage-metering/${l}`],
    ]);
    expect(alternatives('get', '/meters/{id}')).toEqual([['awsSigV4', []], read, write, admin]);
    expect(alternatives('patch', '/meters/{id}')).toEqual([['awsSigV4', []], write, admin]);
    expect(alternatives('delete', '/meters/{id}')).toEqual([['awsSigV4', []], admin]);
    expect(alternatives('post', '/corrections/{id}/reprocess')).toEqual([['awsSigV4', []], admin]);
  });

  it('takes request bodies and query strings from the schemas the handlers parse with', () => {
    const { schemas } = document.components;
    expect(schemas.MeterTypeCreate.required).toEqual([
      'name',
      'unit',
      'aggregation',
      'resetSchedule',
    ]);
    expect(schemas.MeterTypeCreate.properties.category.default).toBe('DEFAULT');
    expect(schemas.MeterTypeUpdate.additionalProperties).toBe(false);
    expect(schemas.MeterTypeUpdate.properties).not.toHaveProperty('name');
    expect(schemas.MeterCreate.properties.deleteOnReset.default).toBe(false);
    const limit = document.paths['/meters'].get.parameters.find((p: any) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 50 });
  });
});

describe('GET /openapi.json', () => {
  it('serves the committed document', async () => {
    const api = await apiUnderTest();
    const response = await api.call('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toEqual(document);
  });
});

describe('the response schemas', () => {
  /** Parsing keeps only documented fields, so equality means nothing is undocumented. */
  const expectDescribedBy = (schema: z.ZodType, body: unknown) =>
    expect(schema.parse(body)).toEqual(body);

  it('describe what the handlers return', async () => {
    const api = await apiUnderTest();
    const type = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({
        externalRef: `sku-${Date.now()}`,
        capacity: 100,
        thresholds: [{ name: 'half', percent: 50 }],
        activeFrom: '2025-01-01T00:00:00Z',
      }),
    );
    expect(type.status).toBe(201);
    expectDescribedBy(meterTypeResponse, type.body);
    const unrouted = await api.call('POST', '/meter-types', meterTypeBody({ category: 'NOWHERE' }));
    expect(unrouted.body.warnings).toHaveLength(1);
    expectDescribedBy(meterTypeWithWarningsResponse, unrouted.body);
    const meter = await api.call('POST', '/meters', {
      meterKey: 'usage-events',
      meterTypeId: type.body.id,
      userId: 'alice',
      customFields: { plan: 'gold' },
    });
    expect(meter.status).toBe(201);
    expectDescribedBy(meterResponse, meter.body);
    expectDescribedBy(summaryResponse, (await api.call('GET', '/summary')).body);
    const invalid = await api.call('POST', '/meter-types', { name: '' });
    expect(invalid.status).toBe(400);
    expectDescribedBy(errorResponseSchema, invalid.body);
    const duplicate = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ name: type.body.name }),
    );
    expect(duplicate.status).toBe(409);
    expectDescribedBy(errorResponseSchema, duplicate.body);
  });
});
