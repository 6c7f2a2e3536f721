/**
 * Issue 15, part B: what the HTTP layer promises, each a regression test of a defect: null clears
 * an optional field, 409 in the documented shape, UTF-8 only, strict `limit`, case-insensitive
 * ids, 405 with `Allow` and HEAD, exact paths, and messages a person can act on.
 */

import { request as httpRequest } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../shared/http/api.js';
import { API_BASE_PATH } from '../../shared/http/route-specs.js';
import { startHttpGateway } from '../../shared/local/http-gateway.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

const ZERO_ID = '00000000-0000-4000-8000-000000000000';

describe('PATCH null and unset optional fields (defect 5)', () => {
  it('clears any optional field with null, and leaves cleared fields out like unset ones', async () => {
    const api = await apiUnderTest();
    const type = (
      await api.call(
        'POST',
        '/meter-types',
        meterTypeBody({
          description: 'd',
          externalRef: `ref-${Date.now()}`,
          capacity: 10,
          thresholds: [{ name: 'half', percent: 50 }],
          timezone: 'Europe/Stockholm',
          category: 'VOICE',
          gracePeriodSeconds: 60,
          capacityPolicy: 'reject',
          activeFrom: '2025-01-01T00:00:00Z',
          activeTo: '2026-01-01T00:00:00Z',
        }),
      )
    ).body;
    const cleared = await api.call('PATCH', `/meter-types/${type.id}`, {
      description: null,
      externalRef: null,
      thresholds: null,
      capacity: null,
      timezone: null,
      category: null,
      gracePeriodSeconds: null,
      capacityPolicy: null,
      activeFrom: null,
      activeTo: null,
    });
    expect(cleared.status).toBe(200);
    const fresh = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    for (const body of [cleared.body, (await api.call('GET', `/meter-types/${type.id}`)).body]) {
      expect(Object.values(body)).not.toContain(null);
      for (const field of ['description', 'externalRef', 'capacity', 'activeFrom', 'activeTo']) {
        expect(body, field).not.toHaveProperty(field);
      }
      // Defaulted fields go back to their defaults, as a type created without them has.
      for (const field of [
        'thresholds',
        'timezone',
        'category',
        'gracePeriodSeconds',
        'capacityPolicy',
      ]) {
        expect(body[field], field).toEqual(fresh[field]);
      }
    }
  });

  it('refuses null for a required field, saying it is required', async () => {
    const api = await apiUnderTest();
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    const refused = await api.call('PATCH', `/meter-types/${type.id}`, { unit: null });
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([{ field: 'unit', message: expect.any(String) }]);
  });

  it('answers a 409 with the documented error shape: the taken field in issues', async () => {
    const api = await apiUnderTest();
    const name = `taken-${Date.now()}`;
    await api.call('POST', '/meter-types', meterTypeBody({ name }));
    const duplicate = await api.call('POST', '/meter-types', meterTypeBody({ name }));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({
      message: expect.any(String),
      issues: [{ field: 'name', message: expect.any(String) }],
    });
  });
});

describe('bodies are UTF-8 JSON (defect 7)', () => {
  const invalidUtf8 = Buffer.concat([
    Buffer.from('{"name":"caf'),
    Buffer.from([0xe9]),
    Buffer.from('","unit":"u"}'),
  ]);

  async function send(headers: Record<string, string>, body: Buffer) {
    const api = await apiUnderTest();
    const handler = createApiHandler(api.deps);
    const event = {
      version: '2.0',
      rawPath: `${API_BASE_PATH}/meter-types`,
      rawQueryString: '',
      headers,
      requestContext: { http: { method: 'POST', path: `${API_BASE_PATH}/meter-types` } },
      body: body.toString('base64'),
      isBase64Encoded: true,
    } as unknown as APIGatewayProxyEventV2;
    return (await handler(event, {} as Context)) as APIGatewayProxyStructuredResultV2;
  }

  it('refuses invalid UTF-8 with 400 instead of storing U+FFFD', async () => {
    const result = await send({ 'content-type': 'application/json' }, invalidUtf8);
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? '').message).toMatch(/UTF-8/);
  });

  it.each(['iso-8859-1', 'latin1', 'utf-16', '"windows-1252"'])(
    'refuses charset=%s with 415',
    async (charset) => {
      const body = Buffer.from(JSON.stringify(meterTypeBody()));
      const result = await send({ 'content-type': `application/json; charset=${charset}` }, body);
      expect(result.statusCode).toBe(415);
    },
  );

  it('takes charset=utf-8 in any spelling', async () => {
    for (const charset of ['utf-8', 'UTF-8', '"utf-8"', 'utf8']) {
      const body = Buffer.from(JSON.stringify(meterTypeBody()));
      const result = await send({ 'content-type': `application/json; charset=${charset}` }, body);
      expect(result.statusCode, charset).toBe(201);
    }
  });

  it('refuses a content-encoded body with 415, not "not valid JSON"', async () => {
    const body = Buffer.from(JSON.stringify(meterTypeBody()));
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const result = await send(
        { 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      );
      expect(result.statusCode, encoding).toBe(415);
    }
  });
});

