/**
 * Turning the bytes of one stream record into a usage record: decode, enrich, validate
 * (DOMAIN.md "Usage records"), following the stream's configuration. Pure.
 */

import type { z } from 'zod';
import { canonicalDecimal, decimalOfNumber } from './exact-decimal.js';
import { readField } from './guiding.js';
import { identifier } from './schema-primitives.js';
import type { StreamConfig } from './stream-schemas.js';
import { usageTimestampSchema, usageValueSchema } from './stream-schemas.js';

/** A usage record that passed validation, with its enriched fields. */
export interface UsageRecord {
  userId: string;
  /** Canonical decimal; absent when the record has no value (fine for `increment` meters). */
  value?: string;
  /** Event time, epoch milliseconds. */
  usageTime: number;
  eventId?: string;
  /** The enriched record, for guiding rules, group-by and carry fields. */
  fields: Record<string, unknown>;
}

export type UsageRecordResult =
  | { ok: true; record: UsageRecord }
  | { ok: false; reason: 'INVALID_RECORD' | 'FUTURE_TIMESTAMP'; message: string; userId?: string };

const decoder = new TextDecoder('utf-8', { fatal: true });
const userIdSchema = identifier(256);
const eventIdSchema = identifier(256);

function invalid(message: string, userId?: string): UsageRecordResult & { ok: false } {
  return { ok: false, reason: 'INVALID_RECORD', message, ...(userId ? { userId } : {}) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets a (dotted) field, creating plain objects on the way; never touches prototypes. */
function writeField(record: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let target: Record<string, unknown> = record;
  for (const part of parts.slice(0, -1)) {
    const child = Object.hasOwn(target, part) ? target[part] : undefined;
    if (!isPlainObject(child)) {
      const created: Record<string, unknown> = {};
      Object.defineProperty(target, part, {
        value: created,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      target = created;
    } else {
      target = child;
    }
  }
  const last = parts[parts.length - 1] ?? path;
  Object.defineProperty(target, last, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function deleteField(record: Record<string, unknown>, path: string): void {
  const parts = path.split('.');
  let target: unknown = record;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(target) || !Object.hasOwn(target, part)) return;
    target = target[part];
  }
  const last = parts[parts.length - 1] ?? path;
  if (isPlainObject(target) && Object.hasOwn(target, last)) delete target[last];
}

const emptyEnrichments = new WeakMap<object, boolean>();

/** Whether a stream enriches nothing (worked out once per configuration object). */
function isEmptyEnrichment(enrichment: StreamConfig['enrichment']): boolean {
  let empty = emptyEnrichments.get(enrichment);
  if (empty === undefined) {
    empty = [enrichment.rename, enrichment.defaults, enrichment.static].every(
      (part) => Object.keys(part).length === 0,
    );
    emptyEnrichments.set(enrichment, empty);
  }
  return empty;
}

/** Applies the stream's enrichment: renames, then defaults for missing fields, then static fields. */
export function enrich(
  record: Record<string, unknown>,
  enrichment: StreamConfig['enrichment'],
): void {
  if (isEmptyEnrichment(enrichment)) return;
  for (const [from, to] of Object.entries(enrichment.rename)) {
    const value = readField(record, from);
    if (value === undefined) continue;
    deleteField(record, from);
    writeField(record, to, value);
  }
  for (const [path, value] of Object.entries(enrichment.defaults)) {
    const current = readField(record, path);
    if (current === undefined || current === null) writeField(record, path, value);
  }
  for (const [path, value] of Object.entries(enrichment.static)) writeField(record, path, value);
}

const typeChecks = new WeakMap<object, readonly [string, string][]>();

/** The stream's field type checks as a list (worked out once per configuration object). */
function typeChecksOf(validation: StreamConfig['validation']): readonly [string, string][] {
  let checks = typeChecks.get(validation);
  if (!checks) {
    checks = Object.entries(validation.types);
    typeChecks.set(validation, checks);
  }
  return checks;
}

/**
 * What a schema reads from a field the fast paths below left to it (they are too strict for
 * some valid values), or the record's failure, worded by the schema's first issue.
 */
function bySchema<T extends string | number>(
  schema: z.ZodType<T>,
  raw: unknown,
  path: string,
  userId?: string,
): T | ParseFailure {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  return invalid(`${path}: ${result.error.issues[0]?.message ?? 'is invalid'}`, userId);
}

// Fast paths for the common, clearly valid shapes: the zod schemas run only for the rest, to
// accept what these are too strict for and to word what is wrong. Ingestion parses every
// record, so this is most of the handler's own CPU time.

/** A string a schema `identifier(max)` would accept, checked without zod (false: ask zod). */
function isPlainIdentifier(value: unknown, max: number): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // Controls, surrogates (pairs are left to zod) and anything from U+0080 on go the slow way.
    if (code < 0x21 || code > 0x7e) {
      if (code !== 0x20 || i === 0 || i === value.length - 1) return false;
    }
  }
  return true;
}

/** The canonical decimal of a plain JSON number value, or undefined to take the slow way. */
function plainDecimal(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) >= 1e21)
    return undefined;
  const exact = decimalOfNumber(value);
  if (exact !== undefined) return exact;
  // For a finite number below 1e21 without an exponent, String() is already canonical.
  const text = String(value);
  return text.includes('e') || text.length > 64 ? undefined : text;
}

