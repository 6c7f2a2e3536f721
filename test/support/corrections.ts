/** Data-correction entries and an API over DynamoDB Local to test the correction routes with. */
import { expect } from 'vitest';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { DEFAULT_STREAMS, parseStreamsConfig } from '../../shared/config/streams.js';
import { correctionIdFor } from '../../shared/domain/data-correction.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import type { DataCorrection } from '../../shared/ports/data-correction-store.js';
import { apiUnderTest } from './api.js';
import { freshTable } from './dynamodb.js';

/** The stream the test entries came from. */
export const STREAM = 'usage-events';

/** A correction entry for the record at `n` on the stream; override any field. */
export function entry(n: number, overrides: Partial<DataCorrection> = {}): DataCorrection {
  const sequenceNumber = String(49_000_000_000n + BigInt(n));
  // A record that can be metered once its user has a meter (without a timestamp of its own).
  const record = JSON.stringify({ userId: `user-${n}`, value: n, plan: 'gold', n });
  return {
    id: correctionIdFor(STREAM, 'shardId-000000000000', sequenceNumber),
    reason: 'NO_METER',
    message: `user user-${n} has no meter`,
    streamName: STREAM,
    shardId: 'shardId-000000000000',
    sequenceNumber,
    partitionKey: `user-${n}`,
    data: Buffer.from(record).toString('base64'),
    receivedAt: new Date(Date.UTC(2025, 0, 10, 0, 0, n)).toISOString(),
    correctedAt: new Date(Date.UTC(2025, 0, 10, 0, 1, n)).toISOString(),
    userId: `user-${n}`,
    ...overrides,
  };
}

/** The API over a fresh DynamoDB Local table, an in-memory stream writer and a settable clock. */
export async function correctionsApiUnderTest(
  streams: readonly StreamConfig[] = parseStreamsConfig(DEFAULT_STREAMS),
) {
  const table = await freshTable();
  const corrections = new DynamoDbDataCorrectionStore(table.client, table.tableName);
  const streamWriter = new InMemoryUsageStreamWriter();
  const clock = { now: new Date('2025-01-11T08:00:00.000Z') };
  const api = await apiUnderTest({
    dataCorrections: { corrections, streamWriter, streams, now: () => clock.now },
    streams,
  });
  return { ...api, corrections, streamWriter, clock };
}

export type CorrectionsApi = Awaited<ReturnType<typeof correctionsApiUnderTest>>;

/** Every entry the list returns, page by page. */
export async function listAll(
  api: CorrectionsApi,
  query: Record<string, string>,
): Promise<{ items: DataCorrection[]; pages: number }> {
  const items: DataCorrection[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const response = await api.call('GET', '/corrections', undefined, {
      query: nextToken ? { ...query, nextToken } : query,
    });
    expect(response.status).toBe(200);
    items.push(...response.body.corrections);
    nextToken = response.body.nextToken;
    pages += 1;
  } while (nextToken);
  return { items, pages };
}
