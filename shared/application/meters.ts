/** Use cases for meters: create, read, change, delete and list (the API's meter routes). */

import { NotFoundError } from '../domain/errors.js';
import type { MeterDefinition } from '../domain/meter.js';
import { newMeter, periodEndFireAt } from '../domain/meter.js';
import { meterCreateSchema, meterUpdateSchema } from '../domain/meter-schemas.js';
import { type MeterView, meterViewOf } from '../domain/meter-view.js';
import { streamOfMeterKey } from '../domain/stream-reach.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { parseOrThrow } from '../domain/validation.js';
import type { MeterFilter, MeterStore, MeterTypeStore, Page } from '../ports/metering-store.js';
import type { PeriodEndScheduler } from '../ports/period-end-scheduler.js';

/** What the meter use cases need from outside. */
export interface MeterDeps {
  meters: MeterStore;
  meterTypes: MeterTypeStore;
  scheduler: PeriodEndScheduler;
  now: () => Date;
  newId: () => string;
  /** The streams: a meter needs one whose meter key it is created under. */
  streams: readonly StreamConfig[];
  /** Where an error a use case handles itself is logged with its cause; console.error if absent. */
  log?: (message: string, error: unknown) => void;
}

/**
 * Creates a meter for a customer.
 * 1. Validate the body; a meter key no stream has is not found (the meter could never be
 * metered). 2. Resolve the meter type (by id or externalRef).
 * 3. Compute the first period in the type's time zone. 4. Register the period end with the
 * scheduler first (idempotent), so a stored meter always has one. 5. Store the meter; if
 * that fails, withdraw the schedule (a failed withdrawal is logged; the store's error is what
 * the caller gets).
 */
export async function createMeter(deps: MeterDeps, body: unknown): Promise<MeterView> {
  const input = parseOrThrow(meterCreateSchema, body);
  if (!streamOfMeterKey(deps.streams, input.meterKey)) {
    throw new NotFoundError(`no stream has meter key '${input.meterKey}'`);
  }
  const typeId = input.meterTypeId ?? (await resolveExternalRef(deps, input.meterTypeExternalRef));
  const stored = await deps.meterTypes.get(typeId);
  if (!stored) throw new NotFoundError(`meter type ${typeId} not found`);
  const meter = newMeter(deps.newId(), input, stored.meterType, deps.now());
  const trigger = { meterId: meter.id, periodEnd: meter.periodEnd };
  await deps.scheduler.schedulePeriodEnd(
    trigger,
    periodEndFireAt(meter.periodEnd, meter.meterType.gracePeriodSeconds),
  );
  try {
    await deps.meters.create(meter);
  } catch (error) {
    await deps.scheduler.cancelPeriodEnd(trigger).catch((cancelError: unknown) => {
      (deps.log ?? console.error)(
        `the period-end schedule of meter ${meter.id}, which was not stored, could not be withdrawn`,
        cancelError,
      );
    });
    throw error;
  }
  return getMeter(deps, meter.id);
}

async function resolveExternalRef(
  deps: MeterDeps,
  externalRef: string | undefined,
): Promise<string> {
  const id =
    externalRef === undefined ? undefined : await deps.meterTypes.findIdByExternalRef(externalRef);
  if (!id) throw new NotFoundError(`no meter type has externalRef '${externalRef ?? ''}'`);
  return id;
}

/** Reads one live meter, or throws NotFoundError. */
export async function getMeter(deps: MeterDeps, id: string): Promise<MeterView> {
  const meter = await deps.meters.get(id);
  if (!meter) throw new NotFoundError(`meter ${id} not found`);
  return meterViewOf(meter);
}

/** Changes `deleteOnReset` and/or `customFields` of a meter. */
export async function updateMeter(deps: MeterDeps, id: string, body: unknown): Promise<MeterView> {
  const changes = parseOrThrow(meterUpdateSchema, body);
  return meterViewOf(await deps.meters.update(id, changes, deps.now()));
}

/**
 * Deletes a meter without losing usage it already counted.
 * 1. Retire it: it leaves the API and stops taking usage at once; its open period is kept,
 * due at once in the due index, where the period-end sweeper finds it and sends its final
 * record. 2. Cancel its period-end schedule.
 */
export async function deleteMeter(deps: MeterDeps, id: string): Promise<MeterDefinition> {
  const meter = await deps.meters.retire(id, deps.now());
  const trigger = { meterId: meter.id, periodEnd: meter.periodEnd };
  await deps.scheduler.cancelPeriodEnd(trigger);
  return meter;
}

/** Lists meters, optionally by meter type, user or meter key. */
export async function listMeters(
  deps: MeterDeps,
  filter: MeterFilter,
  limit: number,
  nextToken?: string,
): Promise<Page<MeterView>> {
  const page = await deps.meters.list(filter, limit, nextToken);
  return { ...page, items: page.items.map(meterViewOf) };
}