/** The number of `count` decimal digits at `from`, or -1 if any is not a digit. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Epoch ms of a plain timestamp: epoch ms, or `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` read
 * by hand. Anything else (days after the 28th included, which need the calendar) is undefined,
 * and the schema decides.
 */
function plainTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= 8.64e15 ? value : undefined;
  }
  if (typeof value !== 'string' || value.length < 20 || value.length > 35) return undefined;
  const dash = 45;
  const colon = 58;
  if (value.charCodeAt(4) !== dash || value.charCodeAt(7) !== dash || value.charCodeAt(10) !== 84)
    return undefined;
  if (value.charCodeAt(13) !== colon || value.charCodeAt(16) !== colon) return undefined;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23)
    return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let i = 19;
  let millis = 0;
  if (value.charCodeAt(i) === 46) {
    // A fraction: its first three digits are the milliseconds (Date.parse truncates too).
    let digits = 0;
    for (
      i++;
      i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57;
      i++, digits++
    ) {
      if (digits < 3) millis = millis * 10 + (value.charCodeAt(i) - 48);
    }
    if (digits === 0 || digits > 9) return undefined;
    if (digits < 3) millis *= 10 ** (3 - digits);
  }
  let offsetMinutes = 0;
  const sign = value.charCodeAt(i);
  if (sign === 90 && i === value.length - 1)
    offsetMinutes = 0; // Z
  else if (
    (sign === 43 || sign === 45) &&
    i + 6 === value.length &&
    value.charCodeAt(i + 3) === 58
  ) {
    const hours = digitsAt(value, i + 1, 2);
    const minutes = digitsAt(value, i + 4, 2);
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return undefined;
    offsetMinutes = (hours * 60 + minutes) * (sign === 43 ? 1 : -1);
  } else return undefined;
  const minutes = (daysSinceEpoch(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes;
  return minutes * 60_000 + second * 1000 + millis;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (what Date.UTC counts),
 * by H. Hinnant's days-from-civil: whole-number arithmetic, no Date call per record.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Decodes, enriches and validates one stream record. `arrivalTime` (epoch ms, when Kinesis
 * received it) is the default usage time; a usage time more than the stream's skew after the
 * arrival is FUTURE_TIMESTAMP. Judging by the arrival, not the clock, gives the same answer on
 * every retry of the record. A record re-sent from data correction defaults to the time Kinesis
 * first received it instead (`defaultUsageTime`).
 */
export function parseUsageRecord(
  data: Uint8Array,
  arrivalTime: number,
  stream: StreamConfig,
  defaultUsageTime = arrivalTime,
): UsageRecordResult {
  const fields = jsonObjectOf(data);
  if (typeof fields === 'string') return invalid(fields);
  enrich(fields, stream.enrichment);
  const names = stream.fields;
  // Each step answers with its value, or with the record's failure (an object, made only then).
  const userId = userIdOf(fields, names.userId);
  if (typeof userId !== 'string') return userId;
  const problem = validationFailure(fields, stream.validation, userId);
  if (problem) return problem;
  const value = usageValueOf(fields, names.value, userId);
  if (typeof value === 'object') return value;
  const usageTime = usageTimeOf(fields, names.timestamp, defaultUsageTime, userId);
  if (typeof usageTime === 'object') return usageTime;
  if (usageTime > arrivalTime + stream.maxFutureSkewSeconds * 1000) {
    return {
      ok: false,
      reason: 'FUTURE_TIMESTAMP',
      message: `${names.timestamp}: ${new Date(usageTime).toISOString()} is in the future`,
      userId,
    };
  }
  const eventId = eventIdOf(fields, names.eventId, userId);
  if (typeof eventId === 'object') return eventId;
  return { ok: true, record: { userId, value, usageTime, eventId, fields } };
}

/** A record that failed to parse, and why. */
type ParseFailure = Extract<UsageRecordResult, { ok: false }>;

/** The record's JSON object, or what is wrong with its bytes. */
function jsonObjectOf(data: Uint8Array): Record<string, unknown> | string {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return 'the record is not UTF-8 text';
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the record is not valid JSON';
  }
  return isPlainObject(parsed) ? parsed : 'the record must be a JSON object';
}

