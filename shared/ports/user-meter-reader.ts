/** What ingestion reads before it routes a user's records: that user's meters, in one read. */
import type { MeterState } from '../domain/meter-usage.js';

/** Reads the meters that records of one user can go to. */
export interface UserMeterReader {
  /** All live meters of a user under a meter key, strongly consistent. */
  loadMeters(meterKey: string, userId: string): Promise<MeterState[]>;
}
