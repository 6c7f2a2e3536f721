import type { MeteredRecord } from '../../domain/metered-record.js';
import {
  type KeptRecord,
  matchesHistoryFilter,
  newestFirst,
  type RecordHistoryFilter,
} from '../../domain/record-history.js';
import type { Page } from '../../ports/metering-store.js';
import type { RecordHistory } from '../../ports/record-history.js';

/** In-memory {@link RecordHistory}: the test fake; counts its writes like the table would. */
export class InMemoryRecordHistory implements RecordHistory {
  readonly #kept = new Map<string, string>();
  /** How many times `keep` was called with records (one BatchWriteItem each in DynamoDB). */
  writes = 0;
  #failNext = 0;

  async keep(records: readonly MeteredRecord[]): Promise<void> {
    if (this.#failNext > 0) {
      this.#failNext -= 1;
      throw new Error('Injected history failure');
    }
    if (records.length > 0) this.writes += 1;
    for (const record of records) this.#kept.set(record.recordId, JSON.stringify(record));
  }

  async get(recordId: string): Promise<KeptRecord | undefined> {
    const json = this.#kept.get(recordId);
    return json === undefined ? undefined : { json, record: JSON.parse(json) as MeteredRecord };
  }

  async list(
    filter: RecordHistoryFilter,
    limit: number,
    nextToken?: string,
  ): Promise<Page<KeptRecord>> {
    const all = [...this.#kept.values()]
      .map((json) => ({ json, record: JSON.parse(json) as MeteredRecord }))
      .filter((kept) => matchesHistoryFilter(kept.record, filter))
      .sort((a, b) => newestFirst(a.record, b.record));
    const start = nextToken ? Number(nextToken) : 0;
    const items = all.slice(start, start + limit);
    return start + limit < all.length ? { items, nextToken: String(start + limit) } : { items };
  }

  /** Makes the next `count` calls of `keep` throw, as a failing table would. */
  failNextKeeps(count: number): void {
    this.#failNext = count;
  }
}
