/**
 * De-duplication by event id (DESIGN.md 2.2): which records of a batch claim their event id, and
 * when a record may take a claim over from the position that holds it. The claims themselves
 * are kept behind a port (`EventClaims`); these are the rules around them. Pure.
 */
import type { Decision, SequencedRecord } from './ingest-decision.js';
import { ALREADY_METERED } from './ingest-decision.js';
import { appliedSequence, bareSequence, compareSequence } from './meter-usage.js';
import type { UsageRecord } from './usage-record.js';
import type { Target } from './user-routing.js';

/** A position in a stream: the shard and the record's sequence number. */
export interface StreamPosition {
  shardId: string;
  sequenceNumber: string;
}

/**
 * The de-duplication key of a record: its event id, per user. A producer's retry repeats the
 * whole record, user included; two customers' records never cancel each other out.
 */
export function dedupKeyOf(record: Pick<UsageRecord, 'userId' | 'eventId'>): string | undefined {
  return record.eventId === undefined ? undefined : JSON.stringify([record.userId, record.eventId]);
}

/** When a claim made now lapses, in epoch seconds: the stream's de-duplication window. */
export function claimExpiresAt(now: Date, windowHours: number): number {
  return Math.floor(now.getTime() / 1000) + windowHours * 3600;
}

/**
 * Within a batch the first record of an event key that is to be metered is the one that claims
 * it; the later ones are its duplicates and become ALREADY_METERED. The indices of the
 * claimants, in order, and how many duplicates were found.
 */
export function claimantsOf(
  records: readonly SequencedRecord[],
  decisions: Decision[],
): { claimants: number[]; duplicates: number } {
  const firstOfKey = new Set<string>();
  const claimants: number[] = [];
  let duplicates = 0;
  for (let i = 0; i < records.length; i++) {
    if (decisions[i]?.kind !== 'apply') continue;
    const key = dedupKeyOf((records[i] as SequencedRecord).record);
    if (key === undefined) continue;
    if (firstOfKey.has(key)) {
      decisions[i] = ALREADY_METERED;
      duplicates++;
      continue;
    }
    firstOfKey.add(key);
    claimants.push(i);
  }
  return { claimants, duplicates };
}

/**
 * Whether the position holding a claim is an earlier record of this same shard, outside this
 * batch, that none of the user's meters took (it went nowhere, e.g. to data correction in a
 * crashed attempt): then the claim may be taken over. `seq` is the claiming record's bare
 * sequence number; `inBatch` the sequence numbers of the batch. Every meter of the user counts,
 * not only the claimant's targets: the holder may have been routed by another version of the
 * stream's processor, to meters of another category.
 */
export function holderWentNowhere(
  holder: StreamPosition,
  claimant: StreamPosition,
  seq: string,
  meters: readonly Pick<Target, 'meter'>[],
  inBatch: ReadonlySet<string>,
): boolean {
  if (holder.shardId !== claimant.shardId || inBatch.has(holder.sequenceNumber)) return false;
  const holderSeq = bareSequence(holder.sequenceNumber);
  if (compareSequence(holderSeq, seq) >= 0) return false;
  return meters.every(
    (t) => compareSequence(appliedSequence(t.meter, holder.shardId), holderSeq) < 0,
  );
}
