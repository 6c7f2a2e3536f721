/**
 * The trap of changing rules under ingestion (issue 13): a retry after a partial failure re-reads
 * records that some meters already applied. Routed by a newer version, they can reach meters of
 * another category, whose shard positions have never seen them, and count twice. Pinning the
 * version to the stream position routes every attempt at a record the same way.
 */
import { describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../shared/adapters/kinesis-ingest-handler.js';
import { replaceProcessor } from '../../shared/application/stream-processors.js';
import { parseStreamsConfig } from '../../shared/config/streams.js';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import type { ShardUsageWrite } from '../../shared/ports/usage-writer.js';
import { ingestUnderTest, kinesisEvent, STREAM, streamConfig } from '../support/ingest.js';

const everythingTo = (category: string) => ({
  guidingRules: [{ name: 'all', category }],
});

const usage = (userId: string, value: number) => ({
  data: { userId, value, timestamp: '2025-01-15T11:00:00Z' },
});

/** u1 and u2 each have a meter of category A and one of category B; the stream routes to A. */
async function setUp(options: { pinning: boolean }) {
  const t = await ingestUnderTest(
    streamConfig(everythingTo('A')),
    options.pinning ? { versions: { refreshMs: 0 } } : {},
  );
  const meters: Record<string, string> = {};
  for (const user of ['u1', 'u2']) {
    for (const category of ['A', 'B']) {
      meters[`${user}/${category}`] = (await t.meterFor(user, { category })).meter.id;
    }
  }
  const value = async (key: string) => (await t.meters.get(meters[key] ?? ''))?.value;
  // u2's first write fails: u1's records are applied, the batch is retried from u2's record.
  t.store.faults.push({
    method: 'writeShardUsage',
    when: (args) => (args[0] as ShardUsageWrite).meter.userId === 'u2',
  });
  return { t, meters, value };
}

describe('ingestion routes a retried record by the version its first attempt used', () => {
  it('without pinning, a retry routed by the new rules counts a record twice (the trap)', async () => {
    const { t, value } = await setUp({ pinning: false });
    const event = kinesisEvent([usage('u2', 2), usage('u1', 4)]);
    const first = await t.handler(event);
    expect(first.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]?.kinesis.sequenceNumber },
    ]);
    expect(await value('u1/A')).toBe(4);
    // The rules change between the attempt and its retry; the retry routes by them.
    const routedByNewRules = createIngestHandler({
      store: t.store,
      corrections: t.corrections,
      meterType: async (id) => (await t.meterTypes.get(id))?.meterType,
      now: () => t.clock.now,
      streams: parseStreamsConfig(streamConfig(everythingTo('B'))),
      metrics: t.metrics,
      logFailure: () => undefined,
    });
    expect((await routedByNewRules(event)).batchItemFailures).toEqual([]);
    // u1's record is now in A and in B: counted twice.
    expect([await value('u1/A'), await value('u1/B')]).toEqual([4, 4]);
  });

  it('with pinning, the retry keeps the first version; records after it follow the new one', async () => {
    const { t, value } = await setUp({ pinning: true });
    const event = kinesisEvent([usage('u2', 2), usage('u1', 4)]);
    const first = await t.handler(event);
    expect(first.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]?.kinesis.sequenceNumber },
    ]);
    const saved = await replaceProcessor(
      { ...t.versionDeps, processors: t.processors, categories: t.meterTypes },
      STREAM,
      { ...streamConfig(everythingTo('B'))[0] },
      [1],
    );
    expect(saved.processor.version).toBe(2);
    expect((await t.handler(event)).batchItemFailures).toEqual([]);
    // Both records of the retried batch went by version 1: u1's once, u2's into A.
    expect([await value('u1/A'), await value('u1/B')]).toEqual([4, 0]);
    expect([await value('u2/A'), await value('u2/B')]).toEqual([2, 0]);
    // Records put after the change follow version 2.
    await t.handler(kinesisEvent([usage('u1', 8), usage('u2', 16)]));
    expect([await value('u1/A'), await value('u1/B')]).toEqual([4, 8]);
    expect([await value('u2/A'), await value('u2/B')]).toEqual([2, 16]);
    const pins = await t.processors.readPins(STREAM, 'shardId-000000000000');
    expect(pins?.pins.map((pin) => pin.version)).toEqual([1, 2]);
  });

  it("closes a period with the carry fields of the stream's current version", async () => {
    const t = await ingestUnderTest(streamConfig(everythingTo('A')), {
      versions: { refreshMs: 0 },
    });
    const { meter } = await t.meterFor('u1', { category: 'A' });
    await replaceProcessor(
      { ...t.versionDeps, processors: t.processors, categories: t.meterTypes },
      STREAM,
      { ...streamConfig({ ...everythingTo('A'), carryLast: ['plan'] })[0] },
      '*',
    );
    await t.handler(
      kinesisEvent([
        { data: { userId: 'u1', value: 1, timestamp: '2025-01-15T11:00:00Z', plan: 'gold' } },
      ]),
    );
    t.clock.now = new Date('2025-02-01T01:00:00.000Z');
    await t.flush(meter.id);
    const final = (t.publisher.records as unknown as MeteredRecord[]).find(
      (r) => r.id === meter.id && r.recordType === 'final',
    );
    expect(final?.carryLast).toEqual({ plan: 'gold' });
  });

  it('records the routing version on data-correction entries', async () => {
    const t = await ingestUnderTest(streamConfig(everythingTo('A')), {
      versions: { refreshMs: 0 },
    });
    await t.handler(kinesisEvent([usage('nobody', 1)]));
    await replaceProcessor(
      { ...t.versionDeps, processors: t.processors, categories: t.meterTypes },
      STREAM,
      { ...streamConfig(everythingTo('B'))[0] },
      '*',
    );
    await t.handler(kinesisEvent([usage('nobody', 2)]));
    const { items } = await t.corrections.list({}, 10);
    expect(items.map((c) => [c.reason, c.streamVersion])).toEqual([
      ['NO_METER', 1],
      ['NO_METER', 2],
    ]);
  });

  it('waits (the whole batch) when the version cannot be pinned, and pins it on the retry', async () => {
    let failPins = true;
    const t = await ingestUnderTest(streamConfig(everythingTo('A')), {
      versions: { refreshMs: 0 },
      wrap: (store) =>
        'writePins' in store
          ? new Proxy(store, {
              get(target, property, receiver) {
                const value = Reflect.get(target, property, receiver);
                if (property !== 'writePins' || typeof value !== 'function') return value;
                return async (...args: unknown[]) => {
                  if (failPins) throw new Error('DynamoDB unreachable');
                  return value.apply(target, args);
                };
              },
            })
          : store,
    });
    const meter = (await t.meterFor('u1', { category: 'A' })).meter.id;
    const event = kinesisEvent([usage('u1', 1), usage('u1', 2)]);
    const first = await t.handler(event);
    expect(first.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]?.kinesis.sequenceNumber },
    ]);
    expect(t.failureLog.map((f) => f.details.stage)).toEqual(['stream-version']);
    expect((await t.meters.get(meter))?.value).toBe(0);
    failPins = false;
    expect((await t.handler(event)).batchItemFailures).toEqual([]);
    expect((await t.meters.get(meter))?.value).toBe(3);
  });
});
