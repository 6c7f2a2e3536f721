/**
 * Claims on the distinct values of a unique meter's periods (see domain/unique-values.ts): a claim
 * is written in the same all-or-nothing write as the meter that counts its value, so it exists
 * exactly when the value is counted.
 */
import type { MeterState } from '../domain/meter-usage.js';
import type { UniqueClaim } from '../domain/unique-values.js';

/** Claims on distinct values, kept beside the meters. */
export interface UniqueValueClaims {
  /** Which of these claim keys are held now (a strongly consistent read). */
  heldUniqueClaims(keys: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * Replaces the meter's whole state if its version is unchanged and adds the claims, none of
   * which may be held yet: all or nothing (at most MAX_CLAIMS_PER_WRITE claims). False on a
   * conflict (the meter changed, or another write claimed one of the values first).
   */
  replaceMeterClaiming(
    next: MeterState,
    expectedVersion: number,
    claims: readonly UniqueClaim[],
  ): Promise<boolean>;
}
