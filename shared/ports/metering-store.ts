/** Ports of the persistence the API's use cases need: meter types, meters and the summary. */
import type { MeterDefinition, MeterType } from '../domain/meter.js';
import type { MeterState } from '../domain/meter-usage.js';

/** One page of a list and the token for the next one (absent on the last page). */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** A meter type with the version that guards concurrent updates. */
export interface StoredMeterType {
  meterType: MeterType;
  version: number;
}

export interface MeterTypeFilter {
  category?: string;
  name?: string;
}

/** Meter types; names and external references are unique. */
export interface MeterTypeStore {
  /** Stores a new meter type; ConflictError naming `name` or `externalRef` on a duplicate. */
  create(type: MeterType): Promise<void>;
  /** Reads a meter type (strongly consistent). */
  get(id: string): Promise<StoredMeterType | undefined>;
  /** Resolves an external reference to a meter type id. */
  findIdByExternalRef(externalRef: string): Promise<string | undefined>;
  /** Replaces a meter type read at `previous.version`; ConflictError if it changed meanwhile. */
  replace(previous: StoredMeterType, next: MeterType): Promise<void>;
  /** Deletes a meter type with no meters; NotFoundError, or ConflictError while meters exist. */
  delete(id: string): Promise<void>;
  /** Lists meter types in creation order. */
  list(filter: MeterTypeFilter, limit: number, nextToken?: string): Promise<Page<MeterType>>;
}

export interface MeterFilter {
  meterTypeId?: string;
  userId?: string;
  meterKey?: string;
}

export interface MeterChanges {
  deleteOnReset?: boolean;
  customFields?: Record<string, unknown>;
}

/** Meters; the triple (meterKey, meterTypeId, userId) is unique among live meters. */
export interface MeterStore {
  /** Stores a new meter and counts it on its type; ConflictError on a duplicate triple, NotFoundError if the type is gone. */
  create(meter: MeterDefinition): Promise<void>;
  /** Reads a live meter by id (strongly consistent). */
  get(id: string): Promise<MeterState | undefined>;
  /** Changes `deleteOnReset` / `customFields` of a live meter; the meter afterwards. */
  update(id: string, changes: MeterChanges, now: Date): Promise<MeterState>;
  /**
   * Takes a meter out of service: it stops taking usage and leaves the API at once, while its
   * open period is kept, due at once, to be sent as a final record by the period-end flush.
   */
  retire(id: string, now: Date): Promise<MeterDefinition>;
  /** Lists live meters in creation order. */
  list(filter: MeterFilter, limit: number, nextToken?: string): Promise<Page<MeterState>>;
}

/** The numbers `GET /summary` shows. */
export interface MeteringSummary {
  meterTypes: number;
  categories: number;
  meters: number;
}

export interface SummaryStore {
  summary(): Promise<MeteringSummary>;
}
