/**
 * The document is strict enough for the contract check to mean something: every object the API
 * returns is closed and lists its required fields, every request and response has an example
 * that its own schema accepts, and the checker itself refuses what it should.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { startHttpGateway } from '../../shared/local/http-gateway.js';
import { contractProblems, openApiDocument, validatorAt } from '../support/contract.js';

type Json = any;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function resolve(ref: string): Json {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce(
      (node: Json, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
      openApiDocument,
    );
}

/** Every operation as [label, operation]. */
function operations(): [string, Json][] {
  return Object.entries<Json>(openApiDocument.paths).flatMap(([path, item]) =>
    Object.entries<Json>(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, Json] => [`${method.toUpperCase()} ${path}`, operation]),
  );
}

/** Every response of every operation, refs resolved, as [label, response object]. */
function responses(): [string, Json][] {
  return operations().flatMap(([label, operation]) =>
    Object.entries<Json>(operation.responses).map(([code, response]): [string, Json] => [
      `${label} ${code}`,
      response.$ref ? resolve(response.$ref) : response,
    ]),
  );
}

/**
 * The places in a schema where an object is left open: an object schema without
 * `additionalProperties`, or with properties but no `required` list. Follows refs once each.
 */
function openObjects(schema: Json, where: string, seen = new Set<string>()): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  if (Array.isArray(schema))
    return schema.flatMap((s, i) => openObjects(s, `${where}[${i}]`, seen));
  const found: string[] = [];
  if (typeof schema.$ref === 'string') {
    if (!seen.has(schema.$ref)) {
      seen.add(schema.$ref);
      found.push(...openObjects(resolve(schema.$ref), schema.$ref, seen));
    }
  }
  const isObject = schema.type === 'object' || schema.properties !== undefined;
  if (isObject && schema.additionalProperties === undefined) {
    found.push(`${where}: an object without additionalProperties`);
  }
  if (schema.properties && !Array.isArray(schema.required)) {
    found.push(`${where}: properties without a required list`);
  }
  for (const key of ['items', 'additionalProperties', 'not', 'contains', 'propertyNames']) {
    if (schema[key] && typeof schema[key] === 'object') {
      found.push(...openObjects(schema[key], `${where}.${key}`, seen));
    }
  }
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    if (Array.isArray(schema[key]))
      found.push(...openObjects(schema[key], `${where}.${key}`, seen));
  }
  for (const [name, property] of Object.entries<Json>(schema.properties ?? {})) {
    found.push(...openObjects(property, `${where}.${name}`, seen));
  }
  return found;
}

