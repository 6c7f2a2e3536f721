/**
 * Why a record went to data correction: the console's copy of the service's
 * CORRECTION_REASONS (it may import nothing of the service but the schedule module; a test
 * keeps the two lists equal, and the type below refuses a reason the API does not know).
 */
import type { DataCorrection } from './api/schemas.js';

export const CORRECTION_REASONS = [
  'INVALID_RECORD',
  'NO_MATCHING_RULE',
  'NO_METER',
  'OUTSIDE_ACTIVE_WINDOW',
  'FUTURE_TIMESTAMP',
  'CAPACITY_EXCEEDED',
  'LATE_RECORD',
  'UNIQUE_LIMIT_EXCEEDED',
] as const satisfies readonly DataCorrection['reason'][];
