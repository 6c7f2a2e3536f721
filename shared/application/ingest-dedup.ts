/**
 * De-duplication in ingestion (DESIGN.md 2.2), when the stream enables it: each record to be
 * metered claims its event id for its stream position; a record whose id another position holds
 * is a duplicate, unless that holder went nowhere. A record that crashed half-way finds its own
 * claim and goes on. Claims of records that end up in data correction are given back.
 */

import {
  claimantsOf,
  claimExpiresAt,
  dedupKeyOf,
  holderWentNowhere,
  type StreamPosition,
} from '../domain/event-dedup.js';
import { ALREADY_METERED, type Decision } from '../domain/ingest-decision.js';
import type { MeterState } from '../domain/meter-usage.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { EventClaims } from '../ports/event-claims.js';
import type { IngestCounts } from '../ports/ingest-metrics.js';
import { forEachLimited } from './concurrency.js';
import type { Entry } from './ingest-decode.js';

/** De-duplication claims of one user's records in flight at once. */
const DEDUP_CONCURRENCY = 16;

/**
 * Claims the event ids of the records decided to apply; a duplicate's decision becomes
 * ALREADY_METERED. `held`: the claims this invocation holds, by sequence number (kept across
 * attempts, and for `releaseClaimsOfCorrected`); `meters`: every meter of the user, as read.
 */
export async function deduplicate(
  claims: EventClaims,
  stream: StreamConfig,
  entries: readonly Entry[],
  decisions: Decision[],
  held: Map<string, StreamPosition>,
  now: Date,
  counts: IngestCounts,
  meters: readonly MeterState[],
): Promise<void> {
  if (!stream.deduplication.enabled) return;
  const userMeters = meters.map((meter) => ({ meter }));
  const expiresAt = claimExpiresAt(now, stream.deduplication.windowHours);
  const inBatch = new Set(entries.map((e) => e.position.sequenceNumber));
  // Within the batch the first record of an event id claims it; the claims go out concurrently.
  const { claimants, duplicates } = claimantsOf(entries, decisions);
  counts.duplicates += duplicates;
  await forEachLimited(claimants, DEDUP_CONCURRENCY, async (i) => {
    const entry = entries[i];
    const decision = decisions[i];
    const eventId = entry ? dedupKeyOf(entry.record) : undefined;
    if (!entry || decision?.kind !== 'apply' || eventId === undefined) return;
    const position = {
      shardId: entry.position.shardId,
      sequenceNumber: entry.position.sequenceNumber,
    };
    const claim = await claims.claimEvent(stream.name, eventId, position, expiresAt, now);
    if (claim.claimed) {
      held.set(position.sequenceNumber, position);
      return;
    }
    if (
      holderWentNowhere(claim.holder, position, entry.seq, userMeters, inBatch) &&
      (await claims.takeOverClaim(stream.name, eventId, claim.holder, position, expiresAt))
    ) {
      held.set(position.sequenceNumber, position);
      return;
    }
    decisions[i] = ALREADY_METERED;
    counts.duplicates++;
  });
}

/**
 * Gives back the claims of records that went to data correction, so a re-send can meter them.
 * Whether a record of the batch was taken for a duplicate of one of them: it must be decided
 * again, now that its event id is free.
 */
export async function releaseClaimsOfCorrected(
  claims: EventClaims,
  stream: StreamConfig,
  entries: readonly Entry[],
  decisions: readonly Decision[],
  held: Map<string, StreamPosition>,
): Promise<boolean> {
  if (held.size === 0) return false;
  const released = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const position = held.get(entry.position.sequenceNumber);
    const eventId = dedupKeyOf(entry.record);
    if (position && eventId !== undefined && decisions[i]?.kind === 'correct') {
      await claims.releaseClaim(stream.name, eventId, position);
      held.delete(entry.position.sequenceNumber);
      released.add(eventId);
    }
  }
  if (released.size === 0) return false;
  return entries.some((entry, i) => {
    const eventId = dedupKeyOf(entry.record);
    return decisions[i] === ALREADY_METERED && eventId !== undefined && released.has(eventId);
  });
}
