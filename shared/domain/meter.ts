/**
 * Meter types and meters as the service keeps them, and the pure rules that create and
 * change them. Times are ISO strings here because these objects are what the API shows.
 */

import type { MeterCreate } from './meter-schemas.js';
import type { Aggregation, MeterTypeCreate, MeterTypeUpdate } from './meter-type-schemas.js';
import { DEFAULT_MAX_DISTINCT, meterTypeSettingsSchema } from './meter-type-schemas.js';
import { firstPeriod } from './schedule.js';
import type { CapacityPolicy, ResetSchedule, Threshold } from './types.js';
import { parseOrThrow } from './validation.js';

/** A meter type as stored and returned by the API. */
export interface MeterType {
  id: string;
  name: string;
  description?: string;
  externalRef?: string;
  category: string;
  unit: string;
  /** `field` and `maxDistinct` belong to `unique` (the store always has `maxDistinct` for it). */
  aggregation: Aggregation;
  resetSchedule: ResetSchedule;
  timezone: string;
  activeFrom?: string;
  activeTo?: string;
  capacity?: number;
  capacityPolicy: CapacityPolicy;
  thresholds: Threshold[];
  gracePeriodSeconds: number;
  numberOfMeters: number;
  createdAt: string;
  updatedAt: string;
}

/** What a meter inherits from its type when it is created (a snapshot). */
export type MeterTypeSnapshot = Pick<
  MeterType,
  | 'name'
  | 'category'
  | 'unit'
  | 'aggregation'
  | 'resetSchedule'
  | 'timezone'
  | 'activeFrom'
  | 'activeTo'
  | 'capacity'
  | 'capacityPolicy'
  | 'thresholds'
  | 'gracePeriodSeconds'
>;

/** The identity and settings of a meter, without its running usage. */
export interface MeterDefinition {
  id: string;
  meterKey: string;
  meterTypeId: string;
  userId: string;
  customFields: Record<string, unknown>;
  deleteOnReset: boolean;
  meterType: MeterTypeSnapshot;
  periodStart: string;
  periodEnd: string;
  createdAt: string;
  updatedAt: string;
}

/** Builds a new meter type from a validated create body. */
export function newMeterType(id: string, body: MeterTypeCreate, now: Date): MeterType {
  const at = now.toISOString();
  const aggregation =
    body.aggregation.type === 'unique'
      ? { ...body.aggregation, maxDistinct: body.aggregation.maxDistinct ?? DEFAULT_MAX_DISTINCT }
      : body.aggregation;
  return stripUndefined({
    ...body,
    aggregation,
    id,
    numberOfMeters: 0,
    createdAt: at,
    updatedAt: at,
  });
}

/**
 * Applies a validated update to a meter type: `null` clears an optional field, then the
 * merged settings are validated again as a whole (e.g. percent thresholds need a capacity).
 */
export function updatedMeterType(
  current: MeterType,
  update: MeterTypeUpdate,
  now: Date,
): MeterType {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  const { id, numberOfMeters, createdAt, updatedAt: _previous, ...settings } = merged;
  const valid = parseOrThrow(meterTypeSettingsSchema, settings);
  return stripUndefined({
    ...valid,
    id: current.id,
    numberOfMeters: current.numberOfMeters,
    createdAt: current.createdAt,
    updatedAt: now.toISOString(),
  });
}

/** The snapshot of a meter type that a new meter keeps. */
export function snapshotOf(type: MeterType): MeterTypeSnapshot {
  return stripUndefined({
    name: type.name,
    category: type.category,
    unit: type.unit,
    aggregation: type.aggregation,
    resetSchedule: type.resetSchedule,
    timezone: type.timezone,
    activeFrom: type.activeFrom,
    activeTo: type.activeTo,
    capacity: type.capacity,
    capacityPolicy: type.capacityPolicy,
    thresholds: type.thresholds,
    gracePeriodSeconds: type.gracePeriodSeconds,
  });
}

/**
 * Builds a new meter: its period starts now and ends at the type's next reset (DOMAIN.md). A
 * meter of a type whose `activeFrom` is still ahead opens no period before it: its first period
 * starts at `activeFrom` and ends at the first reset after it, so nothing is due, scheduled or
 * sent before then.
 */
export function newMeter(
  id: string,
  body: MeterCreate,
  type: MeterType,
  now: Date,
): MeterDefinition {
  const activeFrom = type.activeFrom === undefined ? undefined : Date.parse(type.activeFrom);
  const start = activeFrom !== undefined && activeFrom > now.getTime() ? new Date(activeFrom) : now;
  const period = firstPeriod(start, type.resetSchedule, type.timezone);
  const at = now.toISOString();
  return {
    id,
    meterKey: body.meterKey,
    meterTypeId: type.id,
    userId: body.userId,
    customFields: body.customFields,
    deleteOnReset: body.deleteOnReset,
    meterType: snapshotOf(type),
    periodStart: period.periodStart.toISOString(),
    periodEnd: period.periodEnd.toISOString(),
    createdAt: at,
    updatedAt: at,
  };
}

/** When the scheduler should fire for a period: its end plus the type's grace period. */
export function periodEndFireAt(periodEnd: string, gracePeriodSeconds: number): Date {
  return new Date(Date.parse(periodEnd) + gracePeriodSeconds * 1000);
}

/** Drops keys whose value is undefined, so stored items and responses carry no empty fields. */
function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