describe('limit (defect 8)', () => {
  it.each(['0x10', '0b11', '1e2', '+7', '  5 ', '5 ', '', '0', '101', '1.0', '-1', '٣'])(
    'refuses limit=%j with 400, saying what it takes',
    async (limit) => {
      const api = await apiUnderTest();
      const response = await api.call('GET', '/meter-types', undefined, { query: { limit } });
      expect(response.status).toBe(400);
      expect(response.body.issues).toEqual([
        { field: 'limit', message: 'must be a whole number from 1 to 100, in decimal digits' },
      ]);
    },
  );

  it('takes decimal integers from 1 to 100', async () => {
    const api = await apiUnderTest();
    for (const limit of ['1', '7', '050', '100']) {
      const response = await api.call('GET', '/meter-types', undefined, { query: { limit } });
      expect(response.status, limit).toBe(200);
    }
  });
});

describe('ids are case-insensitive on input (defect 9)', () => {
  it('finds meter types and meters by upper-case ids, in paths, queries and bodies', async () => {
    const api = await apiUnderTest();
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    const upper = type.id.toUpperCase();
    const read = await api.call('GET', `/meter-types/${upper}`);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(type.id);
    const meter = await api.call('POST', '/meters', {
      meterKey: 'k',
      meterTypeId: upper,
      userId: 'alice',
    });
    expect(meter.status).toBe(201);
    expect(meter.body.meterTypeId).toBe(type.id);
    expect(meter.headers.location).toBe(`${API_BASE_PATH}/meters/${meter.body.id}`);
    expect((await api.call('GET', `/meters/${meter.body.id.toUpperCase()}`)).body.id).toBe(
      meter.body.id,
    );
    const listed = await api.call('GET', '/meters', undefined, {
      query: { meterTypeId: upper },
    });
    expect(listed.body.meters.map((m: { id: string }) => m.id)).toEqual([meter.body.id]);
    const patched = await api.call('PATCH', `/meters/${meter.body.id.toUpperCase()}`, {
      deleteOnReset: true,
    });
    expect(patched.status).toBe(200);
    expect((await api.call('DELETE', `/meters/${meter.body.id.toUpperCase()}`)).status).toBe(204);
    expect((await api.call('DELETE', `/meter-types/${upper}`)).status).toBe(204);
  });
});

describe('unrouted requests (defect 10)', () => {
  it('answers a wrong method with 405 and Allow, HEAD included beside GET', async () => {
    const api = await apiUnderTest();
    const wrong = await api.call('PUT', '/meter-types');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST, GET, HEAD');
    expect((await api.call('POST', `/meters/${ZERO_ID}`)).headers.allow).toBe(
      'GET, HEAD, PATCH, DELETE',
    );
  });

  it('answers HEAD as GET, without the body', async () => {
    const api = await apiUnderTest();
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    const head = await api.call('HEAD', `/meter-types/${type.id}`);
    const get = await api.call('GET', `/meter-types/${type.id}`);
    expect(head.status).toBe(200);
    expect(head.headers).toEqual(get.headers);
    expect(head.raw).toBe('');
    const missing = await api.call('HEAD', `/meter-types/${ZERO_ID}`);
    expect(missing.status).toBe(404);
    expect(missing.raw).toBe('');
  });

  it.each(['//meter-types', '/meter-types/', '/meter-types//', `/meter-types/${ZERO_ID}/`])(
    'does not take %s for another path (404, as API Gateway)',
    async (path) => {
      const api = await apiUnderTest();
      expect((await api.call('GET', path)).status).toBe(404);
    },
  );
});

