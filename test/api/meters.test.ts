import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemKeys } from '../../shared/adapters/dynamodb/table.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

const monthly = { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' };

async function withType(overrides: Record<string, unknown> = {}) {
  const api = await apiUnderTest();
  const type = (
    await api.call('POST', '/meter-types', meterTypeBody({ externalRef: 'ext-1', ...overrides }))
  ).body;
  return { api, type };
}

describe('meters API', () => {
  it('creates a meter with the period of the worked example and reads it back at once', async () => {
    const { api, type } = await withType({
      resetSchedule: monthly,
      timezone: 'Etc/UTC',
      capacity: 100,
      thresholds: [{ name: 'high', percent: 80 }],
    });
    const created = await api.call('POST', '/meters', {
      meterKey: 'usage-events',
      meterTypeId: type.id,
      userId: 'alice@example.com',
      customFields: { plan: 'gold' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/usage-metering/v1/meters/${created.body.id}`);
    expect(created.body).toMatchObject({
      meterKey: 'usage-events',
      meterTypeId: type.id,
      meterTypeName: type.name,
      userId: 'alice@example.com',
      customFields: { plan: 'gold' },
      deleteOnReset: false,
      unit: 'minutes',
      aggregation: { type: 'sum' },
      resetSchedule: monthly,
      timezone: 'Etc/UTC',
      capacity: 100,
      thresholds: [{ name: 'high', percent: 80 }],
      periodStart: '2025-01-10T00:00:00.000Z',
      periodEnd: '2025-02-01T00:00:00.000Z',
      value: 0,
      groups: [],
      thresholdsReached: [],
      meterMetaData: { recordCount: 0, firstUsageAt: null, lastUsageAt: null, lateRecords: 0 },
    });
    const read = await api.call('GET', `/meters/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect((await api.call('GET', `/meter-types/${type.id}`)).body.numberOfMeters).toBe(1);
  });

  it('registers the first period end, plus grace, with the scheduler', async () => {
    const { api, type } = await withType({ gracePeriodSeconds: 90 });
    const meter = (
      await api.call('POST', '/meters', { meterKey: 'k', meterTypeId: type.id, userId: 'u' })
    ).body;
    expect(api.scheduler.scheduled()).toEqual([
      expect.objectContaining({
        trigger: { meterId: meter.id, periodEnd: '2025-02-01T00:00:00.000Z' },
        fireAt: new Date('2025-02-01T00:01:30.000Z'),
      }),
    ]);
  });

  it.each([
    ['Europe/Stockholm', monthly, '2025-01-31T23:00:00.000Z'],
    ['America/New_York', monthly, '2025-02-01T05:00:00.000Z'],
    [
      'Asia/Kolkata',
      { minute: '30', hour: '9', day: '*', month: '*', weekday: '1' },
      '2025-01-13T04:00:00.000Z',
    ],
    [
      'Australia/Lord_Howe',
      { minute: '0', hour: '0', day: 'L', month: '*', weekday: '*' },
      '2025-01-30T13:00:00.000Z',
    ],
    [
      'Etc/UTC',
      { minute: '*/15', hour: '*', day: '*', month: '*', weekday: '*' },
      '2025-01-10T00:15:00.000Z',
    ],
  ])('computes the first period end in %s', async (timezone, resetSchedule, periodEnd) => {
    const { api, type } = await withType({ timezone, resetSchedule });
    const meter = await api.call('POST', '/meters', {
      meterKey: 'k',
      meterTypeId: type.id,
      userId: 'u',
    });
    expect(meter.status).toBe(201);
    expect(meter.body.periodStart).toBe('2025-01-10T00:00:00.000Z');
    expect(meter.body.periodEnd).toBe(periodEnd);
  });

  it('resolves meterTypeExternalRef, and refuses unknown types and bad bodies', async () => {
    const { api, type } = await withType();
    const byRef = await api.call('POST', '/meters', {
      meterKey: 'k',
      meterTypeExternalRef: 'ext-1',
      userId: 'u',
    });
    expect(byRef.status).toBe(201);
    expect(byRef.body.meterTypeId).toBe(type.id);
    expect(
      (
        await api.call('POST', '/meters', {
          meterKey: 'k',
          meterTypeExternalRef: 'nope',
          userId: 'u',
        })
      ).status,
    ).toBe(404);
    const unknownId = await api.call('POST', '/meters', {
      meterKey: 'k',
      meterTypeId: '00000000-0000-4000-8000-000000000000',
      userId: 'u',
    });
    expect(unknownId.status).toBe(404);
    const cases: [Record<string, unknown>, string][] = [
      [{ meterKey: 'k', userId: 'u' }, 'meterTypeId'],
      [
        { meterKey: 'k', userId: 'u', meterTypeId: type.id, meterTypeExternalRef: 'ext-1' },
        'meterTypeId',
      ],
      [{ meterKey: '', userId: 'u', meterTypeId: type.id }, 'meterKey'],
      [{ meterKey: 'k', userId: 'bad\u0000id', meterTypeId: type.id }, 'userId'],
      [{ meterKey: 'k', userId: 'u', meterTypeId: 'not-a-uuid' }, 'meterTypeId'],
      [{ meterKey: 'k', userId: 'u', meterTypeId: type.id, deleteOnReset: 'yes' }, 'deleteOnReset'],
      [{ meterKey: 'k', userId: 'u', meterTypeId: type.id, customFields: [1] }, 'customFields'],
      [
        {
          meterKey: 'k',
          userId: 'u',
          meterTypeId: type.id,
          customFields: { big: 'x'.repeat(5000) },
        },
        'customFields',
      ],
      [{ meterKey: 'k', userId: 'u', meterTypeId: type.id, id: 'chosen' }, 'id'],
    ];
    for (const [body, field] of cases) {
      const response = await api.call('POST', '/meters', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.issues.map((i: { field: string }) => i.field)).toContain(field);
    }
    // Nothing was scheduled or counted for refused meters.
    expect(api.scheduler.scheduled()).toHaveLength(1);
    expect((await api.call('GET', '/summary')).body.meters).toBe(1);
  });

  it('refuses a duplicate (meterKey, meterTypeId, userId) with 409, also under 50 parallel creates', async () => {
    const { api, type } = await withType();
    const body = { meterKey: 'k', meterTypeId: type.id, userId: 'same-user' };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => api.call('POST', '/meters', body)),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(49);
    expect((await api.call('GET', `/meter-types/${type.id}`)).body.numberOfMeters).toBe(1);
    expect((await api.call('GET', '/summary')).body.meters).toBe(1);
    // The losers withdrew their schedules: one schedule for the one meter.
    expect(api.scheduler.scheduled()).toHaveLength(1);
    // Another user, key or type is a different meter.
    expect((await api.call('POST', '/meters', { ...body, userId: 'other' })).status).toBe(201);
    expect((await api.call('POST', '/meters', { ...body, meterKey: 'other' })).status).toBe(201);
  });

  it('pages over 250 meters returning each exactly once, and filters', async () => {
    const { api, type } = await withType();
    const ids: string[] = [];
    for (let batch = 0; batch < 25; batch++) {
      const created = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          api.call('POST', '/meters', {
            meterKey: batch % 2 ? 'odd' : 'even',
            meterTypeId: type.id,
            userId: `user-${batch}-${i}`,
          }),
        ),
      );
      ids.push(...created.map((r) => r.body.id));
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await api.call('GET', '/meters', undefined, {
        query: { limit: '40', ...(nextToken ? { nextToken } : {}) },
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.meters.map((m: { id: string }) => m.id));
      nextToken = page.body.nextToken;
      pages++;
    } while (nextToken);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(pages).toBeGreaterThanOrEqual(7);

    const defaultPage = await api.call('GET', '/meters');
    expect(defaultPage.body.meters).toHaveLength(50);
    const odd = await collect(api, { meterKey: 'odd', limit: '7' });
    expect(odd).toHaveLength(120);
    const oneUser = await api.call('GET', '/meters', undefined, {
      query: { userId: 'user-3-4', meterTypeId: type.id },
    });
    expect(oneUser.body.meters).toHaveLength(1);
    expect(oneUser.body.meters[0].userId).toBe('user-3-4');
  });

  it('updates deleteOnReset and customFields only', async () => {
    const { api, type } = await withType();
    const meter = (
      await api.call('POST', '/meters', { meterKey: 'k', meterTypeId: type.id, userId: 'u' })
    ).body;
    api.clock.now = new Date('2025-01-12T00:00:00.000Z');
    const patched = await api.call('PATCH', `/meters/${meter.id}`, {
      deleteOnReset: true,
      customFields: { tier: 2 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      deleteOnReset: true,
      customFields: { tier: 2 },
      updatedAt: '2025-01-12T00:00:00.000Z',
    });
    expect((await api.call('GET', `/meters/${meter.id}`)).body.deleteOnReset).toBe(true);
    for (const body of [{ userId: 'other' }, {}, { deleteOnReset: 1 }]) {
      expect(
        (await api.call('PATCH', `/meters/${meter.id}`, body)).status,
        JSON.stringify(body),
      ).toBe(400);
    }
    expect(
      (
        await api.call('PATCH', '/meters/00000000-0000-4000-8000-000000000000', {
          deleteOnReset: true,
        })
      ).status,
    ).toBe(404);
  });

  it('deletes a meter: gone from the API at once, schedule removed, open period kept for its final record', async () => {
    const { api, type } = await withType();
    const meter = (
      await api.call('POST', '/meters', { meterKey: 'k', meterTypeId: type.id, userId: 'u' })
    ).body;
    expect((await api.call('DELETE', `/meter-types/${type.id}`)).status).toBe(409);

    api.clock.now = new Date('2025-01-20T00:00:00.000Z');
    expect((await api.call('DELETE', `/meters/${meter.id}`)).status).toBe(204);
    expect((await api.call('GET', `/meters/${meter.id}`)).status).toBe(404);
    expect((await api.call('GET', '/meters')).body.meters).toEqual([]);
    expect((await api.call('DELETE', `/meters/${meter.id}`)).status).toBe(404);
    expect(api.scheduler.scheduled()).toEqual([]);
    expect((await api.call('GET', '/summary')).body.meters).toBe(0);

    const retired = await api.table.client.send(
      new GetCommand({
        TableName: api.table.tableName,
        Key: itemKeys.retiredMeter(meter.id),
        ConsistentRead: true,
      }),
    );
    expect(retired.Item).toMatchObject({
      id: meter.id,
      periodStart: meter.periodStart,
      retiredAt: '2025-01-20T00:00:00.000Z',
      gsi2sk: '2025-01-20T00:00:00.000Z',
    });
    expect(retired.Item?.gsi1pk).toBeUndefined();

    // The same customer can get a new meter of the type; the type can go once it has none.
    const again = await api.call('POST', '/meters', {
      meterKey: 'k',
      meterTypeId: type.id,
      userId: 'u',
    });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(meter.id);
    expect((await api.call('DELETE', `/meters/${again.body.id}`)).status).toBe(204);
    expect((await api.call('GET', `/meter-types/${type.id}`)).body.numberOfMeters).toBe(0);
    expect((await api.call('DELETE', `/meter-types/${type.id}`)).status).toBe(204);
  });

  it('shows the summary of meter types, categories and meters', async () => {
    const api = await apiUnderTest();
    const a = (await api.call('POST', '/meter-types', meterTypeBody({ category: 'VOICE' }))).body;
    await api.call('POST', '/meter-types', meterTypeBody({ category: 'VOICE' }));
    await api.call('POST', '/meter-types', meterTypeBody({ category: 'DATA' }));
    for (const userId of ['a', 'b', 'c'])
      await api.call('POST', '/meters', { meterKey: 'k', meterTypeId: a.id, userId });
    expect((await api.call('GET', '/summary')).body).toEqual({
      meterTypes: 3,
      categories: 2,
      meters: 3,
    });
  });
});

async function collect(
  api: Awaited<ReturnType<typeof apiUnderTest>>,
  query: Record<string, string>,
) {
  const all: unknown[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api.call('GET', '/meters', undefined, {
      query: { ...query, ...(nextToken ? { nextToken } : {}) },
    });
    all.push(...page.body.meters);
    nextToken = page.body.nextToken;
  } while (nextToken);
  return all;
}
