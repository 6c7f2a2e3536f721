import type {
  PutLocation,
  PutRecordsEntry,
  PutRecordsOutcome,
  UsageStreamWriter,
} from '../../ports/usage-stream-writer.js';

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
  readonly #refusals: (string | undefined)[] = [];
  #sequence = 0n;

  /** Accepts the record on a single shard with increasing sequence numbers, or fails as injected. */
  async putRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array,
  ): Promise<PutLocation> {
    const failure = this.#failures.shift();
    if (failure) throw failure;
    return this.#accept(streamName, partitionKey, data);
  }

  /** Accepts each record as `putRecord` does, except those refused with `refuseNext`. */
  async putRecords(
    streamName: string,
    entries: readonly PutRecordsEntry[],
  ): Promise<PutRecordsOutcome[]> {
    const failure = this.#failures.shift();
    if (failure) throw failure;
    return entries.map((entry): PutRecordsOutcome => {
      const refusal = this.#refusals.shift();
      if (refusal !== undefined) {
        return { ok: false, errorCode: refusal, errorMessage: `refused: ${refusal}` };
      }
      return { ok: true, ...this.#accept(streamName, entry.partitionKey, entry.data) };
    });
  }

  /**
   * Makes the next records of `putRecords` come back refused with these error codes, one
   * record each, in order; `undefined` lets that record through.
   */
  refuseNext(...errorCodes: (string | undefined)[]): void {
    this.#refusals.push(...errorCodes);
  }

  #accept(streamName: string, partitionKey: string, data: Uint8Array): PutLocation {
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