describe('messages a person can act on (defect 11)', () => {
  it.each([
    [{}, 'name', 'is required'],
    [{ name: 'n', unit: 'u', aggregation: { type: 'sum' } }, 'resetSchedule', 'is required'],
    [meterTypeBody({ aggregation: undefined }), 'aggregation', 'is required'],
    [meterTypeBody({ aggregation: {} }), 'aggregation.type', 'is required'],
    [meterTypeBody({ name: 5 }), 'name', 'must be a string'],
    [meterTypeBody({ capacity: 'x' }), 'capacity', 'must be a number'],
    [meterTypeBody({ thresholds: {} }), 'thresholds', 'must be an array'],
  ])('POST /meter-types %j: %s %s', async (body, field, message) => {
    const api = await apiUnderTest();
    const response = await api.call('POST', '/meter-types', body);
    expect(response.status).toBe(400);
    expect(response.body.issues).toContainEqual({ field, message });
  });

  it('never shows zod defaults or raw patterns', async () => {
    const api = await apiUnderTest();
    const bodies: [string, string, unknown][] = [
      ['POST', '/meter-types', {}],
      ['POST', '/meter-types', meterTypeBody({ resetSchedule: {}, aggregation: 1 })],
      ['POST', '/meters', {}],
      ['POST', '/meters', { meterKey: 'k', meterTypeId: 'nope', userId: 7 }],
      ['PATCH', `/meters/${ZERO_ID}`, { customFields: [] }],
      ['POST', '/streams/test-stream-0/dry-run', { records: 'x', configuration: { name: '!' } }],
      ['POST', '/meter-types', null],
    ];
    for (const [method, path, body] of bodies) {
      const response = await api.call(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(400);
      expect(response.raw).not.toMatch(/Invalid input|expected \w+, received|\/\^|Unrecognized/);
    }
  });
});

describe('the local gateway answers as the deployed API does (defects 7 and 10)', () => {
  async function gateway() {
    const api = await apiUnderTest();
    const started = await startHttpGateway({ handler: createApiHandler(api.deps), port: 0 });
    const send = (
      method: string,
      path: string,
      headers: Record<string, string> = {},
      body?: Buffer,
    ) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
        (resolve, reject) => {
          const request = httpRequest(
            `${started.url}${API_BASE_PATH}${path}`,
            { method, headers },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () =>
                resolve({
                  status: response.statusCode ?? 0,
                  headers: response.headers,
                  body: Buffer.concat(chunks).toString('utf8'),
                }),
              );
            },
          );
          request.on('error', reject);
          request.end(body);
        },
      );
    return { send, stop: started.stop };
  }

  it('refuses invalid UTF-8 (400), another charset and an encoding (415)', async () => {
    const g = await gateway();
    try {
      const json = { 'content-type': 'application/json' };
      const bad = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9, 0x22, 0x7d])]);
      expect((await g.send('POST', '/meter-types', json, bad)).status).toBe(400);
      const valid = Buffer.from(JSON.stringify(meterTypeBody()));
      const latin1 = { 'content-type': 'application/json; charset=iso-8859-1' };
      expect((await g.send('POST', '/meter-types', latin1, valid)).status).toBe(415);
      const gzip = { ...json, 'content-encoding': 'gzip' };
      expect((await g.send('POST', '/meter-types', gzip, valid)).status).toBe(415);
      expect((await g.send('POST', '/meter-types', json, valid)).status).toBe(201);
    } finally {
      await g.stop();
    }
  });

  it('answers 405 with Allow, HEAD without a body, and 404 for look-alike paths', async () => {
    const g = await gateway();
    try {
      const wrong = await g.send('PUT', '/meter-types');
      expect(wrong.status).toBe(405);
      expect(wrong.headers.allow).toBe('POST, GET, HEAD');
      const head = await g.send('HEAD', '/meter-types');
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toBe('application/json');
      expect(head.body).toBe('');
      for (const path of ['//meter-types', '/meter-types/', '/meter-types//x']) {
        expect((await g.send('GET', path)).status, path).toBe(404);
      }
    } finally {
      await g.stop();
    }
  });

  it('answers 431 to request headers that are too large, before the API sees them', async () => {
    const g = await gateway();
    try {
      const huge = await g.send('GET', '/meter-types', { 'x-padding': 'a'.repeat(70_000) });
      expect(huge.status).toBe(431);
      // The documented answer: no JSON body is promised.
      expect(huge.headers['content-type']).not.toBe('application/json');
      expect((await g.send('GET', '/meter-types')).status).toBe(200);
    } finally {
      await g.stop();
    }
  });
});
