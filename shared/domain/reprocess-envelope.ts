/**
 * How a record re-sent from data correction keeps its original event time (DOMAIN.md: "a record
 * reprocessed from data correction counts at its original event time"). A record with its own
 * timestamp goes back on its stream byte for byte. One without goes back in an envelope that
 * names when Kinesis first received it, since a re-put record gets a new arrival time:
 *
 *   {"reprocessedFromDataCorrection":{"receivedAt":"2025-01-15T10:00:00.000Z"},"record":<bytes>}
 *
 * The original bytes sit verbatim inside (never re-serialized, so no number loses digits), at
 * fixed offsets, so ingestion takes them out without parsing the envelope. A producer that
 * wrote an envelope itself gains nothing it could not do with a `timestamp` field. Pure.
 */
import { readField } from './guiding.js';
import type { StreamConfig } from './stream-schemas.js';
import { parseUsageRecord } from './usage-record.js';

const PREFIX = Buffer.from('{"reprocessedFromDataCorrection":{"receivedAt":"', 'utf8');
const MIDDLE = Buffer.from('"},"record":', 'utf8');
/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, as `toISOString` writes it. */
const ISO_LENGTH = 24;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CLOSING_BRACE = 0x7d;

/** The original bytes in the envelope, with the time Kinesis first received them (ISO). */
export function wrapForReprocess(original: Uint8Array, receivedAt: string): Uint8Array {
  const iso = new Date(receivedAt).toISOString();
  return new Uint8Array(
    Buffer.concat([PREFIX, Buffer.from(iso, 'utf8'), MIDDLE, original, Buffer.from('}')]),
  );
}

/** A re-sent record's original bytes and first arrival (epoch ms); undefined for any other record. */
export function unwrapReprocessed(
  data: Uint8Array,
): { data: Uint8Array; firstArrivalTime: number } | undefined {
  // The first bytes tell at once: almost every record differs from the prefix by its second byte.
  const start = PREFIX.length + ISO_LENGTH + MIDDLE.length;
  if (data.length <= start || data[1] !== PREFIX[1] || data[2] !== PREFIX[2]) return undefined;
  if (data[data.length - 1] !== CLOSING_BRACE) return undefined;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!bytes.subarray(0, PREFIX.length).equals(PREFIX)) return undefined;
  if (!bytes.subarray(PREFIX.length + ISO_LENGTH, start).equals(MIDDLE)) return undefined;
  const iso = bytes.toString('utf8', PREFIX.length, PREFIX.length + ISO_LENGTH);
  const firstArrivalTime = ISO.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(firstArrivalTime)) return undefined;
  return { data: new Uint8Array(bytes.subarray(start, data.length - 1)), firstArrivalTime };
}

/** What re-sending a data-correction entry puts on its stream, or why it never can succeed. */
export type ReprocessPayload = { ok: true; data: Uint8Array } | { ok: false; message: string };

/**
 * The bytes to put back on the stream for an entry's original record, judged by ingestion's own
 * parsing: a record ingestion would refuse as invalid whatever meters exist (not UTF-8, not a
 * JSON object, a missing or invalid user id, value or timestamp, a field the stream requires)
 * can never succeed, and is not re-sent. A record without its own timestamp is wrapped with its
 * first arrival (`receivedAt`), so it counts at its original event time.
 */
export function reprocessPayload(
  original: Uint8Array,
  receivedAt: string,
  stream: StreamConfig,
  now: Date,
): ReprocessPayload {
  const parsed = parseUsageRecord(original, now.getTime(), stream);
  if (!parsed.ok && parsed.reason === 'INVALID_RECORD') {
    return { ok: false, message: parsed.message };
  }
  // Only a record's own timestamp can be in the future (its arrival, the default, never is).
  const ownTime = parsed.ok ? readField(parsed.record.fields, stream.fields.timestamp) : true;
  const hasOwnTime = ownTime !== undefined && ownTime !== null;
  return { ok: true, data: hasOwnTime ? original : wrapForReprocess(original, receivedAt) };
}
