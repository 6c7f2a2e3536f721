/** Where one record landed on its stream. */
export interface PutLocation {
  shardId: string;
  sequenceNumber: string;
}

/** One record of a batch put: accepted where it landed, or refused by the stream with its code. */
export type PutRecordsOutcome =
  | ({ ok: true } & PutLocation)
  | { ok: false; errorCode: string; errorMessage: string };

/** One record to put: its partition key and its bytes, exactly as a producer would put them. */
export interface PutRecordsEntry {
  partitionKey: string;
  data: Uint8Array;
}

/** Puts usage records on a stream (HTTP ingestion, and re-sending records from data correction). */
export interface UsageStreamWriter {
  /** Puts one record; resolves with where it landed. */
  putRecord(streamName: string, partitionKey: string, data: Uint8Array): Promise<PutLocation>;
  /**
   * Puts up to 500 records (5 MiB) in one call; resolves with one outcome per entry, in order.
   * A record the stream refuses (throttled, internal failure) is an outcome, not an error.
   */
  putRecords(streamName: string, entries: readonly PutRecordsEntry[]): Promise<PutRecordsOutcome[]>;
}
