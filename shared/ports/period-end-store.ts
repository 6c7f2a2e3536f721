/** What the period-end flush needs from persistence. */
import type { MeterState } from '../domain/meter-usage.js';

export interface PeriodEndStore {
  /** The meter with this id, live or deleted through the API but not yet flushed (strongly consistent). */
  findById(meterId: string): Promise<MeterState | undefined>;
  /** Replaces a meter's whole state if its version is unchanged; false on a conflict. */
  replaceMeter(next: MeterState, expectedVersion: number): Promise<boolean>;
  /** Removes records that were sent from the outbox (idempotent); the meter afterwards. */
  removeFromOutbox(
    meter: MeterState,
    recordIds: readonly string[],
    now: Date,
  ): Promise<MeterState | undefined>;
  /** Deletes an ended meter whose outbox is empty, with its id item; false if it changed meanwhile. */
  deleteMeter(meter: MeterState): Promise<boolean>;
  /** Ids of meters with work due at `now` (period end plus grace passed, or records waiting). */
  dueMeterIds(now: Date, limit: number): Promise<string[]>;
}
