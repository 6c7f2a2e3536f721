/**
 * De-duplication by event id: a claim remembers which stream position holds an event id, so a
 * producer's duplicate counts once and a record that crashed half-way finds its own claim.
 */
import type { StreamPosition } from '../domain/event-dedup.js';

/** The answer to a claim: taken, or held by another position. */
export type DedupClaim = { claimed: true } | { claimed: false; holder: StreamPosition };

/** Claims on event ids, per stream. */
export interface EventClaims {
  /** Claims an event id for a stream position; a claim expires at `expiresAt` (epoch seconds). */
  claimEvent(
    streamName: string,
    eventId: string,
    position: StreamPosition,
    expiresAt: number,
    now: Date,
  ): Promise<DedupClaim>;
  /** Moves a claim from a position whose record was never metered to this one; false if it changed. */
  takeOverClaim(
    streamName: string,
    eventId: string,
    from: StreamPosition,
    to: StreamPosition,
    expiresAt: number,
  ): Promise<boolean>;
  /** Gives a claim back (its record went to data correction instead of a meter). */
  releaseClaim(streamName: string, eventId: string, position: StreamPosition): Promise<void>;
}
