import { describe, expect, it } from 'vitest';
import { streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import { dryRunResponse } from '../../shared/http/openapi-stream-schemas.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

const callsInput = {
  name: 'calls-stream',
  meterKey: 'calls',
  validation: { required: ['service'] },
  enrichment: { static: { source: 'kinesis' } },
  guidingRules: [
    {
      name: 'voice',
      operator: 'AND',
      conditions: [{ field: 'service', type: 'string', value: 'voice' }],
      category: 'VOICE',
      groupBy: ['region'],
    },
    { name: 'everything-else', category: 'DEFAULT' },
  ],
};
const streams = [streamConfigSchema.parse(callsInput)];

/** Alice has a VOICE meter (sum) and a DEFAULT meter (sum, capacity 10, reject); bob has none. */
async function setUp() {
  const api = await apiUnderTest({ streams });
  const voiceType = (
    await api.call('POST', '/meter-types', meterTypeBody({ name: 'voice', category: 'VOICE' }))
  ).body;
  const defaultType = (
    await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({ name: 'other', capacity: 10, capacityPolicy: 'reject' }),
    )
  ).body;
  const meter = async (meterTypeId: string) =>
    (await api.call('POST', '/meters', { meterKey: 'calls', meterTypeId, userId: 'alice' })).body;
  const voice = await meter(voiceType.id);
  const other = await meter(defaultType.id);
  const dryRun = (body: unknown, name = 'calls-stream') =>
    api.call('POST', `/streams/${name}/dry-run`, body);
  return { api, voice, other, dryRun };
}

const at = '2025-01-09T12:00:00.000Z';
const period = { periodStart: '2025-01-10T00:00:00.000Z', periodEnd: '2025-02-01T00:00:00.000Z' };

describe('GET /streams/{name}', () => {
  it("shows the stream's whole meter processor, rules with operator and conditions", async () => {
    const api = await apiUnderTest({ streams });
    const response = await api.call('GET', '/streams/calls-stream');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ...streams[0],
      version: 1,
      updatedAt: '2025-01-10T00:00:00.000Z',
      kinesisStream: 'calls-stream',
    });
    expect(response.headers.etag).toBe('"1"');
    expect(response.body.guidingRules[0]).toEqual({
      name: 'voice',
      operator: 'AND',
      conditions: [{ field: 'service', op: 'eq', type: 'string', value: 'voice' }],
      category: 'VOICE',
      groupBy: ['region'],
    });
    expect((await api.call('GET', '/streams')).body.streams[0]).toEqual(response.body);
  });

  it('answers 404 for a stream that does not exist', async () => {
    const api = await apiUnderTest({ streams });
    const response = await api.call('GET', '/streams/nope');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ message: 'stream nope not found' });
  });
});

