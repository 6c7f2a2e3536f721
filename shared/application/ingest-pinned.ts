/**
 * Ingestion of a batch routed by the versions pinned to its stream positions (issue 13):
 * 1. pin the batch's records to versions of the stream's processor, BEFORE anything of it is
 *    applied (`StreamVersions.pinBatch`), so every attempt at a record routes it the same way;
 * 2. meter each run of records of one version with that version's configuration, in order;
 * 3. stop at the first run with a failure: the shard resumes from its lowest failed record, and
 *    the later runs come again with it (were they applied now, a meter's shard position would
 *    pass the failed records, which would then be skipped).
 * If the versions cannot be read or pinned, the whole batch waits (stage `stream-version`).
 */
import type { CorrectionReason } from '../ports/data-correction-store.js';
import type { IngestCounts } from '../ports/ingest-metrics.js';
import { type IngestDeps, type IngestOutcome, ingestBatch, newCounts } from './ingest.js';
import type { StreamRecord } from './ingest-decode.js';
import type { StreamVersions } from './stream-versions.js';

function addCounts(into: IngestCounts, from: IngestCounts): void {
  into.metered += from.metered;
  into.duplicates += from.duplicates;
  into.metersUpdated += from.metersUpdated;
  into.thresholdsFired += from.thresholdsFired;
  into.failed += from.failed;
  for (const [reason, n] of Object.entries(from.corrected) as [CorrectionReason, number][]) {
    into.corrected[reason] = (into.corrected[reason] ?? 0) + n;
  }
}

/** Meters one batch of one shard of the stream, each record by its pinned version. */
export async function ingestPinnedBatch(
  deps: IngestDeps,
  versions: StreamVersions,
  streamName: string,
  records: readonly StreamRecord[],
): Promise<IngestOutcome> {
  const counts = newCounts(records.length);
  const outcome: IngestOutcome = {
    failedSequenceNumbers: [],
    failures: [],
    counts,
    metersWithOutbox: [],
  };
  const first = records[0];
  if (!first) return outcome;
  let runs: Awaited<ReturnType<StreamVersions['pinBatch']>>;
  let processors: Awaited<ReturnType<StreamVersions['version']>>[];
  try {
    runs = await versions.pinBatch(
      streamName,
      first.shardId,
      records.map((r) => r.sequenceNumber),
    );
    processors = await Promise.all(runs.map((run) => versions.version(streamName, run.version)));
  } catch (error) {
    counts.failed = records.length;
    outcome.failures.push({ stage: 'stream-version', error, records: records.length });
    outcome.failedSequenceNumbers.push(first.sequenceNumber);
    return outcome;
  }
  for (const [i, run] of runs.entries()) {
    const processor = processors[i];
    if (!processor) continue;
    const part = records.slice(run.start, run.end);
    const result = await ingestBatch(deps, processor.configuration, part, processor.version);
    addCounts(counts, result.counts);
    outcome.metersWithOutbox.push(...result.metersWithOutbox);
    if (result.failures.length > 0) {
      outcome.failures.push(...result.failures);
      outcome.failedSequenceNumbers = result.failedSequenceNumbers;
      counts.failed += records.length - run.end;
      break;
    }
  }
  return outcome;
}