function userIdOf(fields: Record<string, unknown>, path: string): string | ParseFailure {
  const raw = readField(fields, path);
  if (raw === undefined || raw === null) return invalid(`${path}: is required`);
  return isPlainIdentifier(raw, 256) ? raw : bySchema(userIdSchema, raw, path);
}

/** The first field the stream requires that is missing or of the wrong type. */
function validationFailure(
  fields: Record<string, unknown>,
  validation: StreamConfig['validation'],
  userId: string,
): ParseFailure | undefined {
  for (const path of validation.required) {
    const value = readField(fields, path);
    if (value === undefined || value === null) return invalid(`${path}: is required`, userId);
  }
  for (const [path, type] of typeChecksOf(validation)) {
    const value = readField(fields, path);
    if (value !== undefined && value !== null && typeof value !== type) {
      return invalid(`${path}: must be a ${type}`, userId);
    }
  }
  return undefined;
}

/** The record's value as a canonical decimal (undefined: it has none). */
function usageValueOf(
  fields: Record<string, unknown>,
  path: string,
  userId: string,
): string | undefined | ParseFailure {
  const raw = readField(fields, path);
  if (raw === undefined || raw === null) return undefined;
  const plain = plainDecimal(raw);
  if (plain !== undefined) return plain;
  const parsed = bySchema(usageValueSchema, raw, path, userId);
  return typeof parsed === 'object' ? parsed : canonicalDecimal(parsed);
}

/** The record's usage time, epoch ms (the default, its arrival time, when it has none). */
function usageTimeOf(
  fields: Record<string, unknown>,
  path: string,
  defaultUsageTime: number,
  userId: string,
): number | ParseFailure {
  const raw = readField(fields, path);
  if (raw === undefined || raw === null) return defaultUsageTime;
  const fast = plainTimestamp(raw);
  if (fast !== undefined) return fast;
  const parsed = bySchema(usageTimestampSchema, raw, path, userId);
  return typeof parsed === 'string' ? Date.parse(parsed) : parsed;
}

/** The record's event id (a finite number becomes its text; undefined: it has none). */
function eventIdOf(
  fields: Record<string, unknown>,
  path: string,
  userId: string,
): string | undefined | ParseFailure {
  const raw = readField(fields, path);
  if (raw === undefined || raw === null) return undefined;
  const candidate = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
  return isPlainIdentifier(candidate, 256)
    ? candidate
    : bySchema(eventIdSchema, candidate, path, userId);
}
