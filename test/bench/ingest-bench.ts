/**
 * Sections 1–3 of the bench: ingest throughput against decode-only, DynamoDB writes per record
 * against the targets and a naive baseline, and a hot meter written from two shards.
 */

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { forEachLimited } from '../../shared/application/concurrency.js';
import { periodTotals } from '../../shared/domain/meter-usage.js';
import {
  type BenchTable,
  benchStreams,
  benchTable,
  decodeOnly,
  dynamoIngest,
  kinesisEvent,
  median,
  memoryIngest,
  ShardSequence,
  timed,
  usageRecord,
} from './harness.js';
import { fixed, int, type Row, rate, times } from './report.js';

/** The target of issue 4: handler time at most 3× decode-only time. */
export const HANDLER_TO_DECODE_TARGET = 3;

interface Batches {
  events: KinesisStreamEvent[];
  /** Expected total per user, in tenths. */
  tenths: Map<string, number>;
  records: number;
}

/** `count` batches of `size` records spread round-robin over the users (values 0.1–0.7). */
export function buildBatches(
  users: readonly string[],
  count: number,
  size: number,
  shard: ShardSequence,
  options: { eventIds?: string; tenths?: Map<string, number> } = {},
): Batches {
  const tenths = options.tenths ?? new Map<string, number>();
  const events: KinesisStreamEvent[] = [];
  for (let b = 0; b < count; b++) {
    const records = [];
    for (let i = 0; i < size; i++) {
      const n = b * size + i;
      const userId = users[n % users.length] as string;
      const value = (n % 7) + 1;
      tenths.set(userId, (tenths.get(userId) ?? 0) + value);
      records.push(
        usageRecord(userId, value, options.eventIds ? `${options.eventIds}-${n}` : undefined),
      );
    }
    events.push(kinesisEvent(records, shard));
  }
  return { events, tenths, records: count * size };
}

const minorGc: () => void = (() => {
  // V8's `gc`, exposed at run time so the bench needs no node flag.
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  return () => gc({ type: 'minor' });
})();

/**
 * Two young-generation collections: what is still alive moves to the old generation and the
 * young one starts empty, without the full collection that would also shrink it.
 */
function settleYoungGeneration(): void {
  minorGc();
  minorGc();
}

function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return Math.max(1, used.user + used.system);
}

