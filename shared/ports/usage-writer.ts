/**
 * How ingestion writes a batch's usage: one conditional write per meter that also moves the
 * meter's position for the shard, so a retried record is never counted twice.
 */
import type { MeterState, ShardSlot } from '../domain/meter-usage.js';

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

/** Writes usage into meters, conditioned on what was read. */
export interface UsageWriter {
  /**
   * Writes one shard's slots if the meter is still in the same period and this shard's last
   * applied position is unchanged; the meter after the write, or undefined on a conflict.
   */
  writeShardUsage(write: ShardUsageWrite): Promise<MeterState | undefined>;
  /** Replaces a meter's whole state if its version is unchanged; false on a conflict. */
  replaceMeter(next: MeterState, expectedVersion: number): Promise<boolean>;
}
