/** Where streams' meter processors (every version) and each shard's version pins are kept. */

import type { ShardPins } from '../domain/stream-pins.js';
import type { StreamProcessor } from '../domain/stream-processor.js';
import type { Page } from './metering-store.js';

/** The versions of the streams' meter processors. */
export interface StreamProcessorStore {
  /** The current version of a stream's processor (strongly consistent), or undefined if unseeded. */
  current(streamName: string): Promise<StreamProcessor | undefined>;
  /** One version, or undefined. Versions never change once written. */
  version(streamName: string, version: number): Promise<StreamProcessor | undefined>;
  /** Writes version 1 unless the stream has a processor already (then does nothing). */
  seed(first: StreamProcessor): Promise<void>;
  /**
   * Makes `next` current and keeps it as a version, in one transaction, if the current version
   * is still `expectedVersion`; PreconditionFailedError otherwise (nothing written).
   */
  replace(next: StreamProcessor, expectedVersion: number): Promise<void>;
  /** The versions of a stream, newest first. */
  versions(streamName: string, limit: number, nextToken?: string): Promise<Page<StreamProcessor>>;
}

/** The version pins of each shard (see shared/domain/stream-pins.ts). */
export interface ShardPinStore {
  /** The shard's pins (strongly consistent), or undefined before its first batch. */
  readPins(streamName: string, shardId: string): Promise<ShardPins | undefined>;
  /**
   * Stores the pins if the shard's `through` is still `expectedThrough` (undefined: no pins
   * yet); false when another attempt wrote first (read again and plan again).
   */
  writePins(
    streamName: string,
    shardId: string,
    next: ShardPins,
    expectedThrough: string | undefined,
  ): Promise<boolean>;
}
