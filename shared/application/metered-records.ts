/**
 * The history of metered records, as the API shows it (DESIGN.md 2.8): list and read what was
 * kept, and send a kept record again to the destination with the same recordId, for a consumer
 * that lost it (on FIFO destinations the recordId is the de-duplication id, so no double bill).
 */
import { NotFoundError, PublishFailedError } from '../domain/errors.js';
import type { KeptRecord, RecordHistoryFilter } from '../domain/record-history.js';
import type { Page } from '../ports/metering-store.js';
import type { RecordHistoryReader } from '../ports/record-history.js';
import type { MeteredRecordPublisher } from '../ports/record-publisher.js';

/** What the history use cases need. */
export interface MeteredRecordDeps {
  history: RecordHistoryReader;
  /** Where a re-sent record goes: the destination the flush sends to. */
  publisher: MeteredRecordPublisher;
}

/** Kept records matching the filter, newest period end first. */
export function listMeteredRecords(
  deps: MeteredRecordDeps,
  filter: RecordHistoryFilter,
  limit: number,
  nextToken?: string,
): Promise<Page<KeptRecord>> {
  return deps.history.list(filter, limit, nextToken);
}

/** The kept record with this id; 404 when there is none. */
export async function getMeteredRecord(
  deps: MeteredRecordDeps,
  recordId: string,
): Promise<KeptRecord> {
  const kept = await deps.history.get(recordId);
  if (!kept) throw new NotFoundError(`metered record ${recordId} not found`);
  return kept;
}

/**
 * Sends a kept record again.
 * 1. Read it (404 when unknown).
 * 2. Publish it as kept: same recordId, same JSON (it parses and prints back to the same bytes).
 * 3. A record the destination refused is a 503; the caller may retry.
 */
export async function resendMeteredRecord(
  deps: MeteredRecordDeps,
  recordId: string,
): Promise<KeptRecord> {
  const kept = await getMeteredRecord(deps, recordId);
  const result = await deps.publisher.publish([kept.record]);
  if (result.failed.length > 0) throw new PublishFailedError(kept.record.id, result.failed);
  return kept;
}
