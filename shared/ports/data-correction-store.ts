/** Data correction: where usage records that cannot be metered are kept, with the reason. */
import type { Page } from './metering-store.js';

/** Stable reason codes (DOMAIN.md). */
export const CORRECTION_REASONS = [
  'INVALID_RECORD',
  'NO_MATCHING_RULE',
  'NO_METER',
  'OUTSIDE_ACTIVE_WINDOW',
  'FUTURE_TIMESTAMP',
  'CAPACITY_EXCEEDED',
  'LATE_RECORD',
  'UNIQUE_LIMIT_EXCEEDED',
] as const;
export type CorrectionReason = (typeof CORRECTION_REASONS)[number];

/** One record that was not metered, with everything needed to inspect and re-send it. */
export interface DataCorrection {
  /** Deterministic: the same stream position always gives the same id (see `correctionIdFor`). */
  id: string;
  reason: CorrectionReason;
  /** What is wrong, naming the field where there is one. */
  message: string;
  streamName: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** The original record bytes, base64 (the first 256 KiB of a larger record, see `dataTruncated`). */
  data: string;
  /** Set when the record was larger than an entry keeps: `data` holds its beginning only. */
  dataTruncated?: boolean;
  /** The original record's size in bytes and SHA-256 (hex), when truncated. */
  dataBytes?: number;
  dataSha256?: string;
  /** When Kinesis received the record (ISO). */
  receivedAt: string;
  /** When the record was put into data correction (ISO). */
  correctedAt: string;
  /** The version of the stream's meter processor that routed the record (see GET /streams/{name}/versions). */
  streamVersion?: number;
  /** The record's user, when it could be read. */
  userId?: string;
  /** Meters involved (e.g. the meter whose capacity was exceeded). */
  meterIds?: string[];
  /** Set once the record has been put back on its stream. */
  reprocessedAt?: string;
  /** The sequence number of the re-sent record. */
  reprocessSequenceNumber?: string;
}

/** Which entries: every given field must match. */
export interface DataCorrectionFilter {
  reason?: CorrectionReason;
  userId?: string;
  /** `correctedAt` at or after this instant (ISO, as `toISOString` writes it). */
  from?: string;
  /** `correctedAt` before this instant (ISO, as `toISOString` writes it). */
  to?: string;
}

/** How many entries of a reason are open: stored and not yet re-sent. */
export interface OpenCorrectionCount {
  reason: CorrectionReason;
  count: number;
}

/**
 * Ingestion's correction log: entries are stored idempotently, and a high-water mark per shard
 * tells a retried batch which of its records may already be in data correction.
 */
export interface CorrectionLog {
  /**
   * The highest sequence number (fixed width) of a shard for which entries may have been
   * stored; records at or below it must be checked with `existingIds` before they are metered.
   */
  highWaterMark(streamName: string, shardId: string): Promise<string | undefined>;
  /** Raises the high-water mark (never lowers it); called before the entries are stored. */
  raiseHighWaterMark(streamName: string, shardId: string, sequenceKey: string): Promise<void>;
  /** Which of these entry ids are stored (strongly consistent). */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
  /**
   * Stores entries idempotently: an entry already stored (same id) is left as it is. Answers
   * the entries this call stored (not those stored before, e.g. by an earlier attempt).
   */
  putAll(entries: readonly DataCorrection[]): Promise<readonly DataCorrection[]>;
}

/** The API's side of data correction: inspect, delete and re-send the stored entries. */
export interface CorrectionAdminStore {
  get(id: string): Promise<DataCorrection | undefined>;
  /** Lists entries matching the filter, newest last. */
  list(
    filter: DataCorrectionFilter,
    limit: number,
    nextToken?: string,
  ): Promise<Page<DataCorrection>>;
  /** Ids of the first `limit` entries matching the filter, oldest first. */
  matchingIds(filter: DataCorrectionFilter, limit: number): Promise<string[]>;
  /**
   * Ids of up to `limit` entries matching the filter that may be re-sent: not re-sent yet, not
   * truncated, not set aside. An index may lag a moment: callers re-read each entry before acting.
   */
  reprocessableIds(filter: DataCorrectionFilter, limit: number): Promise<string[]>;
  /** Open entries (not yet re-sent, truncated ones included) per reason, every reason listed. */
  countOpen(): Promise<OpenCorrectionCount[]>;
  /** Deletes an entry; NotFoundError if there is none. */
  delete(id: string): Promise<void>;
  /**
   * Claims an entry for re-sending: NotFoundError if unknown, ConflictError if already re-sent
   * or being re-sent (a claim older than `staleAfterMs` may be taken over after a crash).
   */
  claimReprocess(id: string, now: Date, staleAfterMs: number): Promise<DataCorrection>;
  /** Marks a claimed entry as re-sent at the given sequence number. */
  completeReprocess(id: string, sequenceNumber: string, now: Date): Promise<DataCorrection>;
  /** Gives up a claim after the re-send failed, so it can be tried again. */
  releaseReprocess(id: string): Promise<void>;
  /**
   * Takes an open entry whose record can never be metered as it is out of the bulk re-send's
   * queue (`reprocessableIds`); it stays open, counted, and can still be re-sent or deleted by id.
   */
  setAside(entry: Pick<DataCorrection, 'id' | 'reason'>): Promise<void>;
}
