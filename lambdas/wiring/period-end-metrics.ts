/** The period-end Lambdas' metrics: a reset's flush and a sweep, counted for the dashboard. */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FlushResult, SweepResult } from '../../shared/application/period-end.js';

/** Counts a reset's flush: PeriodsClosed, RecordsSent, MetersDeleted, and no FlushFailures. */
export function addFlushMetrics(metrics: Metrics, result: FlushResult): void {
  metrics.addMetric('PeriodsClosed', MetricUnit.Count, result.periodsClosed);
  metrics.addMetric('RecordsSent', MetricUnit.Count, result.sent);
  metrics.addMetric('MetersDeleted', MetricUnit.Count, result.deleted ? 1 : 0);
  metrics.addMetric('FlushFailures', MetricUnit.Count, 0);
}

/** Counts a sweep: SweepDue, SweepFlushed, SweepFailed (meters). */
export function addSweepMetrics(metrics: Metrics, result: SweepResult): void {
  metrics.addMetric('SweepDue', MetricUnit.Count, result.due);
  metrics.addMetric('SweepFlushed', MetricUnit.Count, result.flushed);
  metrics.addMetric('SweepFailed', MetricUnit.Count, result.failed.length);
}
