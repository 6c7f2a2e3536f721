/**
 * Turning the bytes of one stream record into a usage record: decode, enrich, validate
 * (DOMAIN.md "Usage records"), following the stream's configuration. Pure.
 */
import { canonicalDecimal } from './aggregation.js';
import { readField } from './guiding.js';
import type { StreamConfig } from './schemas.js';
import { identifier, usageTimestampSchema, usageValueSchema } from './schemas.js';

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

function invalid(message: string, userId?: string): UsageRecordResult {
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

/** Applies the stream's enrichment: renames, then defaults for missing fields, then static fields. */
export function enrich(
  record: Record<string, unknown>,
  enrichment: StreamConfig['enrichment'],
): void {
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

function firstIssue(result: {
  success: boolean;
  error?: { issues: { message: string }[] };
}): string {
  return result.error?.issues[0]?.message ?? 'is invalid';
}

/**
 * Decodes, enriches and validates one stream record. `arrivalTime` (epoch ms, when Kinesis
 * received it) is the default usage time; a usage time more than the stream's skew after the
 * arrival is FUTURE_TIMESTAMP. Judging by the arrival, not the clock, gives the same answer on
 * every retry of the record.
 */
export function parseUsageRecord(
  data: Uint8Array,
  arrivalTime: number,
  stream: StreamConfig,
): UsageRecordResult {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return invalid('the record is not UTF-8 text');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return invalid('the record is not valid JSON');
  }
  if (!isPlainObject(parsed)) return invalid('the record must be a JSON object');
  const fields = parsed;
  enrich(fields, stream.enrichment);

  const names = stream.fields;
  const rawUserId = readField(fields, names.userId);
  const userIdResult = userIdSchema.safeParse(rawUserId);
  const userId = userIdResult.success ? userIdResult.data : undefined;
  if (rawUserId === undefined || rawUserId === null) return invalid(`${names.userId}: is required`);
  if (!userId) return invalid(`${names.userId}: ${firstIssue(userIdResult)}`);

  for (const path of stream.validation.required) {
    const value = readField(fields, path);
    if (value === undefined || value === null) return invalid(`${path}: is required`, userId);
  }
  for (const [path, type] of Object.entries(stream.validation.types)) {
    const value = readField(fields, path);
    if (value !== undefined && value !== null && typeof value !== type) {
      return invalid(`${path}: must be a ${type}`, userId);
    }
  }

  const rawValue = readField(fields, names.value);
  let value: string | undefined;
  if (rawValue !== undefined && rawValue !== null) {
    const result = usageValueSchema.safeParse(rawValue);
    if (!result.success) return invalid(`${names.value}: ${firstIssue(result)}`, userId);
    value = canonicalDecimal(result.data);
  }

  const rawTimestamp = readField(fields, names.timestamp);
  let usageTime = arrivalTime;
  if (rawTimestamp !== undefined && rawTimestamp !== null) {
    const result = usageTimestampSchema.safeParse(rawTimestamp);
    if (!result.success) return invalid(`${names.timestamp}: ${firstIssue(result)}`, userId);
    usageTime = typeof result.data === 'number' ? result.data : Date.parse(result.data);
  }
  if (usageTime > arrivalTime + stream.maxFutureSkewSeconds * 1000) {
    return {
      ok: false,
      reason: 'FUTURE_TIMESTAMP',
      message: `${names.timestamp}: ${new Date(usageTime).toISOString()} is in the future`,
      userId,
    };
  }

  const rawEventId = readField(fields, names.eventId);
  let eventId: string | undefined;
  if (rawEventId !== undefined && rawEventId !== null) {
    const candidate =
      typeof rawEventId === 'number' && Number.isFinite(rawEventId)
        ? String(rawEventId)
        : rawEventId;
    const result = eventIdSchema.safeParse(candidate);
    if (!result.success) return invalid(`${names.eventId}: ${firstIssue(result)}`, userId);
    eventId = result.data;
  }

  return { ok: true, record: { userId, value, usageTime, eventId, fields } };
}
