/** Ingest counts as CloudWatch metrics (embedded metric format) through Powertools. */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { IngestCounts, IngestMetrics } from '../ports/ingest-metrics.js';

/**
 * Publishes one batch's counts, per stream (`RecordsFailed`: records held back by infrastructure
 * failures), and data corrections per stream and reason.
 */
export class PowertoolsIngestMetrics implements IngestMetrics {
  constructor(private readonly metrics: Metrics) {}

  recordBatch(streamName: string, counts: IngestCounts): void {
    const batch = this.metrics.singleMetric();
    // A single-metric instance publishes at every addMetric and then forgets plain dimensions:
    // only default dimensions stay on every metric of the batch.
    batch.setDefaultDimensions({ stream: streamName });
    batch.addMetric('RecordsReceived', MetricUnit.Count, counts.received);
    batch.addMetric('RecordsMetered', MetricUnit.Count, counts.metered);
    batch.addMetric('DuplicatesSkipped', MetricUnit.Count, counts.duplicates);
    batch.addMetric('MetersUpdated', MetricUnit.Count, counts.metersUpdated);
    batch.addMetric('ThresholdsFired', MetricUnit.Count, counts.thresholdsFired);
    // Sent as 0 too: the alarm on it then sees data, not a metric that has gone missing.
    batch.addMetric('RecordsFailed', MetricUnit.Count, counts.failed);
    for (const [reason, count] of Object.entries(counts.corrected)) {
      const corrected = this.metrics.singleMetric();
      corrected.addDimensions({ stream: streamName, reason });
      corrected.addMetric('RecordsCorrected', MetricUnit.Count, count ?? 0);
    }
  }
}
