/**
 * Conservation under random faults (DESIGN.md section 2). For each seed: random meter types
 * (every aggregation, schedules, time zones, grace periods, thresholds), meters and usage
 * records (producer duplicates, late, future and malformed ones), delivered like Lambda does
 * (partial batch failures resumed from the failed record, bisected batches, duplicate
 * deliveries), with random crashes before and after every write, resets racing with
 * ingestion, schedules firing twice or late, and publish failures. Then everything is drained
 * and checked: every valid record counted exactly once in the published records, every other
 * record in data correction, one final record per closed period, one partial push per reached
 * threshold per period.
 *
 * The stream's rules change while records flow and between an attempt and its retry (issue 13):
 * each new version of the processor routes everything to the other of two categories, so a
 * retry routed by a newer version than its first attempt would count records twice. Every
 * record must count exactly once, in the category of the version pinned to its position.
 *
 * Unique meters (issue 17; some grouped by region, some with a small maxDistinct) count a field
 * drawn from a small pool, so values repeat across batches, shards and retries; in some steps
 * both shards deliver at once and write the same meters. Every period (and group) must report
 * the distinct values of the records counted in it (unique-oracle.ts), and a record refused
 * with UNIQUE_LIMIT_EXCEEDED must fall in a period holding maxDistinct values.
 *
 * `npm run test:chaos` runs 200 seeds; `npm test` runs a few. CHAOS_SEEDS=n and CHAOS_SEED=s
 * (one seed) choose them.
 */

import type { KinesisStreamEvent } from 'aws-lambda';
import Big from 'big.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createMeter } from '../../shared/application/meters.js';
import { loadProcessor } from '../../shared/application/stream-processors.js';
import { meanOf } from '../../shared/domain/exact-decimal.js';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import type { KeptRecord } from '../../shared/domain/record-history.js';
import { pinnedVersion } from '../../shared/domain/stream-pins.js';
import { nextProcessor } from '../../shared/domain/stream-processor.js';
import { streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import type { DataCorrection } from '../../shared/ports/data-correction-store.js';
import {
  ingestUnderTest,
  kinesisEvent,
  STREAM,
  streamConfig,
  type TestRecord,
} from '../support/ingest.js';
import {
  checkUniqueMeter,
  justifiesRefusal,
  type PeriodSeen,
  type UniqueFacts,
  type UniqueMeterFacts,
  type UniqueVerdict,
} from './unique-oracle.js';

/** A small, seedable PRNG (mulberry32): a failing seed replays exactly. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p: number) => next() < p,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}
type Random = ReturnType<typeof prng>;

const AGGREGATIONS = ['sum', 'increment', 'min', 'max', 'last', 'average', 'unique'] as const;
/** The unique field's values: a small pool, so values repeat across batches, shards and retries. */
const DEVICES = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 7, '7', true, 0] as const;
const REGIONS = ['eu', 'us'] as const;
const SCHEDULES = [
  { minute: '*/15', hour: '*', day: '*', month: '*', weekday: '*' },
  { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' },
  { minute: '5,35', hour: '*', day: '*', month: '*', weekday: '*' },
  { minute: '30', hour: '*/2', day: '*', month: '*', weekday: '*' },
  { minute: '0', hour: '0', day: '*', month: '*', weekday: '*' },
];
const ZONES = [
  'Etc/UTC',
  'Europe/Stockholm',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
];

interface Sent extends UniqueFacts {
  shardId: string;
  userId: string;
  value: number;
  valid: boolean;
  eventId?: string;
}

const totals = { seeds: 0, records: 0, faults: 0, versions: 0, lost: 0, doubleCounted: 0 };

/** Version v of the stream's processor routes every record to one category, v+1 to the other. */
const CATEGORIES = ['ALT', 'DEFAULT'] as const;
const categoryOf = (version: number) => CATEGORIES[version % 2] as string;
const routingOf = (version: number) => ({
  guidingRules: [{ name: 'all', category: categoryOf(version) }],
});

type Harness = Awaited<ReturnType<typeof ingestUnderTest>>;
/** Faults on or off; `quiet`: deliveries that kept failing and now run without faults. */
interface Chaos {
  enabled: boolean;
  quiet: number;
  faults: number;
}

/**
 * Saves the next version of the processor, as a PUT through the API would (never crashes); two
 * lanes saving at once serialize, as two clients would by If-Match and retry.
 */
let saving: Promise<void> = Promise.resolve();
function saveNextVersion(t: Harness): Promise<void> {
  saving = saving.catch(() => undefined).then(() => saveVersion(t));
  return saving;
}

async function saveVersion(t: Harness): Promise<void> {
  const current = await loadProcessor({ ...t.versionDeps, processors: t.processors }, STREAM);
  if (!current) throw new Error('the chaos stream is not deployed');
  // The other category; the grouping of the seed stays.
  const configuration = streamConfigSchema.parse({
    ...current.configuration,
    guidingRules: current.configuration.guidingRules.map((rule) => ({
      ...rule,
      category: categoryOf(current.version + 1),
    })),
  });
  await t.processors.replace(nextProcessor(current, configuration, t.clock.now), current.version);
  totals.versions++;
}

/** Wraps a store so that any call may crash before or after it reaches DynamoDB. */
function crashing<T extends object>(inner: T, random: Random, state: Chaos, p: number): T {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (state.enabled && state.quiet === 0 && random.chance(p)) {
          state.faults++;
          throw new Error(`chaos: crash before ${String(property)}`);
        }
        const result = await value.apply(target, args);
        if (state.enabled && state.quiet === 0 && random.chance(p / 2)) {
          state.faults++;
          throw new Error(`chaos: crash after ${String(property)}`);
        }
        return result;
      };
    },
  });
}

