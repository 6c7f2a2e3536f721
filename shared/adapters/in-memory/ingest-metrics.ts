/** Ingest counts kept in memory (see InMemoryIngestMetrics). */
import type { IngestCounts, IngestMetrics } from '../../ports/ingest-metrics.js';

/** Keeps the counts in memory: the local stack logs them and tests read them. */
export class InMemoryIngestMetrics implements IngestMetrics {
  readonly batches: { streamName: string; counts: IngestCounts }[] = [];

  recordBatch(streamName: string, counts: IngestCounts): void {
    this.batches.push({ streamName, counts: structuredClone(counts) });
  }

  /** The sum of one count over every batch. */
  total(count: Exclude<keyof IngestCounts, 'corrected'>): number {
    return this.batches.reduce((sum, batch) => sum + batch.counts[count], 0);
  }
}
