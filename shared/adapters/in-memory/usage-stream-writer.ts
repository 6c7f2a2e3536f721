import type { UsageStreamWriter } from '../../ports/usage-stream-writer.js';

/** One record an {@link InMemoryUsageStreamWriter} accepted. */
export interface WrittenRecord {
  streamName: string;
  partitionKey: string;
  data: Uint8Array;
  shardId: string;
  sequenceNumber: string;
}

/** In-memory {@link UsageStreamWriter} that keeps what it was given; the test fake. */
export class InMemoryUsageStreamWriter implements UsageStreamWriter {
  /** Every record accepted, in order. */
  readonly records: WrittenRecord[] = [];
  readonly #failures: Error[] = [];
  #sequence = 0n;

  /** Accepts the record on a single shard with increasing sequence numbers, or fails as injected. */
  async putRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array,
  ): Promise<{ shardId: string; sequenceNumber: string }> {
    const failure = this.#failures.shift();
    if (failure) throw failure;
    this.#sequence += 1n;
    const written: WrittenRecord = {
      streamName,
      partitionKey,
      data: Uint8Array.from(data),
      shardId: 'shardId-000000000000',
      sequenceNumber: this.#sequence.toString().padStart(56, '0'),
    };
    this.records.push(written);
    return { shardId: written.shardId, sequenceNumber: written.sequenceNumber };
  }

  /** Makes the next puts fail with these errors, one each, in order. */
  failNext(...errors: Error[]): void {
    this.#failures.push(...errors);
  }
}
