import { describe, expect, it } from 'vitest';
import {
  createIngestHandler,
  UnknownStreamError,
} from '../../shared/adapters/kinesis-ingest-handler.js';
import { dryRunStream } from '../../shared/application/stream-dry-run.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import { ingestUnderTest, kinesisEvent, streamConfig, type TestRecord } from '../support/ingest.js';

const at = (iso: string) => Date.parse(iso);
const usage = (
  userId: string,
  value: unknown,
  timestamp = '2025-01-15T10:00:00Z',
  extra: Record<string, unknown> = {},
): TestRecord => ({
  data: { userId, value, timestamp, ...extra },
});

describe('ingestion: aggregation, routing and data correction', () => {
  it.each([
    ['sum', [3, 0.1, 0.2, -1.3], 2],
    ['increment', [3, 0.1, 0.2, -1.3], 4],
    ['min', [3, 0.1, 0.2, -1.3], -1.3],
    ['max', [3, 0.1, 0.2, -1.3], 3],
  ])('aggregates %s exactly', async (type, values, expected) => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice', { aggregation: { type } });
    const response = await t.handler(kinesisEvent(values.map((v) => usage('alice', v))));
    expect(response.batchItemFailures).toEqual([]);
    const view = await t.meters.get(meter.id);
    expect(view?.value).toBe(expected);
    expect(view?.meterMetaData.recordCount).toBe(4);
    expect(view?.meterMetaData.firstUsageAt).toBe('2025-01-15T10:00:00.000Z');
  });

  it('keeps the value of the latest usage time for last, whatever the arrival order', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice', { aggregation: { type: 'last' } });
    await t.handler(
      kinesisEvent([
        usage('alice', 5, '2025-01-15T10:00:00Z'),
        usage('alice', 7, '2025-01-15T11:00:00Z'),
      ]),
    );
    await t.handler(kinesisEvent([usage('alice', 9, '2025-01-15T09:00:00Z')]));
    expect((await t.meters.get(meter.id))?.value).toBe(7);
  });

  it('accepts epoch-millisecond timestamps and defaults to the arrival time', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice');
    await t.handler(
      kinesisEvent([
        { data: { userId: 'alice', value: 1, timestamp: at('2025-01-14T00:00:00Z') } },
        { data: { userId: 'alice', value: 1 }, arrivalTime: at('2025-01-15T11:00:00Z') },
      ]),
    );
    const view = await t.meters.get(meter.id);
    expect(view?.meterMetaData).toMatchObject({
      firstUsageAt: '2025-01-14T00:00:00.000Z',
      lastUsageAt: '2025-01-15T11:00:00.000Z',
    });
  });

  it('routes by rule order with AND/OR conditions, groups by fields, and falls through when the user has no meter', async () => {
    const t = await ingestUnderTest(
      streamConfig({
        guidingRules: [
          {
            name: 'voice',
            operator: 'OR',
            conditions: [
              { field: 'service', type: 'string', value: 'voice' },
              { field: 'kind', type: 'number', value: 1 },
            ],
            category: 'VOICE',
            groupBy: ['region'],
          },
          { name: 'rest', category: 'DEFAULT' },
        ],
        carryFirst: ['plan'],
        carryLast: ['plan'],
      }),
    );
    const voice = await t.meterFor('alice', { category: 'VOICE' });
    const rest = await t.meterFor('alice', { category: 'DEFAULT' });
    const bobRest = await t.meterFor('bob', { category: 'DEFAULT' });
    await t.handler(
      kinesisEvent([
        usage('alice', 2, '2025-01-15T10:00:00Z', { service: 'voice', region: 'eu', plan: 'a' }),
        usage('alice', 3, '2025-01-15T10:01:00Z', { kind: 1, region: 'us', plan: 'b' }),
        usage('alice', 4, '2025-01-15T10:02:00Z', { service: 'voice', region: 'eu', plan: 'c' }),
        usage('alice', 10, '2025-01-15T10:03:00Z', { service: 'data', kind: '1' }),
        usage('bob', 5, '2025-01-15T10:04:00Z', { service: 'voice' }),
      ]),
    );
    const voiceView = await t.meters.get(voice.meter.id);
    expect(voiceView?.value).toBe(9);
    expect(voiceView?.groups).toEqual([
      { fields: { region: 'eu' }, value: 6, count: 2 },
      { fields: { region: 'us' }, value: 3, count: 1 },
    ]);
    expect((await t.meters.get(rest.meter.id))?.value).toBe(10);
    // bob has no VOICE meter: his voice record falls through to the next rule.
    expect((await t.meters.get(bobRest.meter.id))?.value).toBe(5);
    const state = await t.state(voice.meter.id);
    const slot = Object.values(state.usage.shards)[0];
    expect(slot?.agg.carryFirst.plan?.value).toBe('a');
    expect(slot?.agg.carryLast.plan?.value).toBe('c');
  });

  it('routes by richer conditions (ne, in, prefix, gt, exists), typed, as the dry run said it would', async () => {
    const t = await ingestUnderTest(
      streamConfig({
        guidingRules: [
          {
            name: 'long-roaming',
            conditions: [
              { field: 'minutes', op: 'gt', type: 'number', value: 10 },
              { field: 'zone', op: 'prefix', type: 'string', value: 'roam-' },
            ],
            category: 'ROAMING',
          },
          {
            name: 'paid',
            conditions: [
              { field: 'plan', op: 'in', type: 'string', value: ['gold', 'silver'] },
              { field: 'trial', op: 'ne', type: 'boolean', value: true },
              { field: 'region', op: 'exists' },
            ],
            category: 'PAID',
          },
        ],
      }),
    );
    const roaming = await t.meterFor('alice', { category: 'ROAMING' });
    const paid = await t.meterFor('alice', { category: 'PAID' });
    const records = [
      { minutes: 11, zone: 'roam-eu' }, // roaming: 1
      { minutes: 10, zone: 'roam-eu', plan: 'gold', trial: false, region: 'eu' }, // paid: 2
      { minutes: '11', zone: 'roam-eu' }, // a string is no number: unmatched
      { plan: 'gold', trial: true, region: 'eu' }, // trial: unmatched
      { plan: 'gold', region: 'eu' }, // ne on a missing field is false: unmatched
      { plan: 'silver', trial: false, region: 'us' }, // paid: 32
    ];
    const values = [1, 2, 4, 8, 16, 32];
    const data = records.map((fields, i) => ({
      userId: 'alice',
      value: values[i],
      timestamp: `2025-01-15T10:0${i}:00Z`,
      ...fields,
    }));
    // The dry run, made first, says what ingestion then does: the same rules decide both.
    const dryRun = await dryRunStream(
      {
        userMeters: t.store,
        categories: t.meterTypes,
        meterType: async (id) => (await t.meterTypes.get(id))?.meterType,
        now: () => t.clock.now,
      },
      t.streams[0] as StreamConfig,
      data,
    );
    expect(dryRun.warnings).toEqual([]);
    expect(
      dryRun.results.map((r) => r.correction?.reason ?? r.meters.map((m) => m.category)),
    ).toEqual([
      ['ROAMING'],
      ['PAID'],
      'NO_MATCHING_RULE',
      'NO_MATCHING_RULE',
      'NO_MATCHING_RULE',
      ['PAID'],
    ]);
    await t.handler(
      kinesisEvent(
        records.map((fields, i) =>
          usage('alice', values[i] ?? 0, `2025-01-15T10:0${i}:00Z`, fields),
        ),
      ),
    );
    expect((await t.meters.get(roaming.meter.id))?.value).toBe(1);
    expect((await t.meters.get(paid.meter.id))?.value).toBe(34);
    const corrected = (await t.corrections.list({}, 100)).items;
    expect(corrected.map((c) => c.reason)).toEqual([
      'NO_MATCHING_RULE',
      'NO_MATCHING_RULE',
      'NO_MATCHING_RULE',
    ]);
  });

  it('puts every record it cannot meter into data correction with its reason and original bytes', async () => {
    const t = await ingestUnderTest(
      streamConfig({
        guidingRules: [
          {
            name: 'only-voice',
            conditions: [{ field: 'service', type: 'string', value: 'voice' }],
            category: 'VOICE',
          },
        ],
        lateRecordPolicy: 'data-correction',
        validation: { required: ['service'], types: { service: 'string' } },
      }),
    );
    await t.meterFor('alice', {
      category: 'VOICE',
      activeFrom: '2025-01-01T00:00:00Z',
      activeTo: '2025-03-01T00:00:00Z',
      capacity: 10,
      capacityPolicy: 'reject',
    });
    const records: [TestRecord, string][] = [
      [{ data: null, raw: '{not json' }, 'INVALID_RECORD'],
      [{ data: null, raw: '[1,2]' }, 'INVALID_RECORD'],
      [{ data: { value: 1, service: 'voice' } }, 'INVALID_RECORD'],
      [{ data: null, raw: '{"userId":"alice","value":1e309,"service":"voice"}' }, 'INVALID_RECORD'],
      [usage('alice', 'NaN', undefined, { service: 'voice' }), 'INVALID_RECORD'],
      [usage('alice', 1, undefined, { service: 42 }), 'INVALID_RECORD'],
      [usage('alice', 1), 'INVALID_RECORD'],
      [usage('alice', 1, undefined, { service: 'data' }), 'NO_MATCHING_RULE'],
      [usage('nobody', 1, undefined, { service: 'voice' }), 'NO_METER'],
      [usage('alice', 1, '2024-12-01T00:00:00Z', { service: 'voice' }), 'OUTSIDE_ACTIVE_WINDOW'],
      [usage('alice', 1, '2025-01-16T00:00:00Z', { service: 'voice' }), 'FUTURE_TIMESTAMP'],
      [usage('alice', 1, '2025-01-05T00:00:00Z', { service: 'voice' }), 'LATE_RECORD'],
      [usage('alice', 8, undefined, { service: 'voice' }), 'metered'],
      [usage('alice', 3, undefined, { service: 'voice' }), 'CAPACITY_EXCEEDED'],
      [usage('alice', 2, undefined, { service: 'voice' }), 'metered'],
    ];
    const event = kinesisEvent(records.map(([r]) => r));
    const response = await t.handler(event);
    expect(response.batchItemFailures).toEqual([]);
    const page = await t.corrections.list({}, 100);
    const bySeq = new Map(page.items.map((c) => [c.sequenceNumber, c]));
    records.forEach(([record, expected], i) => {
      const entry = bySeq.get(record.sequenceNumber ?? '');
      if (expected === 'metered') {
        expect(entry, `record ${i}`).toBeUndefined();
        return;
      }
      expect(entry?.reason, `record ${i}`).toBe(expected);
      expect(entry?.message.length).toBeGreaterThan(5);
      expect(entry?.streamName).toBe('usage-events');
      expect(entry?.shardId).toBe('shardId-000000000000');
      expect(Buffer.from(entry?.data ?? '', 'base64').toString('base64')).toBe(
        event.Records[i]?.kinesis.data,
      );
    });
    expect(page.items).toHaveLength(records.filter(([, e]) => e !== 'metered').length);
    expect(bySeq.get(records[2]?.[0].sequenceNumber ?? '')?.message).toMatch(/^userId: /);
    // Replaying the batch stores nothing twice and changes nothing.
    await t.handler(event);
    expect((await t.corrections.list({}, 100)).items).toHaveLength(page.items.length);
    expect(t.metrics.batches[0]?.counts).toMatchObject({ received: 15, metered: 2 });
  });

  it('counts a late record in the current period and marks it late under the default policy', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice');
    await t.handler(kinesisEvent([usage('alice', 4, '2025-01-02T00:00:00Z'), usage('alice', 1)]));
    const view = await t.meters.get(meter.id);
    expect(view?.value).toBe(5);
    expect(view?.meterMetaData.lateRecords).toBe(1);
  });

  it('counts a record of every meter of the user in the matched category', async () => {
    const t = await ingestUnderTest();
    const a = await t.meterFor('alice');
    const b = await t.meterFor('alice', { aggregation: { type: 'increment' } });
    await t.handler(kinesisEvent([usage('alice', 4), usage('alice', 6)]));
    expect((await t.meters.get(a.meter.id))?.value).toBe(10);
    expect((await t.meters.get(b.meter.id))?.value).toBe(2);
  });
});

describe('ingestion: which configured stream a Kinesis stream is', () => {
  it('finds the configuration by the Kinesis name CloudFormation gave the stream', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice');
    const configured = t.streams[0]!.name;
    const kinesisName = `UsageMetering-dev-StreamUsageEvents-${configured.length}AbC`;
    const handler = createIngestHandler({
      store: t.store,
      corrections: t.corrections,
      meterType: async (id) => (await t.meterTypes.get(id))?.meterType,
      now: () => t.clock.now,
      streams: t.streams,
      kinesisNames: { [configured]: kinesisName },
      metrics: t.metrics,
      logFailure: () => undefined,
    });
    const response = await handler(
      kinesisEvent([usage('alice', 4)], 'shardId-000000000000', kinesisName),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect((await t.meters.get(meter.id))?.value).toBe(4);
    // The configured name alone is not a Kinesis stream of this deployment: a loud failure,
    // and the records stay on their shard until the configuration is fixed.
    await expect(
      handler(kinesisEvent([usage('alice', 1)], 'shardId-000000000000', configured)),
    ).rejects.toThrow(UnknownStreamError);
    expect((await t.meters.get(meter.id))?.value).toBe(4);
  });
});
