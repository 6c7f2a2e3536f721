/**
 * Section 7 of the bench: what following a stream's processor version costs ingestion. One
 * container meters 1,000 batches through the real handler and the in-memory fakes, with a
 * simulated clock (a fixed time per batch) and a new version saved half-way; the stores count
 * their calls. Targets: at most one read of the current version per refresh interval, whatever
 * the number of batches; one pin write per batch with new records, no pin read after the first.
 */
import { InMemoryStreamProcessorStore } from '../../shared/adapters/in-memory/stream-processor-store.js';
import { StreamVersions } from '../../shared/application/stream-versions.js';
import { periodTotals } from '../../shared/domain/meter-usage.js';
import { seededProcessor } from '../../shared/domain/stream-processor.js';
import { BENCH_NOW, benchStreams, memoryIngest, ShardSequence } from './harness.js';
import { buildBatches } from './ingest-bench.js';
import { fixed, int, type Row } from './report.js';

export interface StreamVersionOptions {
  batches: number;
  batchSize: number;
  /** Simulated time each batch takes. */
  msPerBatch: number;
  refreshMs: number;
}

export interface StreamVersionResult extends StreamVersionOptions {
  simulatedMs: number;
  /** Reads of a stream's current version (`GetItem` of `STREAM#name/CURRENT` in DynamoDB). */
  currentReads: number;
  /** Reads of an old version a pin needed. */
  versionReads: number;
  pinReads: number;
  pinWrites: number;
  /** The versions pinned on the shard at the end. */
  pinnedVersions: number[];
}

/** Runs the batches through one container's handler and counts the processor-store calls. */
export async function measureStreamVersionReads(
  options: StreamVersionOptions,
): Promise<StreamVersionResult> {
  const streams = benchStreams(false);
  let clock = BENCH_NOW.getTime();
  const now = () => new Date(clock);
  const processors = new InMemoryStreamProcessorStore();
  const versions = new StreamVersions({
    processors,
    pins: processors,
    deployed: streams,
    now,
    refreshMs: options.refreshMs,
  });
  // Seeded as the first deploy's first read does (the API's or another container's).
  const [stream] = streams;
  if (!stream) throw new Error('no bench stream');
  await processors.seed(seededProcessor(stream, now()));
  const mem = memoryIngest(streams, { now, versions });
  const users = Array.from({ length: 20 }, (_, i) => `sv-${i}`);
  const ids = mem.createMeters(users);
  const shard = new ShardSequence();
  const { events, tenths } = buildBatches(users, options.batches, options.batchSize, shard);
  for (const [i, event] of events.entries()) {
    if (i === Math.floor(events.length / 2)) {
      // A save through the API half-way: the same rules, a new version.
      const current = await processors.current(stream.name);
      if (!current) throw new Error('the stream was not seeded');
      await processors.replace(
        { ...current, version: current.version + 1, updatedAt: now().toISOString() },
        current.version,
      );
    }
    const response = await mem.handler(event);
    if (response.batchItemFailures.length > 0) throw new Error('a batch failed');
    clock += options.msPerBatch;
  }
  for (const [userId, expected] of tenths) {
    const state = mem.store.get(ids.get(userId) as string);
    const got = state && periodTotals('sum', state.usage).agg.value;
    if (Number(got) * 10 !== expected) throw new Error(`${userId}: ${got} ≠ ${expected / 10}`);
  }
  const pins = await processors.readPins(stream.name, shard.shardId);
  const calls = (method: string) => processors.calls.get(method) ?? 0;
  return {
    ...options,
    simulatedMs: options.batches * options.msPerBatch,
    // The bench's own reads (the save and the pins above) are not ingestion's.
    currentReads: calls('current') - 1,
    versionReads: calls('version'),
    pinReads: calls('readPins') - 1,
    pinWrites: calls('writePins'),
    pinnedVersions: pins?.pins.map((pin) => pin.version) ?? [],
  };
}

/** The most current-version reads the target allows: one per refresh interval begun. */
export function allowedCurrentReads(r: StreamVersionOptions & { simulatedMs: number }): number {
  return Math.ceil(r.simulatedMs / r.refreshMs);
}

/** Section 7's rows. */
export function streamVersionRows(r: StreamVersionResult): Row[] {
  const allowed = allowedCurrentReads(r);
  const per1000 = (n: number) => (n * 1000) / r.batches;
  return [
    {
      section: '8',
      measure: 'stream configuration reads per 1,000 batches (one container)',
      measured: `${fixed(per1000(r.currentReads + r.versionReads), 1)} reads`,
      target: `≤ 1 per ${fixed(r.refreshMs / 1000, 0)} s refresh (${int(allowed)} in ${fixed(r.simulatedMs / 1000, 0)} s)`,
      ratio: r.currentReads <= allowed ? 'met' : 'missed',
      notes: `${int(r.batches)} batches of ${int(r.batchSize)}, ${int(r.msPerBatch)} ms each (simulated); a new version saved half-way, pinned: ${r.pinnedVersions.join(', ')}; independent of the batch count`,
    },
    {
      section: '8',
      measure: 'version-pin writes and reads per batch',
      measured: `${fixed(r.pinWrites / r.batches, 2)} writes, ${fixed(r.pinReads / r.batches, 3)} reads`,
      target: '1 conditional Put, no read (cached)',
      ratio: r.pinWrites <= r.batches && r.pinReads <= 1 ? 'met' : 'missed',
      notes:
        'one small item per shard (pins + through); a batch entirely at or below through (a retry) writes nothing',
    },
  ];
}
