/**
 * The data-correction store in memory: idempotent puts, the high-water marks of ingestion's
 * correction log, and the API's re-send claims; the test and bench fake.
 */
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type {
  CorrectionAdminStore,
  CorrectionLog,
  DataCorrection,
  DataCorrectionFilter,
} from '../../ports/data-correction-store.js';
import type { Page } from '../../ports/metering-store.js';

/** The data-correction store in memory. */
export class InMemoryDataCorrectionStore implements CorrectionLog, CorrectionAdminStore {
  readonly entries = new Map<string, DataCorrection & { claimedAt?: number }>();
  puts = 0;

  async putAll(batch: readonly DataCorrection[]): Promise<void> {
    for (const entry of batch) {
      this.puts++;
      if (!this.entries.has(entry.id)) this.entries.set(entry.id, structuredClone(entry));
    }
  }

  async get(id: string): Promise<DataCorrection | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const { claimedAt: _claimedAt, ...rest } = entry;
    return structuredClone(rest);
  }

  async list(
    filter: DataCorrectionFilter,
    limit: number,
    nextToken?: string,
  ): Promise<Page<DataCorrection>> {
    const all = [...this.entries.values()]
      .filter((e) => filter.reason === undefined || e.reason === filter.reason)
      .sort((a, b) => (a.correctedAt < b.correctedAt ? -1 : a.correctedAt > b.correctedAt ? 1 : 0));
    const start = nextToken ? Number(nextToken) : 0;
    const items = all.slice(start, start + limit).map(({ claimedAt: _c, ...rest }) => rest);
    return start + limit < all.length ? { items, nextToken: String(start + limit) } : { items };
  }

  async delete(id: string): Promise<void> {
    if (!this.entries.delete(id)) throw new NotFoundError(`data correction ${id} not found`);
  }

  async claimReprocess(id: string, now: Date, staleAfterMs: number): Promise<DataCorrection> {
    const entry = this.entries.get(id);
    if (!entry) throw new NotFoundError(`data correction ${id} not found`);
    if (entry.reprocessedAt !== undefined) throw new ConflictError(`${id} was already re-sent`);
    if (entry.claimedAt !== undefined && now.getTime() - entry.claimedAt < staleAfterMs)
      throw new ConflictError(`${id} is being re-sent`);
    entry.claimedAt = now.getTime();
    const { claimedAt: _c, ...rest } = entry;
    return structuredClone(rest);
  }

  async completeReprocess(id: string, sequenceNumber: string, now: Date): Promise<DataCorrection> {
    const entry = this.entries.get(id);
    if (!entry) throw new NotFoundError(`data correction ${id} not found`);
    entry.reprocessedAt = now.toISOString();
    entry.reprocessSequenceNumber = sequenceNumber;
    delete entry.claimedAt;
    return structuredClone(entry);
  }

  async releaseReprocess(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry) delete entry.claimedAt;
  }

  readonly marks = new Map<string, string>();

  async highWaterMark(streamName: string, shardId: string): Promise<string | undefined> {
    return this.marks.get(`${streamName}\u0000${shardId}`);
  }

  async raiseHighWaterMark(
    streamName: string,
    shardId: string,
    sequenceKey: string,
  ): Promise<void> {
    const key = `${streamName}\u0000${shardId}`;
    const old = this.marks.get(key);
    if (old === undefined || old < sequenceKey) this.marks.set(key, sequenceKey);
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    return new Set(ids.filter((id) => this.entries.has(id)));
  }
}
