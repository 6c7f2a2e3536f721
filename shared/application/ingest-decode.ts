/**
 * Step 1 of ingestion: the batch's bytes decoded, enriched and validated into usage records,
 * grouped by user in sequence order. What cannot be read goes to data correction.
 */
import type { SequencedRecord } from '../domain/ingest-decision.js';
import { bareSequence, compareSequence, sequenceAfter } from '../domain/meter-usage.js';
import { unwrapReprocessed } from '../domain/reprocess-envelope.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { parseUsageRecord, type UsageRecordResult } from '../domain/usage-record.js';

/** One record of a Kinesis batch, as the ingest use case sees it. */
export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** The record's bytes. */
  data: Uint8Array;
  /** When Kinesis received it, epoch ms (the default usage time). */
  arrivalTime: number;
  /**
   * For a record re-sent from data correction without a timestamp: when Kinesis first received
   * it, epoch ms. It is then the default usage time, and what a new correction entry keeps.
   */
  firstArrivalTime?: number;
}

/** A decoded record with its position; `seq` is its sequence number, bare (see `compareSequence`). */
export interface Entry extends SequencedRecord {
  position: StreamRecord;
}

/** Where a record that cannot be decoded goes (data correction, with the reason). */
export type Unreadable = (
  position: StreamRecord,
  failure: UsageRecordResult & { ok: false },
) => void;

/** The batch's readable records by user, each user's in sequence order. */
export function decodeByUser(
  stream: StreamConfig,
  records: readonly StreamRecord[],
  unreadable: Unreadable,
): Map<string, Entry[]> {
  const byUser = new Map<string, Entry[]>();
  let previous = '';
  let ascending = true;
  for (const received of records) {
    const position = unwrapped(received);
    const parsed = parseUsageRecord(
      position.data,
      position.arrivalTime,
      stream,
      position.firstArrivalTime,
    );
    if (!parsed.ok) {
      unreadable(position, parsed);
      continue;
    }
    const seq = bareSequence(position.sequenceNumber);
    if (ascending && !sequenceAfter(seq, previous)) ascending = false;
    previous = seq;
    const entry = { position, record: parsed.record, seq };
    const list = byUser.get(parsed.record.userId);
    if (list) list.push(entry);
    else byUser.set(parsed.record.userId, [entry]);
  }
  // Every later step relies on a shard's records coming in sequence order, as Kinesis and the
  // event-source mapping hand them over: a meter's position only moves forward. Should a batch
  // ever come otherwise, each user's records are put in order and a repeated record kept once.
  if (!ascending) {
    for (const [userId, list] of byUser) byUser.set(userId, inSequenceOrder(list));
  }
  return byUser;
}

/** A record re-sent from data correction as its original bytes and first arrival (see reprocess-envelope.ts). */
function unwrapped(record: StreamRecord): StreamRecord {
  const inner = unwrapReprocessed(record.data);
  return inner ? { ...record, ...inner } : record;
}

/** The entries sorted by sequence number, each sequence number once. */
function inSequenceOrder(entries: readonly Entry[]): Entry[] {
  const sorted = [...entries].sort((a, b) => compareSequence(a.seq, b.seq));
  return sorted.filter((entry, i) => i === 0 || sorted[i - 1]?.seq !== entry.seq);
}
