/**
 * Body and answer schemas of HTTP ingestion, the answer tied at compile time to the type the
 * handler returns.
 */
import { z } from 'zod';
import {
  HTTP_RECORD_FAILURES,
  type HttpRecordResult,
  MAX_HTTP_RECORDS,
} from '../application/http-ingest.js';
import type { HttpIngestResponse } from './ingest-operations.js';

/** Body of `POST /usage-records` and `POST /streams/{name}/records`. */
export const usageRecordBatchSchema = z
  .array(z.record(z.string(), z.unknown()))
  .min(1)
  .max(MAX_HTTP_RECORDS);

const acceptedRecord = z.strictObject({
  index: z.number().int().min(0).describe('its position in the body'),
  status: z.literal('accepted'),
  shardId: z.string(),
  sequenceNumber: z.string().describe('its Kinesis sequence number'),
});

const rejectedRecord = z.strictObject({
  index: z.number().int().min(0).describe('its position in the body'),
  status: z.literal('rejected'),
  reason: z
    .enum(HTTP_RECORD_FAILURES)
    .describe(
      '`NOT_AN_OBJECT`, `NO_USER_ID` (no user id usable as partition key), `TOO_LARGE` (over Kinesis 1 MiB): fix the record; `THROTTLED`, `STREAM_FAILURE`: send it again',
    ),
  message: z.string(),
  retryable: z.boolean().describe('whether sending the same record again can succeed'),
});

/** One record's outcome. */
export const httpRecordResultSchema = z.discriminatedUnion('status', [
  acceptedRecord,
  rejectedRecord,
]);

/** The 202 answer. */
export const httpIngestResponse = z.strictObject({
  stream: z.string().describe('the stream the records were put on'),
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  results: z.array(httpRecordResultSchema).describe('one per record, in the order sent'),
  warnings: z
    .array(z.strictObject({ code: z.string(), message: z.string() }))
    .optional()
    .describe(
      '`DEDUPLICATION_OFF` or `NO_EVENT_ID`: resending a record could count it twice; absent when none',
    ),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Proven<T extends true> = T;
/** Fails to compile when the answer's schema and the handler's type drift apart. */
export type IngestSchemasMatchTheirTypes = [
  Proven<Same<z.output<typeof httpRecordResultSchema>, HttpRecordResult>>,
  Proven<Same<z.output<typeof httpIngestResponse>, HttpIngestResponse>>,
];
