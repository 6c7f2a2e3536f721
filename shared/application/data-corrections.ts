/**
 * Use cases for data correction: inspect the records that could not be metered, delete them,
 * or put them back on their stream once the cause is fixed (the API's correction routes).
 */

import { ConflictError, NotFoundError, UnprocessableError } from '../domain/errors.js';
import { reprocessPayload } from '../domain/reprocess-envelope.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type {
  CorrectionAdminStore,
  DataCorrection,
  DataCorrectionFilter,
} from '../ports/data-correction-store.js';
import type { Page } from '../ports/metering-store.js';
import type { UsageStreamWriter } from '../ports/usage-stream-writer.js';

/** What the data-correction use cases need from outside. */
export interface DataCorrectionDeps {
  corrections: CorrectionAdminStore;
  streamWriter: UsageStreamWriter;
  /** The configured streams: a record is judged by its stream's parsing before it is re-sent. */
  streams: readonly StreamConfig[];
  /**
   * The stream's current processor (the API owns them, issue 13), when the caller has one; a
   * record is then judged by what ingestion will route it with, not by the deployed seed.
   */
  currentStream?: (name: string) => Promise<StreamConfig | undefined>;
  now: () => Date;
  /** Where an error a use case handles itself is logged with its cause; console.error if absent. */
  log?: (message: string, error: unknown) => void;
}

/**
 * How long a re-send claim protects an entry. Far longer than one PutRecord plus two writes
 * in an API Lambda, so only a claim left by a crashed invocation is ever taken over.
 */
export const REPROCESS_CLAIM_STALE_AFTER_MS = 2 * 60 * 1000;

/** Longer ids are never ones `correctionIdFor` made; they are not looked up at all. */
const MAX_ID_LENGTH = 128;

function notFound(id: string): NotFoundError {
  return new NotFoundError(`data correction ${id} not found`);
}

/** Lists entries, oldest first, by reason, user and time when asked. */
export async function listDataCorrections(
  deps: DataCorrectionDeps,
  filter: DataCorrectionFilter,
  limit: number,
  nextToken?: string,
): Promise<Page<DataCorrection>> {
  return deps.corrections.list(filter, limit, nextToken);
}

/** Reads one entry, or throws NotFoundError. */
export async function getDataCorrection(
  deps: DataCorrectionDeps,
  id: string,
): Promise<DataCorrection> {
  const entry = id.length <= MAX_ID_LENGTH ? await deps.corrections.get(id) : undefined;
  if (!entry) throw notFound(id);
  return entry;
}

/** Deletes one entry, or throws NotFoundError. */
export async function deleteDataCorrection(deps: DataCorrectionDeps, id: string): Promise<void> {
  if (id.length > MAX_ID_LENGTH) throw notFound(id);
  await deps.corrections.delete(id);
}

/** The code of a 422 for a record that can never be metered as it is. */
export const NOT_REPROCESSABLE = 'NOT_REPROCESSABLE';

/** Takes the entry out of the bulk re-send's queue; a failure only leaves it there (logged). */
async function setAside(deps: DataCorrectionDeps, entry: DataCorrection): Promise<void> {
  try {
    await deps.corrections.setAside(entry);
  } catch (error) {
    (deps.log ?? console.error)(`setting data correction ${entry.id} aside failed`, error);
  }
}

/**
 * What re-sending the entry puts on its stream; 422 for a record that can never succeed (see
 * `reprocessPayload`; the entry is set aside, so bulk re-sends skip it from then on), and for one
 * of a stream no longer configured (which may come back, so that entry stays in the queue).
 */
async function payloadOf(deps: DataCorrectionDeps, entry: DataCorrection): Promise<Uint8Array> {
  const deployed = deps.streams.find((s) => s.name === entry.streamName);
  const stream = deployed && ((await deps.currentStream?.(deployed.name)) ?? deployed);
  if (!stream) {
    throw new UnprocessableError(
      `entry ${entry.id} is of stream ${entry.streamName}, which is not configured; it cannot be re-sent`,
      NOT_REPROCESSABLE,
    );
  }
  const original = new Uint8Array(Buffer.from(entry.data, 'base64'));
  const payload = reprocessPayload(original, entry.receivedAt, stream, deps.now());
  if (!payload.ok) {
    // It can never succeed: bulk re-sends stop offering it, so they reach the entries behind it.
    await setAside(deps, entry);
    throw new UnprocessableError(
      `entry ${entry.id} can never be metered as it is (${payload.message}); re-sending it would only put it back into data correction`,
      NOT_REPROCESSABLE,
    );
  }
  return payload.data;
}

/**
 * Puts an entry's record back on its stream, at most once per entry.
 * 1. Judge the record by its stream's parsing: 422 when it can never succeed (nothing is
 *    written; the entry stays). 2. Claim the entry (404 if unknown, 409 if already re-sent or
 *    being re-sent; a claim left by a crash is taken over once stale). 3. Put the original
 *    bytes on the same stream with the same partition key; a record without a timestamp goes in
 *    an envelope with its first arrival, so it counts at its original event time
 *    (reprocess-envelope.ts). 4. Mark the entry re-sent with the new sequence number.
 * If the put fails, the claim is released so the re-send can be retried, and the error is
 * passed on (503 when the stream is throttled); a failed release is logged.
 */
export async function reprocessDataCorrection(
  deps: DataCorrectionDeps,
  id: string,
): Promise<DataCorrection> {
  if (id.length > MAX_ID_LENGTH) throw notFound(id);
  const stored = await deps.corrections.get(id);
  if (!stored) throw notFound(id);
  return resendStoredCorrection(deps, stored);
}

/**
 * Re-sends an entry already read (steps 1–3 of `reprocessDataCorrection`): the claim, not the
 * read, is what keeps two callers from putting the record twice.
 */
export async function resendStoredCorrection(
  deps: DataCorrectionDeps,
  stored: DataCorrection,
): Promise<DataCorrection> {
  const { id } = stored;
  if (stored.dataTruncated) {
    throw new ConflictError(
      `entry ${id} keeps only the first bytes of a ${stored.dataBytes ?? 'large'}-byte record; it cannot be re-sent`,
    );
  }
  const data = await payloadOf(deps, stored);
  const entry = await deps.corrections.claimReprocess(
    id,
    deps.now(),
    REPROCESS_CLAIM_STALE_AFTER_MS,
  );
  let sequenceNumber: string;
  try {
    ({ sequenceNumber } = await deps.streamWriter.putRecord(
      entry.streamName,
      entry.partitionKey,
      data,
    ));
  } catch (error) {
    // A failed release leaves a claim that goes stale; the put's error is what the caller needs.
    await deps.corrections.releaseReprocess(id).catch((releaseError: unknown) => {
      (deps.log ?? console.error)(
        `the re-send claim of data correction ${id} could not be released; it goes stale in ${REPROCESS_CLAIM_STALE_AFTER_MS / 1000} s`,
        releaseError,
      );
    });
    throw error;
  }
  return deps.corrections.completeReprocess(id, sequenceNumber, deps.now());
}