const SHARDS = ['shardId-000000000000', 'shardId-000000000001'] as const;

interface ChaosMeter {
  id: string;
  userId: string;
  category: string;
  aggregation: string;
  thresholds: { name: string; value: number }[];
  unique?: UniqueMeterFacts;
}

/**
 * One batch of 3-20 records for a shard: producer duplicates (event ids seen before; the second
 * lane of a step only new ones, so two batches delivered concurrently never race for an event
 * id), late, future and malformed records, some without a usable unique field.
 */
function produceBatch(
  random: Random,
  at: { seed: number; step: number; lane: number; now: number; shard: string },
  eventIds: string[],
): { event: KinesisStreamEvent; sent: Sent[] } {
  const { seed, step, lane, now, shard } = at;
  const records: TestRecord[] = [];
  const facts: Omit<Sent, 'sequenceNumber' | 'shardId'>[] = [];
  for (let i = random.int(3, 20); i > 0; i--) {
    const userId = random.pick(['u0', 'u1', 'u2', 'u3', 'u4']);
    const value = random.int(1, 90) / (random.chance(0.3) ? 10 : 1);
    const kind = random.next();
    let eventId: string | undefined;
    if (random.chance(0.8)) {
      eventId =
        lane === 0 && eventIds.length > 0 && random.chance(0.2)
          ? random.pick(eventIds)
          : `e-${seed}-${step}-${lane}-${i}`;
      eventIds.push(eventId);
    }
    // Absent or null in a few records: a unique meter cannot count those.
    const deviceId = random.chance(0.04) ? random.pick([undefined, null]) : random.pick(DEVICES);
    const region = random.pick(REGIONS);
    const common = { userId, value, deviceId, region, processedAt: now };
    if (kind < 0.05) {
      records.push({ data: null, raw: `{"userId":"${userId}","value":`, arrivalTime: now });
      facts.push({ ...common, usageTime: now, valid: false });
      continue;
    }
    const future = kind < 0.1;
    const timestamp = future ? now + 3_600_000 : now - random.int(0, 40) * 60_000;
    records.push({
      data: {
        userId,
        value,
        timestamp,
        region,
        ...(deviceId === undefined ? {} : { deviceId }),
        ...(eventId ? { eventId } : {}),
      },
      arrivalTime: now,
    });
    facts.push({
      ...common,
      usageTime: timestamp,
      valid: !future,
      ...(eventId ? { eventId } : {}),
    });
  }
  const event = kinesisEvent(records, shard);
  const sent: Sent[] = [];
  records.forEach((record, i) => {
    const fact = facts[i];
    if (fact) sent.push({ ...fact, sequenceNumber: record.sequenceNumber ?? '', shardId: shard });
  });
  return { event, sent };
}

