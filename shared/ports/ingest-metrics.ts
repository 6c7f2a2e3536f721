/** Where ingestion reports its counts (CloudWatch metrics in Lambda, a log line locally). */
import type { CorrectionReason } from './data-correction-store.js';

/** Counts of one batch, for metrics. */
export interface IngestCounts {
  received: number;
  metered: number;
  corrected: Partial<Record<CorrectionReason, number>>;
  duplicates: number;
  metersUpdated: number;
  thresholdsFired: number;
  /** Records held back by infrastructure failures: the shard retries them. */
  failed: number;
}

export interface IngestMetrics {
  /** Reports one batch's counts for a stream. */
  recordBatch(streamName: string, counts: IngestCounts): void;
}