describe('POST /streams/{name}/dry-run', () => {
  it('says per record what ingestion would do, and writes nothing', async () => {
    const { api, voice, other, dryRun } = await setUp();
    const response = await dryRun({
      records: [
        {
          userId: 'alice',
          value: 5,
          timestamp: '2025-01-10T00:00:00Z',
          service: 'voice',
          region: 'eu',
        },
        { userId: 'alice', value: 2, service: 'sms' },
        { userId: 'bob', value: 1, service: 'voice' },
        { value: 1, service: 'voice' },
        { userId: 'alice', value: 1 },
        { userId: 'alice', value: 1, service: 'sms', timestamp: '2025-01-11T00:00:00Z' },
      ],
    });
    expect(response.status).toBe(200);
    expect(dryRunResponse.parse(response.body)).toEqual(response.body);
    const [voiceRecord, sms, bob, noUser, noService, future] = response.body.results;
    expect(response.body).toMatchObject({ stream: 'calls-stream', configuration: 'deployed' });
    expect(response.body).not.toHaveProperty('warnings');
    expect(voiceRecord).toEqual({
      index: 0,
      outcome: 'metered',
      record: {
        userId: 'alice',
        value: '5',
        usageTime: '2025-01-10T00:00:00.000Z',
        fields: {
          userId: 'alice',
          value: 5,
          timestamp: '2025-01-10T00:00:00Z',
          service: 'voice',
          region: 'eu',
          source: 'kinesis',
        },
      },
      rules: [
        { name: 'voice', category: 'VOICE', matches: true, hasMeter: true },
        { name: 'everything-else', category: 'DEFAULT', matches: true, hasMeter: true },
      ],
      rule: 'voice',
      category: 'VOICE',
      meters: [
        {
          id: voice.id,
          meterTypeId: voice.meterTypeId,
          meterTypeName: 'voice',
          category: 'VOICE',
          placement: 'current',
          ...period,
          groupKey: expect.any(String),
          groupValues: { region: 'eu' },
        },
      ],
    });
    expect(sms).toMatchObject({
      index: 1,
      outcome: 'metered',
      rule: 'everything-else',
      category: 'DEFAULT',
      record: { usageTime: '2025-01-10T00:00:00.000Z' },
      meters: [{ id: other.id, placement: 'current', ...period }],
    });
    expect(sms.meters[0]).not.toHaveProperty('groupKey');
    expect(bob).toMatchObject({
      outcome: 'data-correction',
      rules: [
        { name: 'voice', matches: true, hasMeter: false },
        { name: 'everything-else', matches: true, hasMeter: false },
      ],
      meters: [],
      correction: { reason: 'NO_METER' },
    });
    expect(bob).not.toHaveProperty('rule');
    expect(noUser).toEqual({
      index: 3,
      outcome: 'data-correction',
      meters: [],
      correction: { reason: 'INVALID_RECORD', message: 'userId: is required' },
    });
    expect(noService.correction).toEqual({
      reason: 'INVALID_RECORD',
      message: 'service: is required',
    });
    expect(future.correction.reason).toBe('FUTURE_TIMESTAMP');
    // Nothing counted, nothing corrected, no schedule touched.
    for (const meter of [voice, other]) {
      expect((await api.call('GET', `/meters/${meter.id}`)).body).toEqual(meter);
    }
    expect((await api.call('GET', '/corrections')).body.corrections).toEqual([]);
    expect(api.scheduler.scheduled()).toHaveLength(2);
  });

  it("admits a user's records against capacity in the order given", async () => {
    const { other, dryRun } = await setUp();
    const response = await dryRun({
      records: [6, 3, 4, 1].map((value) => ({ userId: 'alice', value, service: 'sms' })),
    });
    expect(response.body.results.map((r: { outcome: string }) => r.outcome)).toEqual([
      'metered',
      'metered',
      'data-correction',
      'metered',
    ]);
    expect(response.body.results[2].correction).toMatchObject({
      reason: 'CAPACITY_EXCEEDED',
      meterIds: [other.id],
    });
  });

  it('places a record from before the open period as late, in the open period', async () => {
    const { dryRun } = await setUp();
    const late = await dryRun({
      records: { userId: 'alice', value: 1, service: 'voice', timestamp: at },
    });
    expect(late.body.results[0].meters[0]).toMatchObject({ placement: 'late', ...period });
  });

  it('tries a configuration from the body instead of the deployed one', async () => {
    const { voice, other, dryRun } = await setUp();
    const record = { userId: 'alice', value: 1, service: 'sms', plan: 'gold' };
    const smsToVoice = {
      ...callsInput,
      guidingRules: [
        {
          name: 'sms-as-voice',
          conditions: [{ field: 'service', type: 'string', value: 'sms' }],
          category: 'VOICE',
        },
      ],
    };
    const tried = await dryRun({
      records: [record, { ...record, service: 'fax' }],
      configuration: smsToVoice,
    });
    expect(tried.status).toBe(200);
    expect(tried.body.configuration).toBe('request');
    expect(tried.body.results[0]).toMatchObject({
      outcome: 'metered',
      rule: 'sms-as-voice',
      meters: [{ id: voice.id }],
    });
    expect(tried.body.results[1]).toMatchObject({
      outcome: 'data-correction',
      rules: [{ name: 'sms-as-voice', matches: false, hasMeter: true }],
      correction: { reason: 'NO_MATCHING_RULE' },
    });
    // The deployed configuration is unchanged.
    const deployed = await dryRun({ records: record });
    expect(deployed.body.results[0].meters).toMatchObject([{ id: other.id }]);
  });

  it('tries rules with richer conditions (in, gte, exists) from the body', async () => {
    const { voice, dryRun } = await setUp();
    const configuration = {
      ...callsInput,
      guidingRules: [
        {
          name: 'long-calls',
          conditions: [
            { field: 'service', op: 'in', type: 'string', value: ['voice', 'video'] },
            { field: 'minutes', op: 'gte', type: 'number', value: 10 },
            { field: 'region', op: 'exists' },
          ],
          category: 'VOICE',
        },
      ],
    };
    const record = { userId: 'alice', value: 1, service: 'video', region: 'eu' };
    const response = await dryRun({
      records: [
        { ...record, minutes: 12 },
        { ...record, minutes: 9 },
        { ...record, minutes: '12' },
        { ...record, minutes: 12, region: null },
      ],
      configuration,
    });
    expect(response.status).toBe(200);
    expect(
      response.body.results.map((r: { rules: { matches: boolean }[] }) => r.rules[0]?.matches),
    ).toEqual([true, false, false, false]);
    expect(response.body.results[0].meters).toMatchObject([{ id: voice.id }]);
  });

  it('warns of a rule that routes to a category no meter type has', async () => {
    const { dryRun } = await setUp();
    const configuration = {
      ...callsInput,
      guidingRules: [
        { name: 'fax', category: 'FAX' },
        { name: 'everything-else', category: 'DEFAULT' },
      ],
    };
    const response = await dryRun({
      records: { userId: 'alice', value: 1, service: 'x' },
      configuration,
    });
    expect(response.status).toBe(200);
    expect(dryRunResponse.parse(response.body)).toEqual(response.body);
    expect(response.body.warnings).toEqual([
      { code: 'CATEGORY_WITHOUT_METER_TYPE', message: expect.stringContaining("rule 'fax'") },
    ]);
    expect(response.body.results[0]).toMatchObject({ rule: 'everything-else' });
  });

  it('refuses an invalid configuration, or one of another stream, naming the field (400)', async () => {
    const { dryRun } = await setUp();
    const records = { userId: 'alice', value: 1, service: 'sms' };
    const invalid = await dryRun({
      records,
      configuration: { ...callsInput, guidingRules: [{ name: 'x', category: '' }] },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues).toEqual([
      { field: 'configuration.guidingRules.0.category', message: expect.any(String) },
    ]);
    const other = await dryRun({ records, configuration: { ...callsInput, meterKey: 'k' } });
    expect(other.status).toBe(400);
    expect(other.body.issues).toEqual([
      { field: 'configuration.meterKey', message: "must be the stream's own (calls)" },
    ]);
  });

  it('refuses bodies without records, with over 100, or with non-objects (400)', async () => {
    const { dryRun } = await setUp();
    const record = { userId: 'alice', value: 1, service: 'sms' };
    for (const body of [
      {},
      { records: [] },
      { records: Array.from({ length: 101 }, () => record) },
      { records: [record, 42] },
      { records: 'text' },
      { records: record, extra: true },
    ]) {
      const response = await dryRun(body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(response.body.issues?.[0]?.field).toMatch(/^(records|extra)/);
    }
    expect((await dryRun({ records: Array.from({ length: 100 }, () => record) })).status).toBe(200);
  });

  it('refuses a record nested deeper than 100 levels (400), which its answer could not show', async () => {
    const { api } = await setUp();
    const nested = (levels: number) =>
      `{"userId":"alice","value":1,"service":"sms","x":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    for (const [levels, records, field] of [
      [6000, nested(6000), 'records'],
      [101, `[${nested(1)},${nested(100)}]`, 'records.1'],
    ] as const) {
      const response = await api.call('POST', '/streams/calls-stream/dry-run', undefined, {
        rawBody: `{"records":${records}}`,
      });
      expect(response.status, `${levels} levels`).toBe(400);
      expect(response.body.issues).toEqual([
        { field, message: 'must not be nested deeper than 100 levels' },
      ]);
    }
    // 100 levels: the record and 99 arrays, with a scalar or an object at the bottom.
    for (const records of [
      nested(99),
      nested(99).replace('[]', '[1]'),
      nested(98).replace('[]', '[{"a":1}]'),
    ]) {
      const fits = await api.call('POST', '/streams/calls-stream/dry-run', undefined, {
        rawBody: `{"records":${records}}`,
      });
      expect(fits.status, records).toBe(200);
      expect(fits.body.results[0].outcome).toBe('metered');
    }
  });

  it('reads each record as sent, as ingestion reads its bytes (1e400 is not null)', async () => {
    const { api } = await setUp();
    const infinite = {
      outcome: 'data-correction',
      correction: { reason: 'INVALID_RECORD', message: 'value: must be a finite number' },
    };
    const response = await api.call('POST', '/streams/calls-stream/dry-run', undefined, {
      rawBody: `{"records":[
        {"userId":"alice","value":1.5,"service":"sms"},
        {"userId":"alice","value":1e400,"service":"sms"}
      ]}`,
    });
    expect(response.status).toBe(200);
    expect(response.body.results[0].record.value).toBe('1.5');
    expect(response.body.results[1]).toMatchObject(infinite);
    expect(response.body.results[1]).not.toHaveProperty('record');
    // One record, not in an array, is read as sent too.
    const single = await api.call('POST', '/streams/calls-stream/dry-run', undefined, {
      rawBody: '{ "records" : {"userId":"alice","value":-1e400,"service":"sms"} }',
    });
    expect(single.body.results[0]).toMatchObject(infinite);
  });

  it('answers 404 for a stream that does not exist', async () => {
    const { dryRun } = await setUp();
    const response = await dryRun({ records: { userId: 'a' } }, 'nope');
    expect(response.status).toBe(404);
  });
});
