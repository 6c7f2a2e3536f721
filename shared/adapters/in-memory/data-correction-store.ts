/**
 * The data-correction store in memory: idempotent puts, the high-water marks of ingestion's
 * correction log, and the API's re-send claims; the test and bench fake.
 */
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import {
  CORRECTION_REASONS,
  type CorrectionAdminStore,
  type CorrectionLog,
  type DataCorrection,
  type DataCorrectionFilter,
  type OpenCorrectionCount,
} from '../../ports/data-correction-store.js';
import type { Page } from '../../ports/metering-store.js';

/** The data-correction store in memory. */
export class InMemoryDataCorrectionStore implements CorrectionLog, CorrectionAdminStore {
  readonly entries = new Map<string, DataCorrection & { claimedAt?: number }>();
  /** Entries set aside: out of the bulk re-send's queue (see `setAside`). */
  readonly setAsideIds = new Set<string>();
  puts = 0;

  async putAll(batch: readonly DataCorrection[]): Promise<readonly DataCorrection[]> {
    const stored: DataCorrection[] = [];
    for (const entry of batch) {
      this.puts++;
      if (this.entries.has(entry.id)) continue;
      this.entries.set(entry.id, structuredClone(entry));
      stored.push(entry);
    }
    return stored;
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
    const all = this.matching(filter);
    const start = nextToken ? Number(nextToken) : 0;
    const items = all.slice(start, start + limit).map(({ claimedAt: _c, ...rest }) => rest);
    return start + limit < all.length ? { items, nextToken: String(start + limit) } : { items };
  }

  async matchingIds(filter: DataCorrectionFilter, limit: number): Promise<string[]> {
    return this.matching(filter)
      .slice(0, limit)
      .map((e) => e.id);
  }

  async reprocessableIds(filter: DataCorrectionFilter, limit: number): Promise<string[]> {
    return this.matching(filter)
      .filter(
        (e) => e.reprocessedAt === undefined && !e.dataTruncated && !this.setAsideIds.has(e.id),
      )
      .slice(0, limit)
      .map((e) => e.id);
  }

  async countOpen(): Promise<OpenCorrectionCount[]> {
    const open = [...this.entries.values()].filter((e) => e.reprocessedAt === undefined);
    return CORRECTION_REASONS.map((reason) => ({
      reason,
      count: open.filter((e) => e.reason === reason).length,
    }));
  }

  /** Entries matching the filter, in the index order: `correctedAt`, then id. */
  private matching(filter: DataCorrectionFilter) {
    const key = (e: DataCorrection) => `${e.correctedAt}#${e.id}`;
    return [...this.entries.values()]
      .filter(
        (e) =>
          (filter.reason === undefined || e.reason === filter.reason) &&
          (filter.userId === undefined || e.userId === filter.userId) &&
          (filter.from === undefined || e.correctedAt >= filter.from) &&
          (filter.to === undefined || e.correctedAt < filter.to),
      )
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
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

  async setAside({ id }: Pick<DataCorrection, 'id' | 'reason'>): Promise<void> {
    const entry = this.entries.get(id);
    if (entry && entry.reprocessedAt === undefined) this.setAsideIds.add(id);
  }
}
