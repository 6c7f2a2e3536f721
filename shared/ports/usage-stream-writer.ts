/** Puts usage records on a stream (used to re-send records from data correction). */
export interface UsageStreamWriter {
  /** Puts one record; resolves with where it landed. */
  putRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array,
  ): Promise<{ shardId: string; sequenceNumber: string }>;
}
