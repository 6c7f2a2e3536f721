/** What ingestion needs from persistence: the meters of a user, conditional writes, dedup claims. */

import type { MeterState, ShardSlot } from '../domain/meter-usage.js';
import type { MeteredRecord } from '../domain/metered-record.js';

/** A position in a stream: the shard and the record's sequence number. */
export interface StreamPosition {
  shardId: string;
  sequenceNumber: string;
}

/** One shard's share of a batch for one meter, written in one conditional update. */
export interface ShardUsageWrite {
  meter: MeterState;
  shardId: string;
  /** The last sequence number of this shard applied to the meter, as read (undefined: none yet). */
  expectedSeq: string | undefined;
  /** The last sequence number of this shard in the records being applied. */
  newSeq: string;
  /** The shard's new slot in the open period, if the batch has usage for it. */
  currentSlot?: ShardSlot;
  /** The shard's new slot in the next period, if the batch has usage stamped after the period end. */
  nextSlot?: ShardSlot;
  now: Date;
}

export type DedupClaim = { claimed: true } | { claimed: false; holder: StreamPosition };

export interface IngestStore {
  /** All live meters of a user under a meter key, strongly consistent. */
  loadMeters(meterKey: string, userId: string): Promise<MeterState[]>;
  /**
   * Writes one shard's slots if the meter is still in the same period and this shard's last
   * applied position is unchanged; the meter after the write, or undefined on a conflict.
   */
  writeShardUsage(write: ShardUsageWrite): Promise<MeterState | undefined>;
  /** Replaces a meter's whole state if its version is unchanged; false on a conflict. */
  replaceMeter(next: MeterState, expectedVersion: number): Promise<boolean>;
  /**
   * Puts threshold records into the outbox and marks them fired, once per period: false when the
   * period moved on or one of them was fired meanwhile.
   */
  addThresholdRecords(
    meter: MeterState,
    records: readonly MeteredRecord[],
    fired: readonly string[],
    now: Date,
  ): Promise<boolean>;
  /** Claims an event id for a stream position; a claim expires at `expiresAt` (epoch seconds). */
  claimEvent(
    streamName: string,
    eventId: string,
    position: StreamPosition,
    expiresAt: number,
    now: Date,
  ): Promise<DedupClaim>;
  /** Moves a claim from a position whose record was never metered to this one; false if it changed. */
  takeOverClaim(
    streamName: string,
    eventId: string,
    from: StreamPosition,
    to: StreamPosition,
    expiresAt: number,
  ): Promise<boolean>;
  /** Gives a claim back (its record went to data correction instead of a meter). */
  releaseClaim(streamName: string, eventId: string, position: StreamPosition): Promise<void>;
}
