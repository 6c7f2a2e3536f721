/** Ingest counts as CloudWatch embedded-metric-format lines, as the alarms and dashboard read them. */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsIngestMetrics } from '../../shared/adapters/powertools-ingest-metrics.js';
import type { IngestCounts } from '../../shared/ports/ingest-metrics.js';

const counts = (failed: number): IngestCounts => ({
  received: 10,
  metered: 10 - failed,
  corrected: {},
  duplicates: 0,
  metersUpdated: 1,
  thresholdsFired: 0,
  failed,
});

/** The EMF lines Powertools writes to stdout while `work` runs. */
function emfLines(work: () => void): Record<string, unknown>[] {
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  work();
  const lines = write.mock.calls.flatMap(([chunk]) => String(chunk).trim().split('\n'));
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('PowertoolsIngestMetrics', () => {
  it('always sends RecordsFailed per stream, 0 included, so its alarm has data', () => {
    const metrics = new Metrics({ namespace: 'UsageMetering', serviceName: 'ingest' });
    const ingestMetrics = new PowertoolsIngestMetrics(metrics);
    const lines = emfLines(() => {
      ingestMetrics.recordBatch('usage-events', counts(0));
      ingestMetrics.recordBatch('usage-events', counts(7));
    });
    const failed = lines.filter((line) => 'RecordsFailed' in line);
    expect(failed.map((line) => [line.stream, line.service, line.RecordsFailed])).toEqual([
      ['usage-events', 'ingest', 0],
      ['usage-events', 'ingest', 7],
    ]);
    expect(failed[0]?._aws).toMatchObject({
      CloudWatchMetrics: [{ Namespace: 'UsageMetering', Dimensions: [['service', 'stream']] }],
    });
  });

  it('sends every count of a batch with its stream, not only the first', () => {
    const ingestMetrics = new PowertoolsIngestMetrics(
      new Metrics({ namespace: 'UsageMetering', serviceName: 'ingest' }),
    );
    const lines = emfLines(() =>
      ingestMetrics.recordBatch('usage-events', {
        ...counts(1),
        corrected: { NO_METER: 2 },
      }),
    );
    const names = [
      'RecordsReceived',
      'RecordsMetered',
      'DuplicatesSkipped',
      'MetersUpdated',
      'ThresholdsFired',
      'RecordsFailed',
      'RecordsCorrected',
    ];
    expect(lines.flatMap((line) => names.filter((name) => name in line)).sort()).toEqual(
      [...names].sort(),
    );
    expect(lines.every((line) => line.stream === 'usage-events')).toBe(true);
    expect(lines.find((line) => 'RecordsCorrected' in line)?.reason).toBe('NO_METER');
  });
});
