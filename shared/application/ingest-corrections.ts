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

/** The data-correction entries of one batch: built with a deterministic id, the unreadable ones kept. */
export class BatchCorrections {
  readonly entries: DataCorrection[] = [];

  constructor(
    private readonly streamName: string,
    private readonly now: Date,
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
    this.entries.push(this.entryOf(position, reason, message, extra));
  }

  /** The entry of a record, with the original bytes and a deterministic id. */
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
 * Stores a batch's data-correction entries as they are decided, each user's before any of its
 * meters is written (so a record an attempt refused is found in data correction by every later
 * attempt, and a meter past a record's position has taken it). The first store raises the
 * shard's high-water mark to the batch's last record, so a retry looks its records up even if a
 * put fails half-way. Entries stored now are counted by reason; a retried batch's entries,
 * stored by its earlier attempt, are not counted again.
 */
export class CorrectionWriter {
  private raised: Promise<void> | undefined;

  constructor(
    private readonly log: CorrectionLog,
    private readonly streamName: string,
    private readonly shardId: string,
    /** The batch's records (the mark goes to the highest sequence number). */
    private readonly records: readonly { sequenceNumber: string }[],
    private readonly counts: IngestCounts,
  ) {}

  async store(entries: readonly DataCorrection[]): Promise<void> {
    if (entries.length === 0) return;
    this.raised ??= this.raiseMark();
    try {
      await this.raised;
    } catch (error) {
      this.raised = undefined;
      throw error;
    }
    for (const { reason } of await this.log.putAll(entries)) {
      this.counts.corrected[reason] = (this.counts.corrected[reason] ?? 0) + 1;
    }
  }

  private raiseMark(): Promise<void> {
    // Fixed-width keys sort like the sequence numbers they stand for.
    const keys = this.records.map((r) => sequenceKey(r.sequenceNumber)).sort();
    return this.log.raiseHighWaterMark(this.streamName, this.shardId, keys[keys.length - 1] ?? '');
  }
}