async function runSeed(seed: number): Promise<void> {
  // Separate streams: the data of a seed stays the same whatever the faults did, and the
  // delivery choices do not shift when concurrent writes meet the faults in another order.
  const random = prng(seed);
  const delivery = prng(seed * 31 + 7);
  const faults = prng(seed * 131 + 17);
  const dedup = random.chance(0.5);
  const chaos: Chaos = { enabled: false, quiet: 0, faults: 0 };
  // Half the seeds group by region: unique meters then count distinct values per group too.
  const groupBy = random.chance(0.5) ? ['region'] : [];
  // Crashes in the ingest store, the data-correction store and the period-end store.
  const t = await ingestUnderTest(
    streamConfig({
      deduplication: { enabled: dedup, windowHours: 24 },
      guidingRules: routingOf(1).guidingRules.map((rule) => ({ ...rule, groupBy })),
    }),
    {
      wrap: (store) => crashing(store, faults, chaos, 0.04),
      // A read of the current version per batch: every save reaches the next attempt.
      versions: { refreshMs: 0 },
    },
  );

  // Meter types and meters: users u0..u3 have 1-3 meters, u4 has none.
  const start = Date.parse('2025-03-29T20:00:00Z') + random.int(0, 48) * 3_600_000;
  const types = [];
  for (let i = 0; i < 3; i++) {
    // The third type is unique in half the seeds, besides the chance of any type being unique.
    const aggregation = i === 2 && random.chance(0.5) ? 'unique' : random.pick(AGGREGATIONS);
    // A small maxDistinct (often reached: the limit's refusals) or the default.
    const maxDistinct = random.pick([2, 3, 5, undefined]);
    types.push({
      aggregation:
        aggregation === 'unique'
          ? { type: aggregation, field: 'deviceId', ...(maxDistinct ? { maxDistinct } : {}) }
          : { type: aggregation },
      resetSchedule: random.pick(SCHEDULES),
      timezone: random.pick(ZONES),
      // One type per category, the third of either: every user has meters in both.
      category: i < 2 ? CATEGORIES[i] : random.pick(CATEGORIES),
      gracePeriodSeconds: random.pick([0, 60, 300]),
      thresholds: [
        { name: 't1', value: random.int(20, 200) },
        ...(random.chance(0.5) ? [{ name: 't2', value: random.int(200, 800) }] : []),
      ],
    });
  }
  const meters: ChaosMeter[] = [];
  const createdTypes = await Promise.all(
    types.map((type) => t.meterFor(`u-setup-${seed}`, type, new Date(start))),
  );
  const facts = (id: string, userId: string, created: (typeof createdTypes)[number]) => {
    const { aggregation, category, gracePeriodSeconds } = created.meterType;
    return {
      id,
      userId,
      category,
      aggregation: aggregation.type,
      thresholds: [] as { name: string; value: number }[],
      ...(aggregation.type === 'unique'
        ? {
            unique: {
              id,
              gracePeriodSeconds,
              maxDistinct: aggregation.maxDistinct,
              grouped: groupBy.length > 0,
            },
          }
        : {}),
    };
  };
  for (const user of ['u0', 'u1', 'u2', 'u3']) {
    const count = random.int(2, 3);
    for (let i = 0; i < count; i++) {
      const created = createdTypes[i];
      if (!created) continue;
      const meter = await createMeter(
        { ...t.apiDeps, now: () => new Date(start) },
        { meterKey: 'k', meterTypeId: created.meterType.id, userId: user },
      );
      meters.push({ ...facts(meter.id, user, created), thresholds: types[i]?.thresholds ?? [] });
    }
  }
  for (const created of createdTypes)
    meters.push(facts(created.meter.id, `u-setup-${seed}`, created));

  chaos.enabled = true;
  // The producer: records over ~6 hours of simulated time, on two shards; in some steps a batch
  // on each shard, delivered concurrently (both may write the same meters).
  const sent: Sent[] = [];
  const eventIds: string[] = [];
  let now = start + 60_000;
  for (let step = 0; step < 24; step++) {
    now += random.int(1, 25) * 60_000;
    t.clock.now = new Date(now);
    const first = random.pick(SHARDS);
    const lanes = random.chance(0.3) ? [first, SHARDS.find((s) => s !== first) ?? first] : [first];
    const events = lanes.map((shard, lane) => {
      const batch = produceBatch(random, { seed, step, lane, now, shard }, eventIds);
      sent.push(...batch.sent);
      return batch.event;
    });
    // The rules change while records flow, and between attempts and their retries.
    if (delivery.chance(0.25)) await saveNextVersion(t);
    // Each lane its own delivery choices: they do not shift with the order the lanes run in.
    const deliveries = [delivery, prng(seed * 7919 + step)];
    await Promise.all(
      events.map(async (event, lane) => {
        const choices = deliveries[lane] ?? delivery;
        await deliver(t, event, choices, chaos);
        if (choices.chance(0.3)) await deliver(t, event, choices, chaos); // a duplicate delivery
      }),
    );

    // Schedules firing (twice, late) and the sweeper, with publish failures.
    if (delivery.chance(0.5)) {
      if (delivery.chance(0.3))
        t.publisher.failNextCalls(1, delivery.chance(0.5) ? 'throw' : 'report');
      const meter = delivery.pick(meters);
      await t.flush(meter.id).catch(() => undefined);
      if (delivery.chance(0.3)) await t.flush(meter.id).catch(() => undefined);
    }
    if (delivery.chance(0.2)) await t.sweep().catch(() => undefined);
  }
  // Drain: no more faults; far in the future every period is closed and every record sent.
  chaos.enabled = false;
  t.clock.now = new Date(now + 3 * 86_400_000);
  for (let round = 0; round < 10; round++) {
    const swept = await t.sweep();
    if (swept.due === 0) break;
  }
  for (const meter of meters) await t.flush(meter.id);

  // The checks.
  const published = new Map<string, MeteredRecord>();
  for (const record of t.publisher.records as unknown as MeteredRecord[]) {
    const seen = published.get(record.recordId);
    if (seen) expect(record, `seed ${seed}: a re-sent record must be identical`).toEqual(seen);
    published.set(record.recordId, record);
  }
  const corrections: DataCorrection[] = [];
  let nextToken: string | undefined;
  do {
    const page = await t.corrections.list({}, 100, nextToken);
    corrections.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  const correctedSeqs = new Set(corrections.map((c) => c.sequenceNumber));
  // The category each record went to: the one of the version pinned to its stream position.
  const pinsOf = new Map<string, Awaited<ReturnType<Harness['processors']['readPins']>>>();
  for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
    pinsOf.set(shard, await t.processors.readPins(STREAM, shard));
  }
  const categoryOfRecord = (record: Sent) => {
    const pins = pinsOf.get(record.shardId)?.pins;
    if (!pins) throw new Error(`seed ${seed}: shard ${record.shardId} has no pins`);
    return categoryOf(pinnedVersion(pins, record.sequenceNumber));
  };

  // Which records count: valid, of a user with meters, with a usable unique field where a unique
  // meter takes them, not refused by a unique meter's maxDistinct (judged below), and (with
  // dedup) the first of an event id.
  const reasonOf = new Map(corrections.map((c) => [c.sequenceNumber, c.reason]));
  const uniqueMetersOf = (record: Sent) =>
    meters.filter(
      (m) => m.unique && m.userId === record.userId && m.category === categoryOfRecord(record),
    );
  const counted = new Map<string, Sent[]>();
  const refused: Sent[] = [];
  const seenEvents = new Set<string>();
  for (const record of sent) {
    const unusable = record.deviceId === undefined || record.deviceId === null;
    if (
      !record.valid ||
      record.userId === 'u4' ||
      (unusable && uniqueMetersOf(record).length > 0)
    ) {
      expect(
        correctedSeqs.has(record.sequenceNumber),
        `seed ${seed}: record ${record.sequenceNumber} must be in data correction`,
      ).toBe(true);
      continue;
    }
    if (
      reasonOf.get(record.sequenceNumber) === 'UNIQUE_LIMIT_EXCEEDED' &&
      uniqueMetersOf(record).length > 0
    ) {
      refused.push(record);
      continue;
    }
    expect(
      correctedSeqs.has(record.sequenceNumber),
      `seed ${seed}: record ${record.sequenceNumber} must not be in data correction`,
    ).toBe(false);
    if (dedup && record.eventId) {
      const key = `${record.userId}/${record.eventId}`;
      if (seenEvents.has(key)) continue;
      seenEvents.add(key);
    }
    const list = counted.get(record.userId) ?? [];
    list.push(record);
    counted.set(record.userId, list);
  }

  const uniqueChecks = new Map<string, { periods: PeriodSeen[]; verdict: UniqueVerdict }>();
  for (const meter of meters) {
    const finals = [...published.values()]
      .filter((r) => r.id === meter.id && r.recordType === 'final')
      .sort((a, b) => (a.periodStart < b.periodStart ? -1 : 1));
    // One final record per closed period: contiguous, never overlapping.
    for (let i = 1; i < finals.length; i++) {
      expect(
        finals[i]?.periodStart,
        `seed ${seed}: periods of meter ${meter.id} must be contiguous`,
      ).toBe(finals[i - 1]?.periodEnd);
    }
    const expected = (counted.get(meter.userId) ?? []).filter(
      (record) => categoryOfRecord(record) === meter.category,
    );
    const recordCount = finals.reduce((n, r) => n + r.meterMetaData.recordCount, 0);
    const open = await t.meters.get(meter.id);
    const openCount = open?.meterMetaData.recordCount ?? 0;
    const got = recordCount + openCount;
    totals.lost += Math.max(0, expected.length - got);
    totals.doubleCounted += Math.max(0, got - expected.length);
    expect(got, `seed ${seed}: records counted by meter ${meter.id} (${meter.aggregation})`).toBe(
      expected.length,
    );
    if (meter.unique && open) {
      // Every period's distinct values (and every group's): one count per value, none missing.
      const periods: PeriodSeen[] = [...finals, open];
      const verdict = checkUniqueMeter(meter.unique, periods, expected);
      totals.lost += verdict.lost;
      totals.doubleCounted += verdict.doubleCounted;
      uniqueChecks.set(meter.id, { periods, verdict });
      expect(verdict.problems, `seed ${seed}: unique meter ${meter.id}`).toEqual([]);
    }
    if (meter.aggregation === 'sum') {
      const sum = finals.reduce((s, r) => s.plus(r.value), new Big(0)).plus(open?.value ?? 0);
      expect(sum.toFixed(), `seed ${seed}: sum of meter ${meter.id}`).toBe(
        expected.reduce((s, r) => s.plus(r.value), new Big(0)).toFixed(),
      );
    }
    if (meter.aggregation === 'average') {
      // The exact sum and count behind the means: every value once, over all periods.
      const parts = [...finals.map((r) => r.average), open?.average];
      const sum = parts.reduce((s, p) => s.plus(p?.sum ?? 0), new Big(0));
      const count = parts.reduce((n, p) => n + (p?.count ?? 0), 0);
      expect(sum.toFixed(), `seed ${seed}: average sum of meter ${meter.id}`).toBe(
        expected.reduce((s, r) => s.plus(r.value), new Big(0)).toFixed(),
      );
      expect(count, `seed ${seed}: average count of meter ${meter.id}`).toBe(expected.length);
      for (const final of finals) {
        expect(final.value, `seed ${seed}: mean of meter ${meter.id}`).toBe(
          final.average?.count ? Number(meanOf(final.average.sum, final.average.count)) : 0,
        );
      }
    }
    // One partial push per threshold reached in a period (values are positive: sums only grow).
    if (
      meter.aggregation === 'sum' ||
      meter.aggregation === 'increment' ||
      meter.aggregation === 'max' ||
      meter.aggregation === 'unique'
    ) {
      for (const final of finals) {
        const partials = [...published.values()].filter(
          (r) =>
            r.id === meter.id && r.recordType === 'partial' && r.periodStart === final.periodStart,
        );
        const names = partials.map((p) => p.threshold);
        expect(new Set(names).size, `seed ${seed}: one partial per threshold`).toBe(names.length);
        for (const threshold of meter.thresholds) {
          expect(
            names.includes(threshold.name),
            `seed ${seed}: threshold ${threshold.name} of ${meter.id} in ${final.periodStart}`,
          ).toBe(Number(final.value) >= threshold.value);
        }
      }
    }
  }
  // A record refused for maxDistinct falls in a period holding maxDistinct values; else it is lost.
  for (const record of refused) {
    const justified = uniqueMetersOf(record).some((m) => {
      const check = m.unique && uniqueChecks.get(m.id);
      return check && m.unique && justifiesRefusal(m.unique, check.periods, check.verdict, record);
    });
    if (!justified) totals.lost++;
    expect(justified, `seed ${seed}: record ${record.sequenceNumber} refused for maxDistinct`).toBe(
      true,
    );
  }
  await checkHistory(t, seed, meters);
  totals.seeds++;
  totals.records += sent.length;
  totals.faults += chaos.faults;
}