function usersNamed(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

function assertNoFailures(response: { batchItemFailures: unknown[] }, what: string) {
  if (response.batchItemFailures.length > 0)
    throw new Error(`${what}: batch item failures ${JSON.stringify(response.batchItemFailures)}`);
}

/** Totals must be exact: the stored decimal equals the expected tenths / 10. */
function assertTotal(
  actual: string | number | null | undefined,
  tenthsExpected: number,
  what: string,
) {
  if (actual === null || actual === undefined || Number(actual) !== tenthsExpected / 10)
    throw new Error(`${what}: total ${String(actual)}, expected ${tenthsExpected / 10}`);
}

export interface ThroughputOptions {
  users: number;
  batches: number;
  batchSize: number;
  /** Measured rounds of `batches` batches (the median is reported). */
  rounds: number;
  /** Deep-freeze what the in-memory store keeps, to catch mutation (the smoke test does). */
  guardMutation?: boolean;
}

export interface ThroughputResult {
  decodePerSecond: number;
  memory: { dedup: boolean; perSecond: number; ratio: number; calls: Record<string, number> }[];
  dynamo?: {
    perSecond: number;
    ratio: number;
    nodeCpuMicrosPerRecord: number;
    callsPerBatch: number;
    msPerCall: number;
    queriesPerBatch: number;
    updatesPerBatch: number;
  };
}

async function runBatches(
  handler: (event: KinesisStreamEvent) => Promise<{ batchItemFailures: unknown[] }>,
  events: readonly KinesisStreamEvent[],
) {
  for (const event of events) assertNoFailures(await handler(event), 'ingest');
}

/** Section 1: records per second through the handler, in memory and on DynamoDB Local. */
export async function measureThroughput(
  endpoint: string | undefined,
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  const users = usersNamed('tp', options.users);
  const perRound = options.batches * options.batchSize;
  const decodeRates: number[] = [];
  let checksum = 0;

  // Handler and decode-only alternate round by round on the same events, so a change in the
  // machine's load hits both; the ratio is the median of the per-round ratios.
  const memory: ThroughputResult['memory'] = [];
  for (const dedup of [false, true]) {
    const mem = memoryIngest(benchStreams(dedup), {
      guardMutation: options.guardMutation ?? false,
    });
    const ids = mem.createMeters(users);
    const shard = new ShardSequence();
    const tenths = new Map<string, number>();
    const warmRounds = 2;
    const rates: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < warmRounds + options.rounds; round++) {
      // Built round by round, so the heap holds one round's events, as a Lambda holds one batch;
      // events built up front would make every garbage collection mark all of them.
      const batches = buildBatches(users, options.batches, options.batchSize, shard, {
        tenths,
        ...(dedup ? { eventIds: `mem-${round}` } : {}),
      });
      // CPU time, not wall time: other work on the machine then hardly moves the figures.
      // Young garbage of the build would otherwise be collected (and the events moved to the
      // old generation) inside whichever timed part comes first.
      settleYoungGeneration();
      const decodeCpu = process.cpuUsage();
      for (const event of batches.events) checksum += decodeOnly(event);
      const decodeMicros = cpuMicrosSince(decodeCpu);
      settleYoungGeneration();
      const { cpuMicros } = await timed(() => runBatches(mem.handler, batches.events));
      if (round < warmRounds) continue;
      rates.push(perRound / (cpuMicros / 1e6));
      ratios.push(cpuMicros / decodeMicros);
      if (!dedup) decodeRates.push(perRound / (decodeMicros / 1e6));
    }
    for (const [userId, expected] of tenths) {
      const state = mem.store.get(ids.get(userId) as string);
      assertTotal(
        state && periodTotals('sum', state.usage).agg.value,
        expected,
        `memory ${userId}`,
      );
    }
    if (mem.store.conflicts > 0) throw new Error(`memory: ${mem.store.conflicts} conflicts`);
    memory.push({ dedup, perSecond: median(rates), ratio: median(ratios), calls: mem.store.calls });
  }
  if (checksum === 0) throw new Error('decode-only produced nothing');
  const decodePerSecond = median(decodeRates);

  if (!endpoint) return { decodePerSecond, memory };
  const table = await benchTable(endpoint);
  try {
    const ingest = dynamoIngest(table, benchStreams(false));
    const ids = await ingest.createMeters(users, { concurrency: 8 });
    const shard = new ShardSequence();
    const tenths = new Map<string, number>();
    const warm = buildBatches(users, 1, options.batchSize, shard, { tenths });
    await runBatches(ingest.handler, warm.events);
    const batches = buildBatches(users, options.batches, options.batchSize, shard, { tenths });
    table.stats.reset();
    const { ms, cpuMicros } = await timed(() => runBatches(ingest.handler, batches.events));
    const stats = table.stats.snapshot();
    for (const [userId, expected] of tenths) {
      const view = await ingest.meters.get(ids.get(userId) as string);
      assertTotal(view?.value, expected, `dynamodb ${userId}`);
    }
    const perSecond = batches.records / (ms / 1000);
    return {
      decodePerSecond,
      memory,
      dynamo: {
        perSecond,
        ratio: decodePerSecond / perSecond,
        nodeCpuMicrosPerRecord: cpuMicros / batches.records,
        callsPerBatch: stats.totalCalls / options.batches,
        msPerCall: stats.totalMs / stats.totalCalls,
        queriesPerBatch: (stats.calls.QueryCommand ?? 0) / options.batches,
        updatesPerBatch: (stats.calls.UpdateItemCommand ?? 0) / options.batches,
      },
    };
  } finally {
    table.client.destroy();
  }
}

function verdict(ratio: number): string {
  const met = ratio <= HANDLER_TO_DECODE_TARGET ? 'MEETS' : 'MISSES';
  return `${met} the target (this row is the one checked: it isolates our code)`;
}

