/** Where ingestion puts the partial pushes of thresholds a meter has reached (the meter's outbox). */
import type { MeterState } from '../domain/meter-usage.js';
import type { MeteredRecord } from '../domain/metered-record.js';

/** Puts threshold records into a meter's outbox, once per threshold and period. */
export interface ThresholdOutbox {
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
}
