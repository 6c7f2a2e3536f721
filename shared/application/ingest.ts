/**
 * Ingestion: one Kinesis batch (one shard, in sequence order) becomes metered usage, exactly
 * once, or data-correction entries with a reason (DESIGN.md 2.1, 2.2, 2.4, 2.5, 2.7).
 *
 * The steps of one batch:
 * 1. decode, enrich and validate every record (`decodeByUser`); unreadable ones are corrected;
 * 2. drop records an earlier attempt already put into data correction (`skipPreviouslyCorrected`);
 * 3. per user, in parallel (`meterUserRecords`): read the user's meters once, route and place
 *    each record, de-duplicate by event id, admit against capacity and item size, store the
 *    records refused in data correction, then write each meter's pre-aggregated share in ONE
 *    conditional update that also advances the meter's position for this shard (a retried or
 *    replayed record is at or below it and is skipped), push due thresholds into the outbox;
 * 4. store the unreadable records in data correction (`CorrectionWriter`).
 * Only infrastructure failures are reported back (as batch item failures, and as failures with
 * their cause for the log and the metrics); bad records never fail or block the batch.
 */
import type { MeterState } from '../domain/meter-usage.js';
import { sequenceKey } from '../domain/meter-usage.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { CorrectionLog } from '../ports/data-correction-store.js';
import type { EventClaims } from '../ports/event-claims.js';
import type { IngestCounts } from '../ports/ingest-metrics.js';
import type { ThresholdOutbox } from '../ports/threshold-outbox.js';
import type { UniqueValueClaims } from '../ports/unique-claims.js';
import type { UsageWriter } from '../ports/usage-writer.js';
import type { UserMeterReader } from '../ports/user-meter-reader.js';
import { forEachLimited } from './concurrency.js';
import {
  BatchCorrections,
  CorrectionWriter,
  skipPreviouslyCorrected,
} from './ingest-corrections.js';
import { decodeByUser, type Entry, type StreamRecord } from './ingest-decode.js';
import { meterUserRecords, type UserCorrection } from './ingest-user.js';
import type { MeterTypeLookup } from './ingest-write.js';

/** Where in a batch an infrastructure failure held records back. */
export type IngestFailureStage =
  | 'stream-version'
  | 'correction-lookup'
  | 'meter'
  | 'store-corrections';

/**
 * An infrastructure failure (DynamoDB unreachable, throttled, denied) that held records of the
 * batch back for a retry. It is handed to the caller rather than swallowed: every one must be
 * logged with its cause and counted (DESIGN.md 2.7).
 */
export interface IngestFailure {
  stage: IngestFailureStage;
  /** The error as caught. */
  error: unknown;
  /** How many of the batch's records it held back. */
  records: number;
  /** The user whose records it held back (stage `meter`). */
  userId?: string;
}

export interface IngestOutcome {
  /** Sequence numbers to report as batch item failures (infrastructure failures only). */
  failedSequenceNumbers: string[];
  /** The infrastructure failures behind them, with their causes. */
  failures: IngestFailure[];
  counts: IngestCounts;
  /** Meters that put records into their outbox (partial pushes, periods closed on the way). */
  metersWithOutbox: MeterState[];
}

/** The meter store contracts ingestion uses: user meters, usage writes, the outbox, event claims. */
export type IngestStore = UserMeterReader &
  UsageWriter &
  ThresholdOutbox &
  EventClaims &
  UniqueValueClaims;

export interface IngestDeps {
  store: IngestStore;
  corrections: CorrectionLog;
  /** Reads a meter type's current schedule when ingestion closes a period on the way. */
  meterType: MeterTypeLookup;
  now: () => Date;
  /** How many users are processed at once. */
  concurrency?: number;
}

/** Counts of a batch of `received` records, nothing done yet. */
export function newCounts(received: number): IngestCounts {
  return {
    received,
    metered: 0,
    corrected: {},
    duplicates: 0,
    metersUpdated: 0,
    thresholdsFired: 0,
    failed: 0,
  };
}

