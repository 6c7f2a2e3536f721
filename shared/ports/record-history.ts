/** The history of metered records: kept as part of the flush, read by the API. */
import type { MeteredRecord } from '../domain/metered-record.js';
import type { KeptRecord, RecordHistoryFilter } from '../domain/record-history.js';
import type { Page } from './metering-store.js';

/** What the period-end flush needs: keep records before they are sent. */
export interface RecordHistoryWriter {
  /**
   * Keeps each record once per recordId, as the JSON the publisher sends; keeping one again
   * writes the same bytes (idempotent). Throws when the records could not all be kept.
   */
  keep(records: readonly MeteredRecord[]): Promise<void>;
}

/** What the API reads of the history. */
export interface RecordHistoryReader {
  /** The kept record with this id, if any. */
  get(recordId: string): Promise<KeptRecord | undefined>;
  /**
   * Records matching the filter, newest period end first. The filter must name a userId,
   * meterId or meterTypeId (each is an index); the rest narrow that index's Query.
   */
  list(filter: RecordHistoryFilter, limit: number, nextToken?: string): Promise<Page<KeptRecord>>;
}

/** Both sides of the history. */
export interface RecordHistory extends RecordHistoryWriter, RecordHistoryReader {}