export function throughputRows(r: ThroughputResult, options: ThroughputOptions): Row[] {
  const layout = `${int(options.batchSize)}-record batches × ${options.batches}, ${int(options.users)} meters`;
  const usPerRecord = (perSecond: number) => `${fixed(1e6 / perSecond, 2)} µs/record`;
  const rows: Row[] = [
    {
      section: '1',
      measure: 'decode only (base64 + JSON.parse)',
      measured: `${rate(r.decodePerSecond)} records per CPU-second`,
      target: '—',
      ratio: '1×',
      notes: `${usPerRecord(r.decodePerSecond)} of process CPU; ${layout}; median of ${options.rounds} rounds after 2 warm-up rounds, alternating with the handler`,
    },
  ];
  for (const m of r.memory) {
    const checked = !m.dedup;
    rows.push({
      section: '1',
      measure: `ingest handler, in-memory stores, dedup ${m.dedup ? 'on' : 'off'}`,
      measured: `${rate(m.perSecond)} records per CPU-second`,
      target: checked
        ? `handler ≤ ${HANDLER_TO_DECODE_TARGET}× decode-only (issue 4)`
        : 'informational',
      ratio: times(m.ratio),
      notes: `${usPerRecord(m.perSecond)}; ${checked ? verdict(m.ratio) : 'claims are one store call per record'}`,
    });
  }
  if (r.dynamo) {
    const d = r.dynamo;
    rows.push({
      section: '1',
      measure: 'ingest handler, DynamoDB Local, dedup off',
      measured: `${rate(d.perSecond)} records/s (wall clock)`,
      target: 'informational (round-trip bound)',
      ratio: times(d.ratio),
      notes: `ratio = handler wall time / decode time; Node CPU ${fixed(d.nodeCpuMicrosPerRecord, 1)} µs/record; per batch ${fixed(d.callsPerBatch, 0)} calls (${fixed(d.queriesPerBatch, 0)} Query + ${fixed(d.updatesPerBatch, 0)} UpdateItem), ${fixed(d.msPerCall, 2)} ms/call to DynamoDB Local; totals exact`,
    });
  }
  return rows;
}

export interface WritesResult {
  meters: number;
  dedup: boolean;
  batchSize: number;
  ours: {
    writes: number;
    units: number;
    unitsBy: Record<string, number>;
    ms: number;
    calls: Record<string, number>;
  };
  naive: { writes: number; units: number; ms: number };
}

/** The naive baseline: one UpdateItem per record (plus one conditional claim with dedup). */
async function naiveBatch(
  table: BenchTable,
  records: readonly { userId: string; value: number; eventId?: string }[],
  dedup: boolean,
): Promise<void> {
  const byUser = new Map<string, (typeof records)[number][]>();
  for (const record of records) {
    const list = byUser.get(record.userId) ?? [];
    list.push(record);
    byUser.set(record.userId, list);
  }
  await forEachLimited([...byUser.values()], 8, async (list) => {
    for (const record of list) {
      if (dedup && record.eventId !== undefined) {
        try {
          await table.client.send(
            new PutCommand({
              TableName: table.tableName,
              Item: { pk: `NAIVE-DEDUP#${record.eventId}`, sk: 'D' },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (error) {
          if ((error as { name?: string }).name === 'ConditionalCheckFailedException') continue;
          throw error;
        }
      }
      await table.client.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk: `NAIVE#${record.userId}`, sk: 'N' },
          UpdateExpression: 'ADD #v :d',
          ExpressionAttributeNames: { '#v': 'value' },
          ExpressionAttributeValues: { ':d': record.value },
        }),
      );
    }
  });
}

/** Section 2: DynamoDB writes per record for one batch, ours against the naive baseline. */
export async function measureWrites(
  endpoint: string,
  meterCounts: readonly number[],
  batchSize: number,
): Promise<WritesResult[]> {
  const results: WritesResult[] = [];
  for (const meterCount of meterCounts) {
    const table = await benchTable(endpoint);
    try {
      const users = usersNamed(`w${meterCount}`, meterCount);
      const plain = dynamoIngest(table, benchStreams(false));
      const withDedup = dynamoIngest(table, benchStreams(true));
      const ids = await plain.createMeters(users, { concurrency: 8 });
      for (const dedup of [false, true]) {
        // Each configuration reads its own shard, so the positions of one do not skip the other.
        const shard = new ShardSequence(`shardId-00000000000${dedup ? 1 : 0}`);
        const batch = buildBatches(users, 1, batchSize, shard, {
          ...(dedup ? { eventIds: `w${meterCount}` } : {}),
        });
        const event = batch.events[0] as KinesisStreamEvent;
        const handler = dedup ? withDedup.handler : plain.handler;
        table.stats.reset();
        const ours = await timed(() => handler(event));
        assertNoFailures(ours.result, `writes ${meterCount}`);
        const oursStats = table.stats.snapshot();
        // A sample of meters must hold exactly this batch (dedup run: twice, both runs).
        for (const userId of users.slice(0, 10)) {
          const view = await plain.meters.get(ids.get(userId) as string);
          assertTotal(
            view?.value,
            (batch.tenths.get(userId) ?? 0) * (dedup ? 2 : 1),
            `writes ${meterCount} ${userId}`,
          );
        }
        const records = event.Records.map(
          (r) =>
            JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')) as {
              userId: string;
              value: number;
              eventId?: string;
            },
        );
        table.stats.reset();
        const naive = await timed(() => naiveBatch(table, records, dedup));
        const naiveStats = table.stats.snapshot();
        results.push({
          meters: meterCount,
          dedup,
          batchSize,
          ours: {
            writes: oursStats.writeRequests,
            units: oursStats.writeUnits,
            unitsBy: oursStats.writeUnitsBy,
            ms: ours.ms,
            calls: oursStats.calls,
          },
          naive: { writes: naiveStats.writeRequests, units: naiveStats.writeUnits, ms: naive.ms },
        });
      }
    } finally {
      table.client.destroy();
    }
  }
  return results;
}

