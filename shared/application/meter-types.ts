/** Use cases for meter types: create, read, change, delete and list (the API's meter-type routes). */

import { NotFoundError } from '../domain/errors.js';
import type { MeterType } from '../domain/meter.js';
import { newMeterType, updatedMeterType } from '../domain/meter.js';
import { meterTypeCreateSchema, meterTypeUpdateSchema } from '../domain/meter-type-schemas.js';
import { categoryWarnings, type Warning, withWarnings } from '../domain/stream-reach.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { parseOrThrow } from '../domain/validation.js';
import type { MeterTypeFilter, MeterTypeStore, Page } from '../ports/metering-store.js';

/** What the meter-type use cases need from outside. */
export interface MeterTypeDeps {
  meterTypes: MeterTypeStore;
  now: () => Date;
  newId: () => string;
  /** The streams whose guiding rules decide whether a category is reachable. */
  streams: readonly StreamConfig[];
  /** The streams' current processors, where they are stored; `streams` when absent. */
  currentStreams?: () => Promise<readonly StreamConfig[]>;
}

/** The warnings a meter type of this category deserves, against the streams' current rules. */
async function warningsFor(deps: MeterTypeDeps, category: string): Promise<Warning[]> {
  const streams = deps.currentStreams ? await deps.currentStreams() : deps.streams;
  return categoryWarnings(streams, category);
}

/** A meter type as a create or update answers it, with warnings when there are any. */
export type MeterTypeWithWarnings = MeterType & { warnings?: Warning[] };

/**
 * Creates a meter type.
 * 1. Validate the body (defaults applied). 2. Store it with its unique name and externalRef.
 * 3. Warn when no guiding rule of any stream routes to its category.
 */
export async function createMeterType(
  deps: MeterTypeDeps,
  body: unknown,
): Promise<MeterTypeWithWarnings> {
  const input = parseOrThrow(meterTypeCreateSchema, body);
  const meterType = newMeterType(deps.newId(), input, deps.now());
  await deps.meterTypes.create(meterType);
  return withWarnings(meterType, await warningsFor(deps, meterType.category));
}

/** Reads one meter type, or throws NotFoundError. */
export async function getMeterType(deps: MeterTypeDeps, id: string): Promise<MeterType> {
  const stored = await deps.meterTypes.get(id);
  if (!stored) throw new NotFoundError(`meter type ${id} not found`);
  return stored.meterType;
}

/**
 * Changes a meter type.
 * 1. Validate the patch (`name` and `aggregation` are refused). 2. Read the current type.
 * 3. Merge and validate the whole. 4. Replace it if nobody changed it meanwhile. 5. Warn when
 * no guiding rule of any stream routes to its category.
 * Existing meters see schedule and time-zone changes from their next period.
 */
export async function updateMeterType(
  deps: MeterTypeDeps,
  id: string,
  body: unknown,
): Promise<MeterTypeWithWarnings> {
  const update = parseOrThrow(meterTypeUpdateSchema, body);
  const stored = await deps.meterTypes.get(id);
  if (!stored) throw new NotFoundError(`meter type ${id} not found`);
  const next = updatedMeterType(stored.meterType, update, deps.now());
  await deps.meterTypes.replace(stored, next);
  return withWarnings(next, await warningsFor(deps, next.category));
}

/** Deletes a meter type that has no meters. */
export async function deleteMeterType(deps: MeterTypeDeps, id: string): Promise<void> {
  await deps.meterTypes.delete(id);
}

/** Lists meter types, optionally by category or name. */
export async function listMeterTypes(
  deps: MeterTypeDeps,
  filter: MeterTypeFilter,
  limit: number,
  nextToken?: string,
): Promise<Page<MeterType>> {
  return deps.meterTypes.list(filter, limit, nextToken);
}
