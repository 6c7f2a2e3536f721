/**
 * The in-memory data-correction store answers the filters, open ids and counts exactly as the
 * DynamoDB one does on DynamoDB Local, so tests and the bench that use the twin see the truth.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { InMemoryDataCorrectionStore } from '../../shared/adapters/in-memory/data-correction-store.js';
import type {
  CorrectionAdminStore,
  CorrectionLog,
  DataCorrectionFilter,
} from '../../shared/ports/data-correction-store.js';
import { entry } from '../support/corrections.js';
import { freshTable } from '../support/dynamodb.js';

const at = (minute: number) => new Date(Date.UTC(2025, 0, 10, 0, minute)).toISOString();
const reasons = ['NO_METER', 'INVALID_RECORD', 'LATE_RECORD', 'CAPACITY_EXCEEDED'] as const;

/** Twenty entries over four reasons and three users (one without a user), one truncated, two re-sent. */
async function seed(store: CorrectionLog & CorrectionAdminStore) {
  const entries = Array.from({ length: 20 }, (_, n) =>
    entry(n, {
      reason: reasons[n % 4],
      userId: n % 5 === 0 ? undefined : `user-${n % 3}`,
      correctedAt: at(n),
      ...(n === 7 ? { dataTruncated: true, dataBytes: 300_000 } : {}),
    }),
  );
  await store.putAll(entries);
  const now = new Date('2025-01-11T00:00:00Z');
  for (const e of [entries[2], entries[9]]) {
    await store.claimReprocess(e?.id ?? '', now, 60_000);
    await store.completeReprocess(e?.id ?? '', '4900', now);
  }
  await store.delete(entries[13]?.id ?? '');
}

const FILTERS: DataCorrectionFilter[] = [
  {},
  { reason: 'NO_METER' },
  { userId: 'user-1' },
  { reason: 'INVALID_RECORD', userId: 'user-2' },
  { from: at(4), to: at(15) },
  { reason: 'LATE_RECORD', from: at(6) },
  { userId: 'user-0', to: at(10) },
  { reason: 'CAPACITY_EXCEEDED', userId: 'user-1', from: at(0), to: at(19) },
];

async function answers(store: CorrectionLog & CorrectionAdminStore) {
  const byFilter = [];
  for (const filter of FILTERS) {
    const page = await store.list(filter, 100);
    byFilter.push({
      filter,
      listed: page.items.map((e) => e.id),
      matching: await store.matchingIds(filter, 100),
      firstThree: await store.matchingIds(filter, 3),
      reprocessable: (await store.reprocessableIds(filter, 100)).sort(),
    });
  }
  return { byFilter, counts: await store.countOpen() };
}

describe('the in-memory data-correction store', () => {
  it('lists, finds open ids and counts as the DynamoDB store does', async () => {
    const table = await freshTable();
    const dynamo = new DynamoDbDataCorrectionStore(table.client, table.tableName);
    const memory = new InMemoryDataCorrectionStore();
    await seed(dynamo);
    await seed(memory);
    const expected = await answers(dynamo);
    expect(await answers(memory)).toEqual(expected);
    // The scenario is not trivial: filters select different, non-empty sets.
    expect(new Set(expected.byFilter.map((f) => f.listed.join())).size).toBe(FILTERS.length);
    expect(expected.counts.find((c) => c.reason === 'CAPACITY_EXCEEDED')?.count).toBe(5);
  });
});