/**
 * History (DESIGN.md 2.8): every record sent is kept exactly once per recordId, with the bytes
 * that were sent (every copy of a re-sent record too), so each closed period has one kept final.
 */
async function checkHistory(
  t: Awaited<ReturnType<typeof ingestUnderTest>>,
  seed: number,
  meters: readonly { id: string }[],
): Promise<void> {
  for (const meter of meters) {
    const kept: KeptRecord[] = [];
    let nextToken: string | undefined;
    do {
      const page = await t.history.list({ meterId: meter.id }, 1000, nextToken);
      kept.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
    const ids = kept.map((k) => k.record.recordId);
    expect(new Set(ids).size, `seed ${seed}: one kept copy per recordId`).toBe(ids.length);
    const sent = t.publisher.records.filter((r) => r.id === meter.id);
    expect([...ids].sort(), `seed ${seed}: kept = sent for meter ${meter.id}`).toEqual(
      [...new Set(sent.map((r) => r.recordId))].sort(),
    );
    const json = new Map(kept.map((k) => [k.record.recordId, k.json]));
    for (const record of sent) {
      expect(JSON.stringify(record), `seed ${seed}: kept bytes = sent bytes`).toBe(
        json.get(record.recordId),
      );
    }
  }
}

/**
 * Delivers a batch as the Lambda event source mapping would: resume, bisect, retry; between an
 * attempt that failed part-way and its retry, the rules may change.
 */
async function deliver(
  t: Awaited<ReturnType<typeof ingestUnderTest>>,
  event: KinesisStreamEvent,
  random: Random,
  chaos: Chaos,
): Promise<void> {
  let pending = event.Records;
  let quiet = false;
  for (let attempt = 0; pending.length > 0; attempt++) {
    // A batch that kept failing runs without faults (and so do the others while it does).
    if (attempt > 30 && !quiet) {
      quiet = true;
      chaos.quiet++;
    }
    // Bisect: deliver the first half on its own first.
    const part =
      pending.length > 1 && random.chance(0.2)
        ? pending.slice(0, Math.ceil(pending.length / 2))
        : pending;
    let failedAt: string | undefined;
    try {
      const response = await t.handler({ Records: part });
      failedAt = response.batchItemFailures[0]?.itemIdentifier;
    } catch {
      failedAt = part[0]?.kinesis.sequenceNumber;
    }
    if (failedAt === undefined) {
      pending = pending.slice(part.length);
      continue;
    }
    const index = pending.findIndex((r) => r.kinesis.sequenceNumber === failedAt);
    pending = pending.slice(Math.max(0, index));
    if (random.chance(0.5)) await saveNextVersion(t);
    if (attempt > 40) throw new Error('a batch kept failing');
  }
  if (quiet) chaos.quiet--;
}

const seedCount = Number(process.env.CHAOS_SEEDS ?? 3);
const only = process.env.CHAOS_SEED === undefined ? undefined : Number(process.env.CHAOS_SEED);
const seeds = only !== undefined ? [only] : Array.from({ length: seedCount }, (_, i) => 1000 + i);

describe('conservation under random faults', () => {
  afterAll(() => {
    console.log(
      `seeds: ${totals.seeds}, records: ${totals.records}, faults: ${totals.faults}, rule versions: ${totals.versions}, lost: ${totals.lost}, double-counted: ${totals.doubleCounted}`,
    );
  });

  it.each(seeds)(
    'seed %i (re-run one seed: CHAOS_SEED=<seed> npx vitest run test/chaos)',
    async (seed) => {
      await runSeed(seed);
    },
    600_000,
  );
});
