/**
 * A small check that the bench's code still works (the bench itself is `npm run bench`): the
 * in-memory fakes meter exactly, the write counts of one small batch are the targets, and the
 * month-end model's arithmetic.
 */
import { describe, expect, inject, it } from 'vitest';
import { InMemoryDataCorrectionStore } from '../../shared/adapters/in-memory/data-correction-store.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { apiUnderTest, testStreams } from '../support/api.js';
import { measureHistoryRead } from './history-bench.js';
import { httpIngestRows, measureHttpIngest, type PostRecords } from './http-ingest-bench.js';
import { measureThroughput, measureWrites } from './ingest-bench.js';
import { monthEndRows } from './month-end.js';
import { allowedCurrentReads, measureStreamVersionReads } from './stream-version-bench.js';
import { measureUniqueWrites, uniqueWritesRows } from './unique-bench.js';

describe('bench (smoke)', () => {
  it('meters 100 records exactly through the in-memory fakes, with and without dedup, never mutating what it read', async () => {
    const result = await measureThroughput(undefined, {
      users: 10,
      batches: 1,
      batchSize: 100,
      rounds: 1,
      guardMutation: true,
    });
    expect(result.memory.map((m) => m.dedup)).toEqual([false, true]);
    expect(result.memory[1]?.calls.claimEvent).toBe(3 * 100);
    expect(result.dynamo).toBeUndefined();
  });

  it('writes once per meter per batch, plus one claim per record with dedup', async () => {
    const [plain, dedup] = await measureWrites(inject('dynamoDbEndpoint'), [10], 20);
    expect(plain?.ours.writes).toBe(10);
    expect(dedup?.ours.writes).toBe(10 + 20);
    expect([plain?.naive.writes, dedup?.naive.writes]).toEqual([20, 40]);
  });

  it('writes a unique meter once per 99 new values plus one claim per new value, and no claim for values already counted', async () => {
    const [few, many] = await measureUniqueWrites(inject('dynamoDbEndpoint'), [10, 150], 200);
    expect([few?.fresh.claimWrites, few?.fresh.meterWrites, few?.fresh.otherWrites]).toEqual([
      10, 1, 0,
    ]);
    // 150 new values need two transactions of at most 99 claims; 150 keys are two reads.
    expect([many?.fresh.claimWrites, many?.fresh.meterWrites]).toEqual([150, 2]);
    expect(many?.fresh.calls.BatchGetItemCommand).toBe(2);
    expect(many?.fresh.transactionItems).toBe(152);
    // The same values again: nothing to claim, the meter alone as one conditional Put.
    expect([many?.again.claimWrites, many?.again.meterWrites]).toEqual([0, 1]);
    expect(many?.again.calls.TransactWriteItemsCommand).toBeUndefined();
    expect(many?.again.calls.PutItemCommand).toBe(1);
    expect([many?.value, many?.recordCount]).toEqual([150, 400]);
    const rows = uniqueWritesRows([few, many].filter((r) => r !== undefined));
    expect(rows.map((row) => row.target.includes('(MISSED)'))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(rows[0]?.target).toContain('≤ 10 claims + 1 meter write = 11');
  });

  it("reads one user's 12 months over 10 meters back in one Query page", async () => {
    const read = await measureHistoryRead(inject('dynamoDbEndpoint'));
    expect([read.records, read.queries, read.pages]).toEqual([120, 1, 1]);
  });

  it('posts records over HTTP in requests of 500, resending only the throttled ones', async () => {
    const writer = new InMemoryUsageStreamWriter();
    writer.refuseNext(undefined, 'ProvisionedThroughputExceededException');
    const api = await apiUnderTest({
      streams: testStreams(['k']),
      dataCorrections: {
        corrections: new InMemoryDataCorrectionStore(),
        streamWriter: writer,
        streams: testStreams(['k']),
        now: () => new Date(),
        log: () => {},
      },
    });
    const post: PostRecords = (body) => api.call('POST', '/usage-records', body);
    const result = await measureHttpIngest(post, {
      records: 1_200,
      perRequest: 500,
      users: 10,
      concurrency: 2,
    });
    expect([result.accepted, result.retried, result.requests]).toEqual([1_200, 1, 4]);
    // Each record on the stream once: the resent one was refused the first time.
    expect(new Set(writer.records.map((r) => new TextDecoder().decode(r.data))).size).toBe(1_200);
    expect(writer.records).toHaveLength(1_200);
    expect(httpIngestRows(result)[0]?.section).toBe('7');
  });

  it('reads the current stream version at most once per refresh interval, whatever the batch count', async () => {
    const options = { batchSize: 5, msPerBatch: 100, refreshMs: 5_000 };
    for (const batches of [100, 1_000]) {
      const r = await measureStreamVersionReads({ ...options, batches });
      expect(r.currentReads).toBeGreaterThanOrEqual(1);
      expect(r.currentReads, `${batches} batches`).toBeLessThanOrEqual(allowedCurrentReads(r));
      // The pins are read once, at the cold start; after that the container's own write is kept.
      expect([r.pinWrites, r.pinReads]).toEqual([batches, 1]);
      expect(r.pinnedVersions).toEqual([1, 2]);
    }
  });

  it('models the month end at 1,000 invocations per second', () => {
    const rows = monthEndRows({
      flushesPerSecondPerUnit: 50,
      sweepFlushesPerSecond: 100,
      sweepLimit: 500,
      sweepConcurrency: 8,
    });
    expect(rows.map((r) => r.cells[1])).toEqual(['17 min', '2.8 h', '27.8 h']);
    expect(rows[0]?.cells[2]).toBe('20');
  });
});
