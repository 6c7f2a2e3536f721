/**
 * HTTP ingestion: usage records sent over HTTPS are put on the stream's Kinesis stream, each
 * with its user id as partition key and its own bytes, so from there on they take exactly the
 * path of a record a producer put with the AWS SDK (decode, dedup, routing, conditional writes).
 *
 * Steps: (1) judge each record: an object, with a user id usable as a partition key, within
 * Kinesis' 1 MiB per record; (2) put the admitted ones with PutRecords, at most 500 records and
 * 5 MiB per call, in the order given; (3) answer one result per record, in order: where it
 * landed, or why it was not accepted and whether a retry can succeed; (4) warn when a retry
 * of the answer's failures could count a record twice (no `eventId`, or de-duplication off).
 */
import { ServiceUnavailableError } from '../domain/errors.js';
import { readField } from '../domain/guiding.js';
import type { Warning } from '../domain/stream-reach.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { enrich } from '../domain/usage-record.js';
import type { PutRecordsEntry, UsageStreamWriter } from '../ports/usage-stream-writer.js';

/** At most this many records in one request. */
export const MAX_HTTP_RECORDS = 500;
/** Kinesis' limit on one record: its data and its partition key together. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Kinesis' limits on one PutRecords call. */
const MAX_PUT_RECORDS = 500;
const MAX_PUT_BYTES = 5 * 1024 * 1024;
/** Kinesis' limit on a partition key, in Unicode characters. */
const MAX_PARTITION_KEY_LENGTH = 256;

/** Why a record was not accepted. Only the retryable ones can succeed when sent again. */
export const HTTP_RECORD_FAILURES = [
  'NOT_AN_OBJECT',
  'NO_USER_ID',
  'TOO_LARGE',
  'THROTTLED',
  'STREAM_FAILURE',
] as const;
export type HttpRecordFailure = (typeof HTTP_RECORD_FAILURES)[number];

/** One record's outcome, in the order sent. */
export type HttpRecordResult =
  | { index: number; status: 'accepted'; shardId: string; sequenceNumber: string }
  | {
      index: number;
      status: 'rejected';
      reason: HttpRecordFailure;
      message: string;
      /** Whether sending the same record again can succeed (throttling, a stream failure). */
      retryable: boolean;
    };

/** The answer to one request. */
export interface HttpIngestResult {
  stream: string;
  accepted: number;
  rejected: number;
  results: HttpRecordResult[];
  warnings: Warning[];
}

/** One record as sent: the parsed value and, when known, its source text. */
export interface SentRecord {
  value: unknown;
  text?: string;
}

type Admitted = { index: number; entry: PutRecordsEntry };

const encoder = new TextEncoder();

/** Puts the records on the stream (steps in the module comment). */
export async function ingestOverHttp(
  writer: UsageStreamWriter,
  stream: StreamConfig,
  records: readonly SentRecord[],
): Promise<HttpIngestResult> {
  const results: (HttpRecordResult | undefined)[] = new Array(records.length);
  const admitted: Admitted[] = [];
  const withoutEventId: number[] = [];
  records.forEach((record, index) => {
    const judged = judge(stream, record, index);
    if ('status' in judged) results[index] = judged;
    else {
      admitted.push({ index, entry: judged.entry });
      if (!judged.hasEventId) withoutEventId.push(index);
    }
  });
  await putAll(writer, stream.name, admitted, results);
  const done = results.map((result, index) => result ?? failedPut(index, 'no answer'));
  const accepted = done.filter((result) => result.status === 'accepted').length;
  return {
    stream: stream.name,
    accepted,
    rejected: done.length - accepted,
    results: done,
    warnings: retryWarnings(stream, withoutEventId),
  };
}

