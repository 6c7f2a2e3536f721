import { describe, expect, it } from 'vitest';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

describe('meter types API', () => {
  it('creates a meter type with defaults, a Location header, and reads it back at once', async () => {
    const api = await apiUnderTest();
    const created = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ name: 'voice', externalRef: 'voice-1' }),
    );
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/usage-metering/v1/meter-types/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'voice',
      externalRef: 'voice-1',
      category: 'DEFAULT',
      timezone: 'Etc/UTC',
      capacityPolicy: 'notify',
      thresholds: [],
      gracePeriodSeconds: 0,
      numberOfMeters: 0,
      createdAt: '2025-01-10T00:00:00.000Z',
      updatedAt: '2025-01-10T00:00:00.000Z',
    });
    const read = await api.call('GET', `/meter-types/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('refuses invalid bodies with 400 naming the field', async () => {
    const api = await apiUnderTest();
    const cases: [Record<string, unknown>, string][] = [
      [meterTypeBody({ name: 'x'.repeat(81) }), 'name'],
      [meterTypeBody({ description: 'd'.repeat(201) }), 'description'],
      [meterTypeBody({ externalRef: 'r'.repeat(101) }), 'externalRef'],
      [meterTypeBody({ aggregation: { type: 'avg' } }), 'aggregation.type'],
      [meterTypeBody({ timezone: 'Mars/Base' }), 'timezone'],
      [
        meterTypeBody({
          resetSchedule: { minute: '75', hour: '0', day: '1', month: '*', weekday: '*' },
        }),
        'resetSchedule.minute',
      ],
      [
        meterTypeBody({
          resetSchedule: { minute: '0', hour: '0', day: '31', month: '2', weekday: '*' },
        }),
        'resetSchedule',
      ],
      [
        meterTypeBody({
          thresholds: Array.from({ length: 11 }, (_, i) => ({ name: `t${i}`, value: i })),
        }),
        'thresholds',
      ],
      [meterTypeBody({ thresholds: [{ name: 'half', percent: 50 }] }), 'thresholds.0.percent'],
      [meterTypeBody({ gracePeriodSeconds: 86_401 }), 'gracePeriodSeconds'],
      [
        meterTypeBody({ activeFrom: '2025-02-01T00:00:00Z', activeTo: '2025-01-01T00:00:00Z' }),
        'activeTo',
      ],
      [meterTypeBody({ unit: undefined }), 'unit'],
      [meterTypeBody({ surprise: true }), 'surprise'],
    ];
    for (const [body, field] of cases) {
      const response = await api.call('POST', '/meter-types', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.issues.map((i: { field: string }) => i.field)).toContain(field);
      expect(response.body.message).toContain(field);
    }
  });

  it('creates a unique meter type, filling in maxDistinct (100000) or keeping the one given', async () => {
    const api = await apiUnderTest();
    const byDefault = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ unit: 'devices', aggregation: { type: 'unique', field: 'deviceId' } }),
    );
    expect(byDefault.status).toBe(201);
    expect(byDefault.body.aggregation).toEqual({
      type: 'unique',
      field: 'deviceId',
      maxDistinct: 100_000,
    });
    expect((await api.call('GET', `/meter-types/${byDefault.body.id}`)).body.aggregation).toEqual(
      byDefault.body.aggregation,
    );
    const explicit = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({
        aggregation: { type: 'unique', field: 'device.id', maxDistinct: 1_000_000 },
        capacity: 500,
        capacityPolicy: 'notify',
      }),
    );
    expect(explicit.status).toBe(201);
    expect(explicit.body.aggregation).toEqual({
      type: 'unique',
      field: 'device.id',
      maxDistinct: 1_000_000,
    });
    const smallest = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ aggregation: { type: 'unique', field: 'sessionId', maxDistinct: 1 } }),
    );
    expect(smallest.status).toBe(201);
    expect(smallest.body.aggregation.maxDistinct).toBe(1);
  });

  it('refuses a unique aggregation without a usable field or maxDistinct, and field or maxDistinct elsewhere', async () => {
    const api = await apiUnderTest();
    const unique = (extra: Record<string, unknown>) => ({
      aggregation: { type: 'unique', field: 'deviceId', ...extra },
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ aggregation: { type: 'unique' } }, 'aggregation.field'],
      [{ aggregation: { type: 'sum', field: 'deviceId' } }, 'aggregation.field'],
      [{ aggregation: { type: 'sum', maxDistinct: 10 } }, 'aggregation.maxDistinct'],
      [{ aggregation: { type: 'increment', maxDistinct: 10 } }, 'aggregation.maxDistinct'],
      [unique({ maxDistinct: 0 }), 'aggregation.maxDistinct'],
      [unique({ maxDistinct: -1 }), 'aggregation.maxDistinct'],
      [unique({ maxDistinct: 1.5 }), 'aggregation.maxDistinct'],
      [unique({ maxDistinct: 1_000_001 }), 'aggregation.maxDistinct'],
      [unique({ maxDistinct: '10' }), 'aggregation.maxDistinct'],
      [unique({ maxDistinct: null }), 'aggregation.maxDistinct'],
      [unique({ field: '' }), 'aggregation.field'],
      [unique({ field: 'a..b' }), 'aggregation.field'],
      [unique({ field: '.a' }), 'aggregation.field'],
      [unique({ field: 'a.' }), 'aggregation.field'],
      [unique({ field: '__proto__' }), 'aggregation.field'],
      [unique({ field: 'a.constructor' }), 'aggregation.field'],
      [unique({ field: 'prototype.x' }), 'aggregation.field'],
      [unique({ field: ' deviceId' }), 'aggregation.field'],
      [unique({ field: 'x'.repeat(201) }), 'aggregation.field'],
      [unique({ field: 7 }), 'aggregation.field'],
      [unique({ field: ['deviceId'] }), 'aggregation.field'],
      [{ ...unique({}), capacity: 10, capacityPolicy: 'reject' }, 'capacityPolicy'],
    ];
    for (const [overrides, field] of cases) {
      const body = meterTypeBody(overrides);
      const response = await api.call('POST', '/meter-types', body);
      expect(response.status, JSON.stringify(overrides)).toBe(400);
      expect(
        response.body.issues.map((i: { field: string }) => i.field),
        JSON.stringify(overrides),
      ).toContain(field);
      expect(response.body.message).toContain(field);
    }
    expect((await api.call('GET', '/summary')).body.meterTypes).toBe(0);
  });

  it('keeps a unique aggregation as created: no PATCH changes it, nor adds capacityPolicy reject', async () => {
    const api = await apiUnderTest();
    const type = (
      await api.call(
        'POST',
        '/meter-types',
        meterTypeBody({ aggregation: { type: 'unique', field: 'deviceId' }, capacity: 10 }),
      )
    ).body;
    for (const aggregation of [
      { type: 'unique', field: 'deviceId', maxDistinct: 5 },
      { type: 'unique', field: 'userAgent' },
      { type: 'sum' },
      type.aggregation,
    ]) {
      const refused = await api.call('PATCH', `/meter-types/${type.id}`, { aggregation });
      expect(refused.status, JSON.stringify(aggregation)).toBe(400);
      expect(refused.body.message).toMatch(/cannot be changed/);
      expect(refused.body.issues.map((i: { field: string }) => i.field)).toContain('aggregation');
    }
    const reject = await api.call('PATCH', `/meter-types/${type.id}`, { capacityPolicy: 'reject' });
    expect(reject.status).toBe(400);
    expect(reject.body.issues[0].field).toBe('capacityPolicy');
    const described = await api.call('PATCH', `/meter-types/${type.id}`, { unit: 'devices' });
    expect(described.status).toBe(200);
    expect(described.body.aggregation).toEqual({
      type: 'unique',
      field: 'deviceId',
      maxDistinct: 100_000,
    });
  });

  it('answers 415 for a body that is not JSON, 400 for malformed JSON, 413 for a body over 64 KiB', async () => {
    const api = await apiUnderTest();
    expect(
      (
        await api.call('POST', '/meter-types', undefined, {
          rawBody: 'name=x',
          contentType: 'text/plain',
        })
      ).status,
    ).toBe(415);
    const malformed = await api.call('POST', '/meter-types', undefined, { rawBody: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toMatch(/not valid JSON/);
    const huge = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ description: 'x'.repeat(70_000) }),
    );
    expect(huge.status).toBe(413);
  });

  it('keeps name and externalRef unique, and frees them on delete', async () => {
    const api = await apiUnderTest();
    const first = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ name: 'cups', externalRef: 'ref-1' }),
    );
    expect(first.status).toBe(201);
    const sameName = await api.call('POST', '/meter-types', meterTypeBody({ name: 'cups' }));
    expect(sameName.status).toBe(409);
    expect(sameName.body.issues).toEqual([{ field: 'name', message: expect.any(String) }]);
    const sameRef = await api.call('POST', '/meter-types', meterTypeBody({ externalRef: 'ref-1' }));
    expect(sameRef.status).toBe(409);
    expect(sameRef.body.issues).toEqual([{ field: 'externalRef', message: expect.any(String) }]);
    expect((await api.call('DELETE', `/meter-types/${first.body.id}`)).status).toBe(204);
    expect((await api.call('GET', `/meter-types/${first.body.id}`)).status).toBe(404);
    expect(
      (
        await api.call(
          'POST',
          '/meter-types',
          meterTypeBody({ name: 'cups', externalRef: 'ref-1' }),
        )
      ).status,
    ).toBe(201);
  });

  it('gives exactly one 201 for 50 parallel creates with one name', async () => {
    const api = await apiUnderTest();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        api.call('POST', '/meter-types', meterTypeBody({ name: 'contended' })),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect((await api.call('GET', '/summary')).body.meterTypes).toBe(1);
  });

  it('updates the changeable fields, refuses name and aggregation, and re-validates the whole', async () => {
    const api = await apiUnderTest();
    const type = (
      await api.call(
        'POST',
        '/meter-types',
        meterTypeBody({ externalRef: 'old', description: 'd' }),
      )
    ).body;
    api.clock.now = new Date('2025-01-11T00:00:00.000Z');
    const patched = await api.call('PATCH', `/meter-types/${type.id}`, {
      unit: 'hours',
      timezone: 'Europe/Stockholm',
      category: 'VOICE',
      externalRef: 'new',
      description: null,
      capacity: 100,
      thresholds: [{ name: 'half', percent: 50 }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      unit: 'hours',
      timezone: 'Europe/Stockholm',
      category: 'VOICE',
      externalRef: 'new',
      capacity: 100,
    });
    expect(patched.body.description).toBeUndefined();
    expect(patched.body.updatedAt).toBe('2025-01-11T00:00:00.000Z');
    expect(patched.body.createdAt).toBe(type.createdAt);
    // The old externalRef is free again, the new one is taken.
    expect(
      (await api.call('POST', '/meter-types', meterTypeBody({ externalRef: 'old' }))).status,
    ).toBe(201);
    expect(
      (await api.call('POST', '/meter-types', meterTypeBody({ externalRef: 'new' }))).status,
    ).toBe(409);

    for (const body of [{ name: 'renamed' }, { aggregation: { type: 'max' } }]) {
      const refused = await api.call('PATCH', `/meter-types/${type.id}`, body);
      expect(refused.status).toBe(400);
      expect(refused.body.message).toMatch(/cannot be changed/);
    }
    const noCapacity = await api.call('PATCH', `/meter-types/${type.id}`, { capacity: null });
    expect(noCapacity.status).toBe(400);
    expect(noCapacity.body.issues[0].field).toBe('thresholds.0.percent');
    expect((await api.call('PATCH', `/meter-types/${type.id}`, {})).status).toBe(400);
    expect(
      (await api.call('PATCH', '/meter-types/00000000-0000-4000-8000-000000000000', { unit: 'x' }))
        .status,
    ).toBe(404);
  });

  it('lists with filters and pages through every meter type exactly once', async () => {
    const api = await apiUnderTest();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const response = await api.call(
        'POST',
        '/meter-types',
        meterTypeBody({ name: `t-${i}`, category: i % 2 ? 'ODD' : 'EVEN' }),
      );
      ids.push(response.body.id);
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const query: Record<string, string> = { limit: '5', ...(nextToken ? { nextToken } : {}) };
      const page = await api.call('GET', '/meter-types', undefined, { query });
      expect(page.status).toBe(200);
      expect(page.body.meterTypes.length).toBeLessThanOrEqual(5);
      seen.push(...page.body.meterTypes.map((t: { id: string }) => t.id));
      nextToken = page.body.nextToken;
    } while (nextToken);
    expect(seen.sort()).toEqual([...ids].sort());

    const odd = await api.call('GET', '/meter-types', undefined, {
      query: { category: 'ODD', limit: '100' },
    });
    expect(odd.body.meterTypes).toHaveLength(11);
    const byName = await api.call('GET', '/meter-types', undefined, { query: { name: 't-7' } });
    expect(byName.body.meterTypes.map((t: { id: string }) => t.id)).toEqual([ids[7]]);
    const summary = await api.call('GET', '/summary');
    expect(summary.body).toEqual({ meterTypes: 23, categories: 2, meters: 0 });

    const badQueries: Record<string, string>[] = [
      { limit: '0' },
      { limit: '101' },
      { limit: 'ten' },
      { nextToken: 'garbage' },
      { colour: 'red' },
    ];
    for (const query of badQueries) {
      expect(
        (await api.call('GET', '/meter-types', undefined, { query })).status,
        JSON.stringify(query),
      ).toBe(400);
    }
  });

  it('answers 404 for unknown ids and routes, 405 for a wrong method', async () => {
    const api = await apiUnderTest();
    expect(
      (await api.call('GET', '/meter-types/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
    expect(
      (await api.call('DELETE', '/meter-types/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
    expect((await api.call('GET', '/nothing-here')).status).toBe(404);
    const wrongMethod = await api.call('PUT', '/meter-types');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST, GET, HEAD');
  });
});
