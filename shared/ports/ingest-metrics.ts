/** Where ingestion reports its counts (CloudWatch metrics in Lambda, a log line locally). */
import type { IngestCounts } from '../application/ingest.js';

export interface IngestMetrics {
  /** Reports one batch's counts for a stream. */
  recordBatch(streamName: string, counts: IngestCounts): void;
}
