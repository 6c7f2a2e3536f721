/**
 * The history of metered records, as the API shows it (DESIGN.md 2.8): list and read what was
 * kept, and send a kept record again to the destination with the same recordId, for a consumer
 * that lost it (on FIFO destinations the recordId is the de-duplication id, so no double bill).
 */
import { NotFoundError, PublishFailedError } from '../domain/errors.js';
import { type MeterView, meterViewOf } from '../domain/meter-view.js';
import type { MeteredRecord } from '../domain/metered-record.js';
import type { KeptRecord, RecordHistoryFilter } from '../domain/record-history.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { Page } from '../ports/metering-store.js';
import type { RecordHistoryReader } from '../ports/record-history.js';
import type { MeteredRecordPublisher } from '../ports/record-publisher.js';
import type { UserMeterReader } from '../ports/user-meter-reader.js';

/** What the history use cases need. */
export interface MeteredRecordDeps {
  history: RecordHistoryReader;
  /** Where a re-sent record goes: the destination the flush sends to. */
  publisher: MeteredRecordPublisher;
  /** A user's live meters under one meter key (one key Query). */
  meters: UserMeterReader;
  /** The configured streams: their meter keys are where a user's meters can be. */
  streams: readonly StreamConfig[];
}

/** One meter of a user's usage: the meter as `GET /meters/{id}` shows it, and its last final record. */
export type MeterUsage = MeterView & { lastFinalRecord: MeteredRecord | null };

/**
 * Every live meter of a user with its open period and its last final record: one call for a
 * customer view.
 * 1. Read the user's meters under each configured meter key (one key Query each).
 * 2. For each meter, read its newest final record from the history (one index Query each).
 */
export async function userUsage(
  deps: MeteredRecordDeps,
  userId: string,
): Promise<{ userId: string; meters: MeterUsage[] }> {
  const meterKeys = [...new Set(deps.streams.map((stream) => stream.meterKey))];
  const states = (
    await Promise.all(meterKeys.map((meterKey) => deps.meters.loadMeters(meterKey, userId)))
  ).flat();
  states.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  const meters = await Promise.all(
    states.map(async (state): Promise<MeterUsage> => {
      const last = await deps.history.list({ meterId: state.id, recordType: 'final' }, 1);
      return { ...meterViewOf(state), lastFinalRecord: last.items[0]?.record ?? null };
    }),
  );
  return { userId, meters };
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
