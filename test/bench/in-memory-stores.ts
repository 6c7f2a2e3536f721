/**
 * In-memory fakes of the ingest ports, for measuring the CPU cost of the ingest code itself
 * (no DynamoDB round trips). They keep the semantics the DynamoDB adapters promise: conditional
 * writes on the shard position, period and version, once-per-period thresholds, event-id claims
 * with holders and expiry, and idempotent data-correction puts. With `guardMutation` stored states
 * are deep-frozen, so code that mutated what it read fails loudly; the smoke test runs the bench
 * that way, and the timed bench without it, so the guard's cost is not counted as the handler's.
 */
import { meterStateOf, newMeterItem } from '../../shared/adapters/dynamodb/meter-item.js';
import { ConflictError, NotFoundError } from '../../shared/application/errors.js';
import type { MeterDefinition } from '../../shared/domain/meter.js';
import type { MeterState } from '../../shared/domain/meter-usage.js';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import type {
  DataCorrection,
  DataCorrectionFilter,
  DataCorrectionStore,
} from '../../shared/ports/data-correction-store.js';
import type {
  DedupClaim,
  IngestStore,
  ShardUsageWrite,
  StreamPosition,
} from '../../shared/ports/ingest-store.js';
import type { Page } from '../../shared/ports/metering-store.js';

/** A new meter's state exactly as the DynamoDB meter store would store and read it back. */
export function newMeterItemState(meter: MeterDefinition): MeterState {
  return meterStateOf(newMeterItem(meter));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const partitionOf = (meterKey: string, userId: string) => `${meterKey}\u0000${userId}`;

/** Calls per port method, like the DynamoDB call counter of the bench. */
export type CallCounts = Record<string, number>;

/** The ingest store in memory. */
export class InMemoryIngestStore implements IngestStore {
  readonly byId = new Map<string, MeterState>();
  readonly partitions = new Map<string, Set<string>>();
  readonly claims = new Map<string, { holder: StreamPosition; expiresAt: number }>();
  readonly calls: CallCounts = {};
  conflicts = 0;
  private readonly freeze: <T>(value: T) => T;

  constructor(options: { guardMutation?: boolean } = {}) {
    this.freeze = options.guardMutation ? deepFreeze : (value) => value;
  }

  private lastNow: Date | undefined;
  private lastNowIso = '';

  /** `now.toISOString()`, remembered for the batch's one `now` (a fake should cost little). */
  private isoOf(now: Date): string {
    if (now !== this.lastNow) {
      this.lastNow = now;
      this.lastNowIso = now.toISOString();
    }
    return this.lastNowIso;
  }

  private count(method: string) {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  /** Adds a new meter, as the meter store would create it. */
  add(meter: MeterDefinition): MeterState {
    const state = this.freeze(newMeterItemState(meter));
    this.byId.set(state.id, state);
    const key = partitionOf(state.meterKey, state.userId);
    const ids = this.partitions.get(key) ?? new Set<string>();
    ids.add(state.id);
    this.partitions.set(key, ids);
    return state;
  }

  get(meterId: string): MeterState | undefined {
    return this.byId.get(meterId);
  }

  async loadMeters(meterKey: string, userId: string): Promise<MeterState[]> {
    this.count('loadMeters');
    const ids = this.partitions.get(partitionOf(meterKey, userId)) ?? new Set<string>();
    const meters: MeterState[] = [];
    for (const id of ids) {
      const state = this.byId.get(id);
      if (state && state.retiredAt === undefined) meters.push(state);
    }
    return meters;
  }

  async writeShardUsage(write: ShardUsageWrite): Promise<MeterState | undefined> {
    this.count('writeShardUsage');
    const stored = this.byId.get(write.meter.id);
    if (
      !stored ||
      stored.retiredAt !== undefined ||
      stored.periodStart !== write.meter.periodStart ||
      stored.seq[write.shardId] !== write.expectedSeq
    ) {
      this.conflicts++;
      return undefined;
    }
    const next: MeterState = {
      ...stored,
      seq: { ...stored.seq, [write.shardId]: write.newSeq },
      usage: write.currentSlot
        ? {
            ...stored.usage,
            shards: { ...stored.usage.shards, [write.shardId]: write.currentSlot },
          }
        : stored.usage,
      next: write.nextSlot
        ? { ...stored.next, shards: { ...stored.next.shards, [write.shardId]: write.nextSlot } }
        : stored.next,
      updatedAt: this.isoOf(write.now),
      version: stored.version + 1,
    };
    this.byId.set(next.id, this.freeze(next));
    return next;
  }

  async replaceMeter(next: MeterState, expectedVersion: number): Promise<boolean> {
    this.count('replaceMeter');
    const stored = this.byId.get(next.id);
    if (!stored || stored.version !== expectedVersion) {
      this.conflicts++;
      return false;
    }
    this.byId.set(next.id, this.freeze(structuredClone({ ...next, version: expectedVersion + 1 })));
    return true;
  }

  async addThresholdRecords(
    meter: MeterState,
    records: readonly MeteredRecord[],
    fired: readonly string[],
    now: Date,
  ): Promise<boolean> {
    this.count('addThresholdRecords');
    if (records.length === 0) return true;
    const stored = this.byId.get(meter.id);
    if (
      !stored ||
      stored.periodStart !== meter.periodStart ||
      fired.some((name) => stored.usage.fired.includes(name))
    ) {
      this.conflicts++;
      return false;
    }
    const outbox = { ...stored.outbox };
    for (const record of records) outbox[record.recordId] = structuredClone(record);
    const next: MeterState = {
      ...stored,
      usage: { ...stored.usage, fired: [...stored.usage.fired, ...fired] },
      outbox,
      updatedAt: now.toISOString(),
      version: stored.version + 1,
    };
    this.byId.set(next.id, this.freeze(next));
    return true;
  }

  async claimEvent(
    streamName: string,
    eventId: string,
    position: StreamPosition,
    expiresAt: number,
    now: Date,
  ): Promise<DedupClaim> {
    this.count('claimEvent');
    const key = `${streamName}\u0000${eventId}`;
    const old = this.claims.get(key);
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (
      !old ||
      (old.holder.shardId === position.shardId &&
        old.holder.sequenceNumber === position.sequenceNumber) ||
      old.expiresAt < nowSeconds
    ) {
      this.claims.set(key, { holder: { ...position }, expiresAt });
      return { claimed: true };
    }
    return { claimed: false, holder: { ...old.holder } };
  }

  async takeOverClaim(
    streamName: string,
    eventId: string,
    from: StreamPosition,
    to: StreamPosition,
    expiresAt: number,
  ): Promise<boolean> {
    this.count('takeOverClaim');
    const key = `${streamName}\u0000${eventId}`;
    const old = this.claims.get(key);
    if (
      !old ||
      old.holder.shardId !== from.shardId ||
      old.holder.sequenceNumber !== from.sequenceNumber
    )
      return false;
    this.claims.set(key, { holder: { ...to }, expiresAt });
    return true;
  }

  async releaseClaim(streamName: string, eventId: string, position: StreamPosition): Promise<void> {
    this.count('releaseClaim');
    const key = `${streamName}\u0000${eventId}`;
    const old = this.claims.get(key);
    if (
      old &&
      old.holder.shardId === position.shardId &&
      old.holder.sequenceNumber === position.sequenceNumber
    )
      this.claims.delete(key);
  }
}

/** The data-correction store in memory. */
export class InMemoryDataCorrectionStore implements DataCorrectionStore {
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