export function writesRows(results: readonly WritesResult[]): Row[] {
  return results.map((w) => {
    const perRecord = w.ours.writes / w.batchSize;
    const target = Math.min(w.meters, w.batchSize) / w.batchSize + (w.dedup ? 1 : 0);
    const naivePerRecord = w.naive.writes / w.batchSize;
    const calls = Object.entries(w.ours.calls)
      .map(([name, n]) => `${int(n)} ${name.replace(/Command$/, '')}`)
      .join(' + ');
    const units = Object.entries(w.ours.unitsBy)
      .map(([where, n]) => `${where} ${fixed(n, 0)}`)
      .join(', ');
    return {
      section: '2',
      measure: `writes/record: ${int(w.batchSize)} records over ${int(w.meters)} meters, dedup ${w.dedup ? 'on' : 'off'}`,
      measured: `${fixed(perRecord, 3)} writes/record (${fixed(w.ours.units / w.batchSize, 2)} WCU/record)`,
      target: `target ≤ ${fixed(target, 3)} ${perRecord <= target + 1e-9 ? '(met)' : '(MISSED)'}; naive ${fixed(naivePerRecord, 3)} (${fixed(w.naive.units / w.batchSize, 2)} WCU/record)`,
      ratio: `${times(naivePerRecord / perRecord)} fewer writes, ${times(w.naive.units / Math.max(w.ours.units, 1e-9))} fewer WCU`,
      notes: `calls: ${calls}; WCU spent: ${units}; batch ${int(w.ours.ms)} ms vs naive ${int(w.naive.ms)} ms`,
    };
  });
}

export interface HotMeterResult {
  offeredPerSecond: number;
  seconds: number;
  records: number;
  achievedPerSecond: number;
  p50BatchMs: number;
  maxBatchMs: number;
  updates: number;
  queries: number;
  batches: number;
  conditionFailures: number;
  unpacedPerSecond: number;
  dedupOnePerSecond: number;
  dedupOneMs: number;
  plainOneMs: number;
  finalValue: number | null;
  expectedValue: number;
}