/** A record's entry for PutRecords, or why it cannot be put. */
function judge(
  stream: StreamConfig,
  record: SentRecord,
  index: number,
): HttpRecordResult | { entry: PutRecordsEntry; hasEventId: boolean } {
  const { value } = record;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return refused(index, 'NOT_AN_OBJECT', 'a usage record must be a JSON object');
  }
  // Ingestion reads the user id and eventId after enrichment (a rename may supply them).
  // Enrichment changes nested objects in place, so it works on a copy parsed from the text
  // (JSON.parse read that text already; no recursive copy meets a deeply nested record).
  const text = record.text ?? JSON.stringify(value);
  const fields = enriches(stream)
    ? (JSON.parse(text) as Record<string, unknown>)
    : (value as Record<string, unknown>);
  enrich(fields, stream.enrichment);
  const userIdField = stream.fields.userId;
  const userId = readField(fields, userIdField);
  if (
    typeof userId !== 'string' ||
    userId.length === 0 ||
    userId.length > MAX_PARTITION_KEY_LENGTH
  ) {
    return refused(
      index,
      'NO_USER_ID',
      `${userIdField} must be a string of 1 to ${MAX_PARTITION_KEY_LENGTH} characters (it is the partition key)`,
    );
  }
  const data = encoder.encode(text);
  const size = data.byteLength + encoder.encode(userId).byteLength;
  if (size > MAX_RECORD_BYTES) {
    return refused(
      index,
      'TOO_LARGE',
      `the record and its partition key take ${size} bytes; Kinesis takes at most ${MAX_RECORD_BYTES}`,
    );
  }
  const eventId = readField(fields, stream.fields.eventId);
  return {
    entry: { partitionKey: userId, data },
    hasEventId: eventId !== undefined && eventId !== null,
  };
}

function enriches(stream: StreamConfig): boolean {
  const { rename, defaults, static: fixed } = stream.enrichment;
  return [rename, defaults, fixed].some((part) => Object.keys(part).length > 0);
}

function refused(index: number, reason: HttpRecordFailure, message: string): HttpRecordResult {
  return { index, status: 'rejected', reason, message, retryable: false };
}

function failedPut(index: number, message: string): HttpRecordResult {
  return { index, status: 'rejected', reason: 'STREAM_FAILURE', message, retryable: true };
}

/**
 * Puts the admitted records in calls of at most 500 records and 5 MiB, in order. A call that
 * fails as a whole after an earlier one succeeded marks its records as failed (the client must
 * not resend the accepted ones); when nothing was accepted yet, its 503 is the answer.
 */
async function putAll(
  writer: UsageStreamWriter,
  streamName: string,
  admitted: readonly Admitted[],
  results: (HttpRecordResult | undefined)[],
): Promise<void> {
  let anyAccepted = false;
  for (const chunk of chunks(admitted)) {
    let outcomes: Awaited<ReturnType<UsageStreamWriter['putRecords']>>;
    try {
      outcomes = await writer.putRecords(
        streamName,
        chunk.map(({ entry }) => entry),
      );
    } catch (error) {
      if (!anyAccepted || !(error instanceof ServiceUnavailableError)) throw error;
      for (const { index } of chunk) results[index] = failedPut(index, error.message);
      continue;
    }
    chunk.forEach(({ index }, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) {
        anyAccepted = true;
        results[index] = {
          index,
          status: 'accepted',
          shardId: outcome.shardId,
          sequenceNumber: outcome.sequenceNumber,
        };
      } else if (outcome) {
        const throttled = outcome.errorCode === 'ProvisionedThroughputExceededException';
        results[index] = {
          index,
          status: 'rejected',
          reason: throttled ? 'THROTTLED' : 'STREAM_FAILURE',
          message: `${outcome.errorCode}: ${outcome.errorMessage}`,
          retryable: true,
        };
      }
    });
  }
}

/** The admitted records in PutRecords-sized calls, order kept. */
function chunks(admitted: readonly Admitted[]): Admitted[][] {
  const calls: Admitted[][] = [];
  let current: Admitted[] = [];
  let bytes = 0;
  for (const record of admitted) {
    const size =
      record.entry.data.byteLength + encoder.encode(record.entry.partitionKey).byteLength;
    if (
      current.length === MAX_PUT_RECORDS ||
      (current.length > 0 && bytes + size > MAX_PUT_BYTES)
    ) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/** Whether retrying the failed records is safe for each record, and what to do where it is not. */
function retryWarnings(stream: StreamConfig, withoutEventId: readonly number[]): Warning[] {
  if (!stream.deduplication.enabled) {
    return [
      {
        code: 'DEDUPLICATION_OFF',
        message: `stream ${stream.name} does not de-duplicate by ${stream.fields.eventId}: resend only the records not accepted; a record sent twice counts twice`,
      },
    ];
  }
  if (withoutEventId.length === 0) return [];
  const shown = withoutEventId.slice(0, 20).join(', ');
  const more = withoutEventId.length > 20 ? `, … (${withoutEventId.length} in all)` : '';
  return [
    {
      code: 'NO_EVENT_ID',
      message: `records without ${stream.fields.eventId} cannot be de-duplicated: a record sent twice counts twice (indexes ${shown}${more})`,
    },
  ];
}