describe('the response schemas', () => {
  it('are closed: every object the API returns lists its fields and refuses others', () => {
    const problems = responses().flatMap(([label, response]) =>
      Object.entries<Json>(response.content ?? {}).flatMap(([type, media]) =>
        openObjects(media.schema, `${label} ${type}`),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('the closed check finds an open object', () => {
    expect(openObjects({ type: 'object', properties: { a: { type: 'string' } } }, 'x')).toEqual([
      'x: an object without additionalProperties',
      'x: properties without a required list',
    ]);
    expect(
      openObjects({ type: 'array', items: { anyOf: [{ type: 'object', required: [] }] } }, 'y'),
    ).toEqual(['y.items.anyOf[0]: an object without additionalProperties']);
  });
});

describe('examples', () => {
  const media = (): [string, string, Json][] => [
    ...operations().flatMap(([label, operation]) =>
      Object.entries<Json>(operation.requestBody?.content ?? {}).map(
        ([type, m]): [string, string, Json] => [`${label} request`, type, m],
      ),
    ),
    ...responses().flatMap(([label, response]) =>
      Object.entries<Json>(response.content ?? {}).map(([type, m]): [string, string, Json] => [
        label,
        type,
        m,
      ]),
    ),
  ];

  it('every request and response body has one', () => {
    const missing = media()
      .filter(([, , m]) => m.example === undefined && m.examples === undefined)
      .map(([label, type]) => `${label} ${type}`);
    expect(missing).toEqual([]);
  });

  it('each JSON example is valid against its own schema', () => {
    const invalid: string[] = [];
    for (const [path, item] of Object.entries<Json>(openApiDocument.paths)) {
      for (const [method, operation] of Object.entries<Json>(item)) {
        const base = `/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}`;
        const check = (pointer: string, m: Json, label: string) => {
          if (m?.example === undefined) return;
          const validate = validatorAt(`${pointer}/schema`);
          if (!validate(m.example)) invalid.push(`${label}: ${JSON.stringify(validate.errors)}`);
        };
        const json = operation.requestBody?.content?.['application/json'];
        check(`${base}/requestBody/content/application~1json`, json, `${method} ${path} request`);
        for (const [code, response] of Object.entries<Json>(operation.responses)) {
          if (response.$ref) continue;
          check(
            `${base}/responses/${code}/content/application~1json`,
            response.content?.['application/json'],
            `${method} ${path} ${code}`,
          );
        }
      }
    }
    for (const [name, response] of Object.entries<Json>(openApiDocument.components.responses)) {
      const m = response.content?.['application/json'];
      if (m?.example === undefined) continue;
      const validate = validatorAt(
        `/components/responses/${name}/content/application~1json/schema`,
      );
      if (!validate(m.example)) invalid.push(`${name}: ${JSON.stringify(validate.errors)}`);
    }
    expect(invalid).toEqual([]);
  });
});

describe('the contract check', () => {
  const json = { 'content-type': 'application/json' };
  const summary = '/usage-metering/v1/summary';

  it('refuses an undocumented status, field, content type or a 405 without Allow', () => {
    expect(
      contractProblems({ method: 'GET', path: summary, status: 418, headers: json, body: '{}' }),
    ).toEqual([expect.stringMatching(/418 is not documented/)]);
    const extra = JSON.stringify({ meterTypes: 0, categories: 0, meters: 0, extra: 1 });
    expect(
      contractProblems({ method: 'GET', path: summary, status: 200, headers: json, body: extra }),
    ).toEqual([expect.stringMatching(/additional properties/)]);
    const text = { 'content-type': 'text/plain' };
    expect(
      contractProblems({ method: 'GET', path: summary, status: 200, headers: text, body: 'x' }),
    ).toEqual([expect.stringMatching(/content-type text\/plain/)]);
    const wrong = {
      method: 'PUT',
      path: summary,
      status: 405,
      headers: json,
      body: '{"message":"m"}',
    };
    expect(contractProblems(wrong)).toEqual([expect.stringMatching(/Allow/)]);
    expect(contractProblems({ ...wrong, headers: { ...json, allow: 'GET, HEAD' } })).toEqual([]);
  });

  it('holds unlisted paths to 404 and HEAD to an empty body', () => {
    const body = '{"message":"no route"}';
    const unknown = { method: 'GET', path: '/usage-metering/v1/nowhere', headers: json, body };
    expect(contractProblems({ ...unknown, status: 404 })).toEqual([]);
    expect(contractProblems({ ...unknown, status: 200 })).toHaveLength(1);
    const head = { method: 'HEAD', path: summary, status: 200, headers: json };
    expect(contractProblems({ ...head, body: '' })).toEqual([]);
    expect(contractProblems({ ...head, body: '{}' })).toEqual([expect.stringMatching(/a body/)]);
  });
});

describe('the fetch hook (test/support/contract-setup.ts)', () => {
  it('fails a fetch from a local stack whose answer breaks the document', async () => {
    const gateway = await startHttpGateway({
      port: 0,
      handler: async (event): Promise<APIGatewayProxyStructuredResultV2> =>
        event.rawPath.endsWith('/summary')
          ? {
              statusCode: 200,
              headers: { 'content-type': 'application/json' },
              body: '{"meters":"many"}',
            }
          : { statusCode: 204, body: '' },
    });
    try {
      await expect(fetch(`${gateway.url}/usage-metering/v1/summary`)).rejects.toThrow(
        /breaks the OpenAPI document/,
      );
      // Outside the API's base path nothing is checked.
      expect((await fetch(`${gateway.url}/elsewhere`)).status).toBe(204);
    } finally {
      await gateway.stop();
    }
  });
});
