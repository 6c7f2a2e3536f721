/**
 * Bulk use cases of data correction: open counts per reason, and re-sending or deleting many
 * entries by filter, a bounded number per call (`remaining` says whether to call again). Each
 * entry goes through the same claim as a single re-send, so concurrent bulk calls and single
 * calls never put one record twice.
 */

import {
  ConflictError,
  ServiceError,
  ServiceUnavailableError,
  UnprocessableError,
} from '../domain/errors.js';
import type { DataCorrectionFilter, OpenCorrectionCount } from '../ports/data-correction-store.js';
import { forEachLimited } from './concurrency.js';
import { type DataCorrectionDeps, resendStoredCorrection } from './data-corrections.js';

/** Entries one bulk call handles at most; the caller calls again while `remaining` is true. */
export const BULK_LIMIT = 100;

/** Entries handled at once within a call: quick enough for the API's timeout, gentle on limits. */
const BULK_CONCURRENCY = 8;

/** One entry a bulk re-send could not put back, with why. */
export interface BulkFailure {
  id: string;
  /** `NOT_REPROCESSABLE`, `DATA_TRUNCATED`, `UNAVAILABLE` (throttled: retry later), `NOT_FOUND`, `REJECTED` or `INTERNAL`. */
  code: string;
  message: string;
}

export interface BulkReprocessResult {
  reprocessed: number;
  failed: BulkFailure[];
  remaining: boolean;
}

export interface BulkDeleteResult {
  deleted: number;
  remaining: boolean;
}

/** Open (not yet re-sent) entries per reason. */
export async function countOpenDataCorrections(
  deps: DataCorrectionDeps,
): Promise<OpenCorrectionCount[]> {
  return deps.corrections.countOpen();
}

/** A failure as a bulk answer reports it: never an internal detail of a 5xx. */
function failureOf(id: string, error: unknown): BulkFailure {
  if (!(error instanceof ServiceError) || error.statusCode >= 500) {
    const unavailable = error instanceof ServiceUnavailableError;
    return {
      id,
      code: unavailable ? 'UNAVAILABLE' : 'INTERNAL',
      message: unavailable ? 'the stream or the table is busy; retry shortly' : 'internal error',
    };
  }
  if (error instanceof UnprocessableError) return { id, code: error.code, message: error.message };
  const code = error.statusCode === 404 ? 'NOT_FOUND' : 'REJECTED';
  return { id, code, message: error.message };
}

/**
 * Re-sends up to BULK_LIMIT open entries matching the filter.
 * 1. Find open, untruncated entries by the open index (it may lag: each is read again).
 * 2. Skip one deleted or re-sent meanwhile; re-send the others through the single re-send's
 *    claim. A claim held by another caller is left to it and makes `remaining` true.
 * 3. After a throttle, start no more (the rest stay open, `remaining` true).
 * A failure stays open and is reported; a call that re-sends nothing tells the caller to stop.
 */
export async function reprocessDataCorrections(
  deps: DataCorrectionDeps,
  filter: DataCorrectionFilter,
): Promise<BulkReprocessResult> {
  const ids = await deps.corrections.reprocessableIds(filter, BULK_LIMIT + 1);
  const batch = ids.slice(0, BULK_LIMIT);
  const failed: BulkFailure[] = [];
  let reprocessed = 0;
  let unfinished = ids.length > BULK_LIMIT;
  let throttled = false;
  await forEachLimited(batch, BULK_CONCURRENCY, async (id) => {
    if (throttled) {
      unfinished = true;
      return;
    }
    try {
      const stored = await deps.corrections.get(id);
      if (!stored || stored.reprocessedAt !== undefined) return;
      if (stored.dataTruncated) {
        failed.push({ id, code: 'DATA_TRUNCATED', message: 'only the first bytes are kept' });
        return;
      }
      await resendStoredCorrection(deps, stored);
      reprocessed++;
    } catch (error) {
      if (error instanceof ConflictError) {
        // Claimed (or just completed) by another caller: theirs to finish.
        unfinished = true;
        return;
      }
      if (error instanceof ServiceUnavailableError) throttled = true;
      else if (!(error instanceof ServiceError)) {
        (deps.log ?? console.error)(`bulk re-send of data correction ${id} failed`, error);
      }
      failed.push(failureOf(id, error));
    }
  });
  failed.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { reprocessed, failed, remaining: unfinished || throttled };
}

/**
 * Deletes up to BULK_LIMIT entries matching the filter, oldest first (re-sent ones too). One
 * deleted meanwhile counts for nobody. A throttle stops the call: with nothing deleted it is
 * passed on (503), else the call answers what it did with `remaining` true.
 */
export async function deleteDataCorrections(
  deps: DataCorrectionDeps,
  filter: DataCorrectionFilter,
): Promise<BulkDeleteResult> {
  const ids = await deps.corrections.matchingIds(filter, BULK_LIMIT + 1);
  let deleted = 0;
  let failure: { error: unknown } | undefined;
  await forEachLimited(ids.slice(0, BULK_LIMIT), BULK_CONCURRENCY, async (id) => {
    if (failure) return;
    try {
      await deps.corrections.delete(id);
      deleted++;
    } catch (error) {
      if (error instanceof ServiceError && error.statusCode === 404) return;
      failure ??= { error };
    }
  });
  if (failure && deleted === 0) throw failure.error;
  return { deleted, remaining: ids.length > BULK_LIMIT || failure !== undefined };
}
