/**
 * Streams' meter processors as versioned data the API owns: PUT /streams/{name} with If-Match
 * and ETag, GET /streams/{name}/versions, seeding from the deployed configuration.
 */
import { describe, expect, it } from 'vitest';
import { streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

const callsInput = {
  name: 'calls-stream',
  meterKey: 'calls',
  guidingRules: [
    {
      name: 'voice',
      conditions: [{ field: 'service', type: 'string', value: 'voice' }],
      category: 'VOICE',
    },
    { name: 'everything-else', category: 'DEFAULT' },
  ],
};
const streams = [streamConfigSchema.parse(callsInput)];

async function setUp() {
  const api = await apiUnderTest({
    streams,
    kinesisNames: { 'calls-stream': 'UsageMetering-CallsStream1A2B3C' },
  });
  for (const category of ['VOICE', 'DEFAULT']) {
    await api.call('POST', '/meter-types', meterTypeBody({ category }));
  }
  const get = () => api.call('GET', '/streams/calls-stream');
  const put = (body: unknown, ifMatch?: string) =>
    api.call('PUT', '/streams/calls-stream', body, {
      headers: ifMatch === undefined ? {} : { 'if-match': ifMatch },
    });
  return { api, get, put };
}

/** The GET body with the voice rule routing on another value. */
function edited(body: Record<string, unknown>, value = 'sip'): Record<string, unknown> {
  const rules = structuredClone(body.guidingRules) as { conditions: { value: unknown }[] }[];
  const first = rules[0]?.conditions[0];
  if (first) first.value = value;
  return { ...body, guidingRules: rules };
}

describe('GET /streams: the stored processor, seeded from the deployed configuration', () => {
  it('shows version 1, when it was seeded and the Kinesis stream it reads', async () => {
    const { api, get } = await setUp();
    const one = await get();
    expect(one.status).toBe(200);
    expect(one.headers.etag).toBe('"1"');
    expect(one.body).toMatchObject({
      name: 'calls-stream',
      version: 1,
      updatedAt: '2025-01-10T00:00:00.000Z',
      kinesisStream: 'UsageMetering-CallsStream1A2B3C',
    });
    const list = await api.call('GET', '/streams');
    expect(list.body.streams).toEqual([one.body]);
  });

  it('keeps the stored processor when the deployed configuration changes (it only seeds)', async () => {
    const { api, get, put } = await setUp();
    await put(edited((await get()).body));
    const redeployedStreams = [
      streamConfigSchema.parse({ ...callsInput, description: 'redeployed' }),
    ];
    // A fresh table is seeded from it; the same table keeps what the API saved.
    const redeployed = await apiUnderTest({ streams: redeployedStreams });
    const sameTable = await apiUnderTest({ ...api.deps, streams: redeployedStreams });
    const body = (await sameTable.call('GET', '/streams/calls-stream')).body;
    expect(body.version).toBe(2);
    expect(body.description).toBeUndefined();
    expect(body.guidingRules[0].conditions[0].value).toBe('sip');
    expect((await redeployed.call('GET', '/streams/calls-stream')).body.description).toBe(
      'redeployed',
    );
  });
});

describe('PUT /streams/{name}', () => {
  it('saves a GET body edited and sent back as the next version, with its ETag', async () => {
    const { api, get, put } = await setUp();
    const before = (await get()).body;
    api.clock.now = new Date('2025-01-11T08:00:00.000Z');
    const response = await put(edited(before), '"1"');
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"2"');
    expect(response.body).toEqual({
      ...edited(before),
      version: 2,
      updatedAt: '2025-01-11T08:00:00.000Z',
    });
    expect(response.body.warnings).toBeUndefined();
    expect((await get()).body).toEqual(response.body);
  });

  it('accepts If-Match as "2", 2 and *', async () => {
    const { get, put } = await setUp();
    let version = 1;
    for (const tag of [(v: number) => `"${v}"`, String, () => '*']) {
      const response = await put(edited((await get()).body, `v${version}`), tag(version));
      expect(response.status, tag(version)).toBe(200);
      version++;
      expect(response.body.version).toBe(version);
    }
  });

  it('refuses a stale If-Match with 412 and changes nothing', async () => {
    const { get, put } = await setUp();
    await put(edited((await get()).body, 'a'), '"1"');
    // A weak tag never matches, not even the current version's (strong comparison, RFC 9110).
    for (const stale of ['"1"', '1', 'W/"1"', 'W/"2"', '"9"', 'nonsense', '"1", "3"']) {
      const response = await put(edited((await get()).body, 'b'), stale);
      expect(response.status, stale).toBe(412);
      expect(response.body.message).toMatch(/version 2/);
    }
    const after = (await get()).body;
    expect(after.version).toBe(2);
    expect(after.guidingRules[0].conditions[0].value).toBe('a');
    // A list with the current version matches.
    expect((await put(edited(after, 'c'), '"1", "2"')).status).toBe(200);
  });

  it('lets exactly one of two concurrent writers with the same If-Match win', async () => {
    const { get, put } = await setUp();
    const body = (await get()).body;
    const answers = await Promise.all([
      put(edited(body, 'first'), '"1"'),
      put(edited(body, 'second'), '"1"'),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 412]);
    const winner = answers.find((a) => a.status === 200)?.body;
    const after = (await get()).body;
    expect(after.version).toBe(2);
    expect(after.guidingRules[0].conditions[0].value).toBe(
      winner.guidingRules[0].conditions[0].value,
    );
  });

  it('never loses or reuses a version number under concurrent writers without If-Match', async () => {
    const { api, get, put } = await setUp();
    const body = (await get()).body;
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => put(edited(body, `w${i}`))),
    );
    const won = answers.filter((a) => a.status === 200).map((a) => a.body.version);
    expect(answers.every((a) => a.status === 200 || a.status === 412)).toBe(true);
    expect(won.length).toBeGreaterThanOrEqual(1);
    expect(new Set(won).size).toBe(won.length);
    const versions = (await api.call('GET', '/streams/calls-stream/versions')).body.versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: won.length + 1 }, (_, i) => won.length + 1 - i),
    );
  });

  it('names the field at fault of an invalid configuration (400) and changes nothing', async () => {
    const { get, put } = await setUp();
    const body = (await get()).body;
    const bad = edited(body);
    (bad.guidingRules as { conditions: { op?: string }[] }[])[0]?.conditions.push({
      field: 'n',
      op: 'gt',
      type: 'string',
      value: 'x',
    } as never);
    const response = await put(bad, '"1"');
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([
      { field: 'guidingRules.0.conditions.1.type', message: 'must be number for gt' },
    ]);
    expect((await get()).body.version).toBe(1);
  });

  it('refuses to change name, meterKey or shardCount (400 naming the field)', async () => {
    const { get, put } = await setUp();
    const body = (await get()).body;
    for (const [field, value] of [
      ['name', 'other-stream'],
      ['meterKey', 'other'],
      ['shardCount', 4],
    ] as const) {
      const response = await put({ ...body, [field]: value }, '"1"');
      expect(response.status, field).toBe(400);
      expect(response.body.issues.map((i: { field: string }) => i.field)).toEqual([field]);
    }
    expect((await get()).body.version).toBe(1);
  });

  it('answers 404 for an unknown stream, 400 for a body that is not an object', async () => {
    const { api, put } = await setUp();
    const unknown = await api.call('PUT', '/streams/nope', callsInput);
    expect(unknown.status).toBe(404);
    expect((await put([1, 2])).status).toBe(400);
    expect((await put(undefined)).status).toBe(400);
  });

  it('answers 413 and 415 as every route with a body does, and 405 for a method it lacks', async () => {
    const { api } = await setUp();
    const large = await api.call('PUT', '/streams/calls-stream', undefined, {
      rawBody: JSON.stringify({ description: 'x'.repeat(70_000) }),
    });
    expect(large.status).toBe(413);
    const text = await api.call('PUT', '/streams/calls-stream', undefined, {
      rawBody: '{}',
      contentType: 'text/plain',
    });
    expect(text.status).toBe(415);
    const deleted = await api.call('DELETE', '/streams/calls-stream');
    expect(deleted.status).toBe(405);
    expect(deleted.headers.allow).toContain('PUT');
  });

  it('warns of rules routing to a category no meter type has', async () => {
    const { get, put } = await setUp();
    const body = (await get()).body;
    const response = await put({
      ...body,
      guidingRules: [...body.guidingRules.slice(0, 1), { name: 'rest', category: 'NOWHERE' }],
    });
    expect(response.status).toBe(200);
    expect(response.body.warnings).toEqual([
      { code: 'CATEGORY_WITHOUT_METER_TYPE', message: expect.stringContaining("'NOWHERE'") },
    ]);
  });
});

