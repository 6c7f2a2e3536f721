/**
 * The ingest store in memory, with the semantics the DynamoDB adapter promises: conditional
 * writes on the shard position, period and version, once-per-period thresholds, and event-id
 * claims with holders and expiry. With `guardMutation` stored states are deep-frozen, so code
 * that mutated what it read fails loudly; the bench's smoke test runs that way, the timed bench
 * without it, so the guard's cost is not counted as the handler's.
 */

import type { StreamPosition } from '../../domain/event-dedup.js';
import type { MeterDefinition } from '../../domain/meter.js';
import type { MeterState } from '../../domain/meter-usage.js';
import type { MeteredRecord } from '../../domain/metered-record.js';
import { MAX_CLAIMS_PER_WRITE, type UniqueClaim } from '../../domain/unique-values.js';
import type { DedupClaim, EventClaims } from '../../ports/event-claims.js';
import type { ThresholdOutbox } from '../../ports/threshold-outbox.js';
import type { UniqueValueClaims } from '../../ports/unique-claims.js';
import type { ShardUsageWrite, UsageWriter } from '../../ports/usage-writer.js';
import type { UserMeterReader } from '../../ports/user-meter-reader.js';
import { meterStateOf, newMeterItem } from '../dynamodb/meter-item.js';

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

/** Calls per port method, like the DynamoDB call counter of the bench. */
export type CallCounts = Record<string, number>;

/** The ingest store in memory. */
export class InMemoryIngestStore
  implements UserMeterReader, UsageWriter, ThresholdOutbox, EventClaims, UniqueValueClaims
{
  readonly byId = new Map<string, MeterState>();
  /**
   * Meter ids by meter key, then user: the partition DynamoDB reads a user's meters from. Two
   * lookups by the strings at hand, rather than one by a key joined from them for every read.
   */
  readonly partitions = new Map<string, Map<string, Set<string>>>();
  readonly claims = new Map<string, { holder: StreamPosition; expiresAt: number }>();
  /** Unique meters' claims on distinct values, by claim key. */
  readonly uniqueClaims = new Map<string, UniqueClaim>();
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
    let users = this.partitions.get(state.meterKey);
    if (!users) {
      users = new Map();
      this.partitions.set(state.meterKey, users);
    }
    let ids = users.get(state.userId);
    if (!ids) {
      ids = new Set();
      users.set(state.userId, ids);
    }
    ids.add(state.id);
    return state;
  }

  get(meterId: string): MeterState | undefined {
    return this.byId.get(meterId);
  }

  async loadMeters(meterKey: string, userId: string): Promise<MeterState[]> {
    this.count('loadMeters');
    const ids = this.partitions.get(meterKey)?.get(userId);
    const meters: MeterState[] = [];
    if (!ids) return meters;
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

  async heldUniqueClaims(keys: readonly string[]): Promise<ReadonlySet<string>> {
    this.count('heldUniqueClaims');
    return new Set(keys.filter((key) => this.uniqueClaims.has(key)));
  }

  async replaceMeterClaiming(
    next: MeterState,
    expectedVersion: number,
    claims: readonly UniqueClaim[],
  ): Promise<boolean> {
    this.count('replaceMeterClaiming');
    // What DynamoDB refuses outright (ValidationException): too many items, one item twice.
    if (claims.length > MAX_CLAIMS_PER_WRITE) {
      throw new RangeError(`at most ${MAX_CLAIMS_PER_WRITE} claims a write: ${claims.length}`);
    }
    if (new Set(claims.map((claim) => claim.key)).size !== claims.length) {
      throw new RangeError('a write cannot claim one value twice');
    }
    const stored = this.byId.get(next.id);
    if (
      !stored ||
      stored.version !== expectedVersion ||
      claims.some((claim) => this.uniqueClaims.has(claim.key))
    ) {
      this.conflicts++;
      return false;
    }
    for (const claim of claims) this.uniqueClaims.set(claim.key, claim);
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