/** Section 3: one meter, `offeredPerSecond` records per second from two shards at once. */
export async function measureHotMeter(
  endpoint: string,
  options: { offeredPerSecond: number; seconds: number; shards: number; batchSize: number },
): Promise<HotMeterResult> {
  const table = await benchTable(endpoint);
  try {
    const plain = dynamoIngest(table, benchStreams(false));
    const withDedup = dynamoIngest(table, benchStreams(true));
    const ids = await plain.createMeters(['hot']);
    const meterId = ids.get('hot') as string;
    const batchesPerShard = Math.round(
      (options.offeredPerSecond * options.seconds) / (options.shards * options.batchSize),
    );
    const interval = (options.seconds * 1000) / batchesPerShard;
    const shards = Array.from(
      { length: options.shards },
      (_, i) => new ShardSequence(`shardId-${String(i).padStart(12, '0')}`),
    );
    let tenths = 0;
    const hotBatch = (shard: ShardSequence, eventIds?: string) => {
      tenths += options.batchSize;
      return kinesisEvent(
        Array.from({ length: options.batchSize }, (_, i) =>
          usageRecord('hot', 1, eventIds ? `${eventIds}-${i}` : undefined),
        ),
        shard,
      );
    };
    const planned = shards.map((shard) =>
      Array.from({ length: batchesPerShard }, () => hotBatch(shard)),
    );
    const latencies: number[] = [];
    table.stats.reset();
    const started = performance.now();
    await Promise.all(
      planned.map(async (events) => {
        for (const [i, event] of events.entries()) {
          const due = started + i * interval;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          const t = performance.now();
          assertNoFailures(await plain.handler(event), 'hot meter');
          latencies.push(performance.now() - t);
        }
      }),
    );
    const elapsed = performance.now() - started;
    const paced = table.stats.snapshot();
    const records = options.shards * batchesPerShard * options.batchSize;

    // The same meter as fast as it goes: 10 batches per shard back to back.
    const unpacedEvents = shards.map((shard) => Array.from({ length: 10 }, () => hotBatch(shard)));
    const unpaced = await timed(() =>
      Promise.all(unpacedEvents.map((events) => runBatches(plain.handler, events))),
    );
    const unpacedPerSecond = (options.shards * 10 * options.batchSize) / (unpaced.ms / 1000);

    // One batch of the hot meter with de-duplication on, against the same batch without.
    const plainOne = hotBatch(new ShardSequence('shardId-000000000010'));
    const plainOneRun = await timed(() => plain.handler(plainOne));
    assertNoFailures(plainOneRun.result, 'hot meter plain');
    const dedupOne = hotBatch(new ShardSequence('shardId-000000000011'), 'hot-dedup');
    const dedupOneRun = await timed(() => withDedup.handler(dedupOne));
    assertNoFailures(dedupOneRun.result, 'hot meter dedup');

    const view = await plain.meters.get(meterId);
    assertTotal(view?.value, tenths, 'hot meter');
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      offeredPerSecond: options.offeredPerSecond,
      seconds: options.seconds,
      records,
      achievedPerSecond: records / (elapsed / 1000),
      p50BatchMs: median(sorted),
      maxBatchMs: sorted[sorted.length - 1] ?? 0,
      updates: paced.calls.UpdateItemCommand ?? 0,
      queries: paced.calls.QueryCommand ?? 0,
      batches: options.shards * batchesPerShard,
      conditionFailures: paced.conditionFailures,
      unpacedPerSecond,
      dedupOnePerSecond: options.batchSize / (dedupOneRun.ms / 1000),
      dedupOneMs: dedupOneRun.ms,
      plainOneMs: plainOneRun.ms,
      finalValue: view?.value == null ? null : Number(view.value),
      expectedValue: tenths / 10,
    };
  } finally {
    table.client.destroy();
  }
}

export function hotMeterRows(h: HotMeterResult): Row[] {
  return [
    {
      section: '3',
      measure: `hot meter: 1 meter, ${int(h.offeredPerSecond)} records/s offered for ${h.seconds} s (2 shards × ${int(h.offeredPerSecond / 2000)} batches/s × 1,000)`,
      measured: `${rate(h.achievedPerSecond)} records/s`,
      target: `${int(h.offeredPerSecond)} records/s offered; 0 conflicts`,
      ratio: times(h.achievedPerSecond / h.offeredPerSecond),
      notes: `${int(h.records)} records, ${h.updates} UpdateItem for ${h.batches} batches, ${h.conditionFailures} failed conditions, ${h.queries - h.batches} re-reads; batch p50 ${int(h.p50BatchMs)} ms, max ${int(h.maxBatchMs)} ms; final total ${h.finalValue} = expected ${h.expectedValue} (exact)`,
    },
    {
      section: '3',
      measure: 'hot meter, unpaced (2 shards × 10 batches back to back)',
      measured: `${rate(h.unpacedPerSecond)} records/s`,
      target: 'headroom',
      ratio: times(h.unpacedPerSecond / h.offeredPerSecond),
      notes: 'same meter, same two shards',
    },
    {
      section: '3',
      measure: 'hot meter, one batch of 1,000 with de-duplication on',
      measured: `${rate(h.dedupOnePerSecond)} records/s`,
      target: `same batch, dedup off: ${int(h.plainOneMs)} ms`,
      ratio: times(h.dedupOneMs / Math.max(h.plainOneMs, 1e-9)),
      notes: `${int(h.dedupOneMs)} ms: 1,000 claims of one user, 16 in flight at a time`,
    },
  ];
}
