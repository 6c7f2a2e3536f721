/**
 * Data correction in ingestion (DESIGN.md 2.1, 2.7): the entries of a batch's records that
 * cannot be metered, one per stream position whatever the retries, and the guard that keeps a
 * record corrected by an earlier attempt out of the meters.
 */
import { correctionData, correctionIdFor } from '../domain/data-correction.js';
import { bareSequence, compareSequence, sequenceKey } from '../domain/meter-usage.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type {
  CorrectionLog,
  CorrectionReason,
  DataCorrection,
} from '../ports/data-correction-store.js';
import type { IngestCounts } from '../ports/ingest-metrics.js';
import type { Entry, StreamRecord } from './ingest-decode.js';

/** The data-correction entries of one batch, counted by reason as they are added. */
export class BatchCorrections {
  readonly entries: DataCorrection[] = [];

  constructor(
    private readonly streamName: string,
    private readonly now: Date,
    private readonly counts: IngestCounts,
    /** The version of the stream's processor that routed the batch's records. */
    private readonly streamVersion?: number,
  ) {}

  /** Adds the entry of a record, with the original bytes and a deterministic id. */
  add(
    position: StreamRecord,
    reason: CorrectionReason,
    message: string,
    extra: Partial<DataCorrection> = {},
  ): void {
    this.counts.corrected[reason] = (this.counts.corrected[reason] ?? 0) + 1;
    this.entries.push(this.entryOf(position, reason, message, extra));
  }

  /** The entry of a record, neither counted nor added (one stored ahead of the batch's). */
  entryOf(
    position: StreamRecord,
    reason: CorrectionReason,
    message: string,
    extra: Partial<DataCorrection> = {},
  ): DataCorrection {
    return {
      id: correctionIdFor(this.streamName, position.shardId, position.sequenceNumber),
      reason,
      message,
      streamName: this.streamName,
      shardId: position.shardId,
      sequenceNumber: position.sequenceNumber,
      partitionKey: position.partitionKey,
      ...correctionData(position.data),
      receivedAt: new Date(position.firstArrivalTime ?? position.arrivalTime).toISOString(),
      correctedAt: this.now.toISOString(),
      ...(this.streamVersion === undefined ? {} : { streamVersion: this.streamVersion }),
      ...extra,
    };
  }
}

/**
 * A record put into data correction by an earlier attempt of this batch stays there: were it
 * metered now (say its meter was created in between), it would be in both. Records at or below
 * the shard's correction high-water mark are looked up and dropped from this attempt; the
 * mark keeps the look-up to retried stretches of the stream.
 */
export async function skipPreviouslyCorrected(
  corrections: CorrectionLog,
  stream: StreamConfig,
  shardId: string,
  byUser: Map<string, Entry[]>,
): Promise<void> {
  const mark = await corrections.highWaterMark(stream.name, shardId);
  if (mark === undefined) return;
  const idOf = (entry: Entry) =>
    correctionIdFor(stream.name, entry.position.shardId, entry.position.sequenceNumber);
  const bareMark = bareSequence(mark);
  const candidates = [...byUser.values()]
    .flat()
    .filter((entry) => compareSequence(entry.seq, bareMark) <= 0);
  if (candidates.length === 0) return;
  const corrected = await corrections.existingIds(candidates.map(idOf));
  if (corrected.size === 0) return;
  for (const [userId, entries] of byUser) {
    const remaining = entries.filter((entry) => !corrected.has(idOf(entry)));
    if (remaining.length > 0) byUser.set(userId, remaining);
    else byUser.delete(userId);
  }
}

/**
 * Stores the entries, after raising the shard's high-water mark to the highest of them (so a
 * retry looks them up even if the put fails half-way).
 */
export async function storeCorrections(
  corrections: CorrectionLog,
  streamName: string,
  shardId: string,
  entries: readonly DataCorrection[],
): Promise<void> {
  if (entries.length === 0) return;
  // Fixed-width keys sort like the sequence numbers they stand for.
  const highest =
    entries.map((c) => sequenceKey(c.sequenceNumber)).sort()[entries.length - 1] ?? '';
  await corrections.raiseHighWaterMark(streamName, shardId, highest);
  await corrections.putAll(entries);
}