/** The failures of a batch, and the sequence numbers they hold back. */
class BatchFailures {
  readonly failures: IngestFailure[] = [];
  private readonly sequenceNumbers: string[] = [];

  constructor(private readonly counts: IngestCounts) {}

  /** Records a failure; the shard retries the records from its lowest sequence number. */
  add(failure: IngestFailure, sequenceNumbers: readonly string[]): void {
    this.failures.push(failure);
    this.counts.failed += failure.records;
    for (const sequenceNumber of sequenceNumbers) this.sequenceNumbers.push(sequenceNumber);
  }

  /** The lowest sequence number held back (Lambda resumes from the lowest reported failure). */
  lowest(): string[] {
    const all = this.sequenceNumbers;
    if (all.length === 0) return [];
    return [all.reduce((a, b) => (sequenceKey(a) <= sequenceKey(b) ? a : b))];
  }
}

/**
 * Meters one batch of one shard with one version of the stream's processor (`streamVersion`,
 * recorded on the batch's data-correction entries).
 */
export async function ingestBatch(
  deps: IngestDeps,
  stream: StreamConfig,
  records: readonly StreamRecord[],
  streamVersion?: number,
): Promise<IngestOutcome> {
  const now = deps.now();
  const counts = newCounts(records.length);
  const corrections = new BatchCorrections(stream.name, now, streamVersion);
  const byUser = decodeByUser(stream, records, (position, failure) =>
    corrections.add(
      position,
      failure.reason,
      failure.message,
      failure.userId ? { userId: failure.userId } : {},
    ),
  );
  const failures = new BatchFailures(counts);
  const metersWithOutbox: MeterState[] = [];
  const outcome = (): IngestOutcome => ({
    failedSequenceNumbers: failures.lowest(),
    failures: failures.failures,
    counts,
    metersWithOutbox,
  });
  const first = records[0];
  if (!first) return outcome();
  try {
    await skipPreviouslyCorrected(deps.corrections, stream, first.shardId, byUser);
  } catch (error) {
    failures.add({ stage: 'correction-lookup', error, records: records.length }, [
      first.sequenceNumber,
    ]);
    return outcome();
  }
  const writer = new CorrectionWriter(
    deps.corrections,
    stream.name,
    first.shardId,
    records,
    counts,
  );
  const results = { counts, corrections, writer, failures, metersWithOutbox };
  await meterUsers(deps, stream, byUser, now, results);
  try {
    await writer.store(corrections.entries);
  } catch (error) {
    const held = corrections.entries;
    failures.add(
      { stage: 'store-corrections', error, records: held.length },
      held.map((c) => c.sequenceNumber),
    );
  }
  return outcome();
}

/** Where the users' results of a batch are gathered. */
interface BatchResults {
  counts: IngestCounts;
  corrections: BatchCorrections;
  writer: CorrectionWriter;
  failures: BatchFailures;
  metersWithOutbox: MeterState[];
}

/** Meters every user's records, `deps.concurrency` users at once; a user that fails is held back. */
async function meterUsers(
  deps: IngestDeps,
  stream: StreamConfig,
  byUser: ReadonlyMap<string, Entry[]>,
  now: Date,
  results: BatchResults,
): Promise<void> {
  const userDeps = {
    ...deps,
    storeCorrections: (list: readonly UserCorrection[]) =>
      results.writer.store(
        list.map((c) =>
          results.corrections.entryOf(c.entry.position, c.reason, c.message, c.extra),
        ),
      ),
  };
  await forEachLimited([...byUser.values()], deps.concurrency ?? 8, async (entries) => {
    try {
      const user = await meterUserRecords(userDeps, stream, entries, now, results.counts);
      for (const meter of user.withOutbox) results.metersWithOutbox.push(meter);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const first = entries[0];
      if (!first) return;
      const userId = first.record.userId;
      results.failures.add({ stage: 'meter', error, records: entries.length, userId }, [
        first.position.sequenceNumber,
      ]);
    }
  });
}
