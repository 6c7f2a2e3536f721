/**
 * Section 4 of the bench: meters flushed per second at period end (close the period, send the
 * final record to an in-memory publisher, register the next period), on DynamoDB Local.
 */
import { flushMeter, sweepDueMeters } from '../../shared/application/period-end.js';
import { benchStreams, benchTable, dynamoIngest, timed } from './harness.js';
import { fixed, int, type Row, rate } from './report.js';

const HOURLY = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };

export interface FlushResult {
  sequential: { meters: number; perSecond: number; msPerFlush: number };
  sweep: { meters: number; concurrency: number; perSecond: number; due: number; failed: number };
  callsPerFlush: Record<string, number>;
  /** Write capacity units per flush, by table and index (DynamoDB Local's ConsumedCapacity). */
  unitsPerFlush: Record<string, number>;
  msPerCall: number;
  published: number;
}

/**
 * `sequential` meters are flushed one after another (what one reset Lambda instance does, one
 * invocation per meter); then the sweeper flushes `swept` more at its default concurrency.
 */
export async function measureFlushes(
  endpoint: string,
  options: { sequential: number; swept: number; concurrency: number },
): Promise<FlushResult> {
  const table = await benchTable(endpoint);
  try {
    const clock = { now: new Date('2025-01-15T10:10:00.000Z') };
    const ingest = dynamoIngest(table, benchStreams(false), () => clock.now);
    const total = options.sequential + options.swept;
    const users = Array.from({ length: total }, (_, i) => `f-${i}`);
    const ids = await ingest.createMeters(users, {
      type: { resetSchedule: HOURLY },
      createdAt: clock.now,
      concurrency: 8,
    });
    clock.now = new Date('2025-01-15T11:00:05.000Z');

    const sequentialIds = users.slice(0, options.sequential).map((u) => ids.get(u) as string);
    table.stats.reset();
    const sequential = await timed(async () => {
      for (const id of sequentialIds) {
        const result = await flushMeter(ingest.periodEnd, id);
        if (result.periodsClosed !== 1 || result.sent !== 1)
          throw new Error(`flush of ${id}: ${JSON.stringify(result)}`);
      }
    });
    const stats = table.stats.snapshot();
    const perFlush = (counts: Record<string, number>) =>
      Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / options.sequential]));
    const callsPerFlush = perFlush(stats.calls);
    const unitsPerFlush = perFlush(stats.writeUnitsBy);

    const sweep = await timed(() =>
      sweepDueMeters(ingest.periodEnd, options.swept, options.concurrency),
    );
    if (sweep.result.flushed !== options.swept || sweep.result.failed.length > 0)
      throw new Error(
        `sweep: ${JSON.stringify({ ...sweep.result, failed: sweep.result.failed.slice(0, 3) })}`,
      );
    const published = ingest.publisher.records.filter((r) => r.recordType === 'final').length;
    if (published !== total) throw new Error(`published ${published} final records, not ${total}`);
    return {
      sequential: {
        meters: options.sequential,
        perSecond: options.sequential / (sequential.ms / 1000),
        msPerFlush: sequential.ms / options.sequential,
      },
      sweep: {
        meters: options.swept,
        concurrency: options.concurrency,
        perSecond: sweep.result.flushed / (sweep.ms / 1000),
        due: sweep.result.due,
        failed: sweep.result.failed.length,
      },
      callsPerFlush,
      unitsPerFlush,
      msPerCall: stats.totalMs / stats.totalCalls,
      published,
    };
  } finally {
    table.client.destroy();
  }
}

export function flushRows(f: FlushResult): Row[] {
  const calls = Object.entries(f.callsPerFlush)
    .map(([name, n]) => `${fixed(n, 1)} ${name.replace(/Command$/, '')}`)
    .join(' + ');
  const units = Object.entries(f.unitsPerFlush)
    .map(([where, n]) => `${where} ${fixed(n, 1)}`)
    .join(', ');
  return [
    {
      section: '4',
      measure: `flushes, one at a time (one reset invocation per meter), ${int(f.sequential.meters)} meters due`,
      measured: `${rate(f.sequential.perSecond)} meters/s`,
      target: 'per Lambda concurrency unit (used in the month-end model)',
      ratio: '—',
      notes: `${fixed(f.sequential.msPerFlush, 1)} ms/flush; per flush ${calls} at ${fixed(f.msPerCall, 2)} ms/call, WCU ${units}; in-memory publisher and scheduler`,
    },
    {
      section: '4',
      measure: `flushes by the sweeper (sweepDueMeters, concurrency ${f.sweep.concurrency}), ${int(f.sweep.meters)} meters due`,
      measured: `${rate(f.sweep.perSecond)} meters/s`,
      target: '—',
      ratio: `${(f.sweep.perSecond / f.sequential.perSecond).toFixed(2)}× one-at-a-time`,
      notes: `${f.sweep.due} due, ${f.sweep.failed} failed; ${int(f.published)} final records published in all`,
    },
  ];
}