describe('meter type warnings follow the stored rules', () => {
  it('stops warning of a category once a saved version routes to it', async () => {
    const { api, get, put } = await setUp();
    const before = await api.call('POST', '/meter-types', meterTypeBody({ category: 'SMS' }));
    expect(before.body.warnings?.map((w: { code: string }) => w.code)).toEqual([
      'UNROUTED_CATEGORY',
    ]);
    const body = (await get()).body;
    const saved = await put({
      ...body,
      guidingRules: [{ name: 'sms', category: 'SMS' }, ...body.guidingRules],
    });
    expect(saved.status).toBe(200);
    const after = await api.call('POST', '/meter-types', meterTypeBody({ category: 'SMS' }));
    expect(after.status).toBe(201);
    expect(after.body.warnings).toBeUndefined();
  });
});

describe('GET /streams/{name}/versions', () => {
  it('lists the history newest first, paged; a rollback is a PUT of an old configuration', async () => {
    const { api, get, put } = await setUp();
    const first = (await get()).body;
    await put(edited(first, 'two'));
    await put(edited(first, 'three'));
    const all = (await api.call('GET', '/streams/calls-stream/versions')).body;
    expect(all.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(all.nextToken).toBeUndefined();
    const {
      version: _v,
      updatedAt: _u,
      kinesisStream: _k,
      ...configuration
    } = first as Record<string, unknown>;
    expect(all.versions[2]).toEqual({
      version: 1,
      updatedAt: '2025-01-10T00:00:00.000Z',
      configuration,
    });

    const pages: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await api.call('GET', '/streams/calls-stream/versions', undefined, {
        query: { limit: '2', ...(nextToken ? { nextToken } : {}) },
      });
      expect(page.status).toBe(200);
      pages.push(...page.body.versions.map((v: { version: number }) => v.version));
      nextToken = page.body.nextToken;
    } while (nextToken);
    expect(pages).toEqual([3, 2, 1]);

    const rollback = await put(all.versions[2].configuration, '"3"');
    expect(rollback.status).toBe(200);
    expect(rollback.body).toMatchObject({ ...configuration, version: 4 });
  });

  it('answers 404 for an unknown stream and 400 for a bad query', async () => {
    const { api } = await setUp();
    expect((await api.call('GET', '/streams/nope/versions')).status).toBe(404);
    const queries: Record<string, string>[] = [
      { limit: '0' },
      { nextToken: 'garbage' },
      { other: '1' },
    ];
    for (const query of queries) {
      const response = await api.call('GET', '/streams/calls-stream/versions', undefined, {
        query,
      });
      expect(response.status, JSON.stringify(query)).toBe(400);
    }
  });
});
