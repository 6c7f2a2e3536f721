/** The OpenAPI document's word on each operation: summary, body, answers and their meaning. */
import type { z } from 'zod';
import { correctionListQuery } from './data-correction-operations.js';
import { meterListQuery, meterTypeListQuery } from './meter-operations.js';
import { meteredRecordListQuery, meterRecordListQuery } from './metered-record-operations.js';
import type { OperationId } from './route-specs.js';
import { streamVersionsQuery } from './stream-operations.js';

/** What the document says of one operation besides its route. */
export interface OperationDoc {
  tag: string;
  summary: string;
  description?: string;
  query?: z.ZodObject;
  /** Component name of the JSON body. */
  body?: string;
  /** Component name of the 200/201 body. */
  returns?: string;
  created?: boolean;
  /** 202: taken on for processing later (HTTP ingestion). */
  accepted?: boolean;
  noContent?: boolean;
  /** Error codes with what they mean for this operation. */
  errors?: Partial<Record<400 | 404 | 409 | 412 | 422, string>>;
  /** The 200 answer carries the resource's version as `ETag`. */
  etag?: boolean;
  /** The route takes `If-Match` (optimistic concurrency). */
  ifMatch?: boolean;
  /** An example of the JSON body. */
  bodyExample?: unknown;
  /** 413 and 415: the route reads a JSON body. */
  readsBody?: boolean;
  /** 503 with Retry-After: the route reads DynamoDB or the scheduler. */
  mayBeBusy?: boolean;
  /** The 200 answer may also be CSV or NDJSON (by `accept`), its next token in a header. */
  exports?: boolean;
}

/** The document's tags, in the order it lists them. */
export const TAGS = {
  meterTypes: 'meter types',
  meters: 'meters',
  corrections: 'data corrections',
  streams: 'streams',
  history: 'metered records',
  service: 'service',
  ingestion: 'ingestion',
};

/** One entry per operation of the route table; a missing one does not compile. */
export const OPERATIONS: Record<OperationId, OperationDoc> = {
  createMeterType: {
    tag: TAGS.meterTypes,
    summary: 'Create a meter type',
    description:
      'Succeeds with `warnings` when no guiding rule of any stream routes to its category (its meters would get no usage).',
    body: 'MeterTypeCreate',
    returns: 'MeterTypeWithWarnings',
    created: true,
    errors: {
      400: 'the body is invalid',
      409: 'a meter type with this `name` or `externalRef` exists',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  listMeterTypes: {
    tag: TAGS.meterTypes,
    summary: 'List meter types in creation order',
    query: meterTypeListQuery,
    returns: 'MeterTypeList',
    errors: { 400: 'a query parameter is invalid' },
    mayBeBusy: true,
  },
  getMeterType: {
    tag: TAGS.meterTypes,
    summary: 'Read a meter type',
    returns: 'MeterType',
    errors: { 404: 'no such meter type' },
    mayBeBusy: true,
  },
  updateMeterType: {
    tag: TAGS.meterTypes,
    summary: 'Change a meter type',
    description:
      'Any field but `name` and `aggregation`; `null` clears an optional field. A change to `resetSchedule` or `timezone` reaches existing meters from their next period on. Succeeds with `warnings` when no guiding rule of any stream routes to its category.',
    body: 'MeterTypeUpdate',
    returns: 'MeterTypeWithWarnings',
    errors: {
      400: 'the body is invalid, or the merged meter type would be',
      404: 'no such meter type',
      409: 'the new `externalRef` is taken, or the meter type changed meanwhile',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  deleteMeterType: {
    tag: TAGS.meterTypes,
    summary: 'Delete a meter type that has no meters',
    noContent: true,
    errors: { 404: 'no such meter type', 409: 'the meter type still has meters' },
    mayBeBusy: true,
  },
  createMeter: {
    tag: TAGS.meters,
    summary: "Create a meter: one customer's bucket for one meter type",
    description:
      "Its first period starts now and ends at the next firing of its type's reset schedule.",
    body: 'MeterCreate',
    returns: 'Meter',
    created: true,
    errors: {
      400: 'the body is invalid',
      404: 'no stream has this `meterKey`, or no meter type has this id or externalRef',
      409: 'a meter with the same meterKey, meter type and userId exists',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  listMeters: {
    tag: TAGS.meters,
    summary: 'List meters in creation order',
    query: meterListQuery,
    returns: 'MeterList',
    errors: { 400: 'a query parameter is invalid' },
    mayBeBusy: true,
  },
  getMeter: {
    tag: TAGS.meters,
    summary: 'Read a meter with what it inherited, its current period and usage',
    returns: 'Meter',
    errors: { 404: 'no such meter' },
    mayBeBusy: true,
  },
  updateMeter: {
    tag: TAGS.meters,
    summary: 'Change `deleteOnReset` and/or `customFields` of a meter',
    body: 'MeterUpdate',
    returns: 'Meter',
    errors: { 400: 'the body is invalid', 404: 'no such meter' },
    readsBody: true,
    mayBeBusy: true,
  },
  deleteMeter: {
    tag: TAGS.meters,
    summary: 'Delete a meter',
    description:
      'It takes no more usage and leaves the API at once; usage it already counted is sent downstream as a final record.',
    noContent: true,
    errors: { 404: 'no such meter' },
    mayBeBusy: true,
  },
  getSummary: {
    tag: TAGS.service,
    summary: 'Numbers of meter types, categories and meters',
    returns: 'Summary',
    mayBeBusy: true,
  },
  getOpenApiDocument: {
    tag: TAGS.service,
    summary: 'This document',
  },
  listDataCorrections: {
    tag: TAGS.corrections,
    summary: 'List records that could not be metered, oldest first',
    description:
      'Filters combine: `reason`, `userId`, and `from` (inclusive) / `to` (exclusive) on `correctedAt`. Each is served by an index, never a Scan (docs/api.md says what a filter reads).',
    query: correctionListQuery,
    returns: 'DataCorrectionList',
    errors: { 400: 'a query parameter is invalid, or `from` is not before `to`' },
    mayBeBusy: true,
  },
  countDataCorrections: {
    tag: TAGS.corrections,
    summary: 'Open entries (not yet re-sent) per reason',
    description:
      'Exact as of the index, which follows writes within about a second; every reason is listed. Entries that keep only the first bytes of a large record count as open.',
    returns: 'DataCorrectionCounts',
    mayBeBusy: true,
  },
  reprocessDataCorrections: {
    tag: TAGS.corrections,
    summary: 'Put up to 100 open entries matching a filter back on their streams',
    description:
      'Each entry goes through the same claim as POST /corrections/{id}/reprocess, so concurrent calls never re-send a record twice. Call again while `remaining` is true; stop when a call re-sends nothing. Failed entries stay open.',
    body: 'DataCorrectionBulkFilter',
    returns: 'DataCorrectionBulkReprocessResult',
    errors: { 400: 'the body is invalid, names no filter, or `from` is not before `to`' },
    readsBody: true,
    mayBeBusy: true,
  },
  deleteDataCorrections: {
    tag: TAGS.corrections,
    summary: 'Delete up to 100 entries matching a filter, re-sent ones too',
    description: 'Call again while `remaining` is true.',
    body: 'DataCorrectionBulkFilter',
    returns: 'DataCorrectionBulkDeleteResult',
    errors: { 400: 'the body is invalid, names no filter, or `from` is not before `to`' },
    readsBody: true,
    mayBeBusy: true,
  },
  getDataCorrection: {
    tag: TAGS.corrections,
    summary: 'Read a data-correction entry',
    returns: 'DataCorrection',
    errors: { 404: 'no such entry' },
    mayBeBusy: true,
  },
  reprocessDataCorrection: {
    tag: TAGS.corrections,
    summary: 'Put the record back on its stream, at most once',
    description:
      'Re-sends the original bytes with the same partition key, once the cause is fixed (e.g. the missing meter now exists). The record counts at its original event time: its own timestamp, or, without one, the time Kinesis first received it (it then goes back in an envelope that carries that time, the original bytes inside), under the grace and late rules of any late record. A record that can never succeed (not UTF-8, not a JSON object, a missing or invalid user id, value or timestamp, a field the stream requires) is refused with 422 and nothing is written. No body is needed; one that is sent must still be JSON and is ignored.',
    returns: 'DataCorrection',
    errors: {
      400: 'a body was sent and is not valid JSON',
      404: 'no such entry',
      409: 'the entry was already re-sent, or is being re-sent, or keeps only the beginning of a large record',
      422: '`code` `NOT_REPROCESSABLE`: the record can never be metered as it is (the message says why), or its stream is no longer configured; nothing is sent and the entry stays open (one that can never be metered is set aside: bulk re-sends skip it)',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  deleteDataCorrection: {
    tag: TAGS.corrections,
    summary: 'Delete a data-correction entry',
    noContent: true,
    errors: { 404: 'no such entry' },
    mayBeBusy: true,
  },
  listStreams: {
    tag: TAGS.streams,
    summary: "The deployed streams, each with its meter processor's current version",
    description:
      'The stored processor wins; the deployed configuration only seeds version 1 the first time a stream is read. `kinesisStream` is the Kinesis stream it reads.',
    returns: 'StreamList',
    mayBeBusy: true,
  },
  listMeteredRecords: {
    tag: TAGS.history,
    summary: 'List the metered records that were sent, newest period end first',
    description:
      'Give `userId`, `meterId` or `meterTypeId` (each is an index); `meterKey`, `recordType` and `from`/`to` (on `periodEnd`, both inclusive) narrow it. Each record is the JSON that was sent. With `accept: text/csv` or `accept: application/x-ndjson` the page comes as CSV (columns in docs/history.md, nested fields as JSON cells) or one record per line, and the next page token in the `x-next-token` header. A page holds at most `limit` records and about 4 MiB.',
    query: meteredRecordListQuery,
    returns: 'MeteredRecordList',
    errors: {
      400: 'a query parameter is invalid, or none of userId, meterId, meterTypeId is given',
    },
    mayBeBusy: true,
    exports: true,
  },
  getMeteredRecord: {
    tag: TAGS.history,
    summary: 'Read a metered record as it was sent',
    returns: 'MeteredRecord',
    errors: { 404: 'no record with this recordId was sent (or its retention ended)' },
    mayBeBusy: true,
  },
  resendMeteredRecord: {
    tag: TAGS.history,
    summary: 'Send a metered record again to the destination, with the same recordId',
    description:
      'For a consumer that lost it: the same JSON, the same recordId (the de-duplication id on FIFO destinations). No body is needed; one that is sent must still be JSON and is ignored.',
    returns: 'MeteredRecord',
    errors: { 400: 'a body was sent and is not valid JSON', 404: 'no such record' },
    readsBody: true,
    mayBeBusy: true,
  },
  listMeterRecords: {
    tag: TAGS.history,
    summary: "A meter's metered records, newest first, also after the meter was deleted",
    description: 'As `GET /metered-records?meterId=…`, with the same formats.',
    query: meterRecordListQuery,
    returns: 'MeteredRecordList',
    errors: { 400: 'a query parameter is invalid', 404: 'the id is not a meter id' },
    mayBeBusy: true,
    exports: true,
  },
  getUserUsage: {
    tag: TAGS.history,
    summary: "A user's usage: every live meter with its open period and its last final record",
    description:
      "Each meter as `GET /meters/{id}` shows it (current period, value, groups, thresholds reached), plus `lastFinalRecord` (`null` before its first period closed). Meters are looked up under the configured streams' meter keys.",
    returns: 'UserUsage',
    errors: { 400: 'the user id is invalid' },
    mayBeBusy: true,
  },
  getStream: {
    tag: TAGS.streams,
    summary: "A stream's meter processor in full",
    description:
      'Field names, validation, enrichment, guiding rules (with their operator and conditions), carry fields, de-duplication and late policy, defaults applied.',
    returns: 'Stream',
    errors: { 404: 'no such stream' },
    etag: true,
    mayBeBusy: true,
  },
  replaceStream: {
    tag: TAGS.streams,
    summary: "Replace a stream's meter processor (a new version)",
    description:
      'The body is a whole configuration, the shape GET /streams/{name} answers (its read-only `version`, `updatedAt` and `kinesisStream` are ignored, so a GET body can be edited and sent back). `name`, `meterKey` and `shardCount` cannot change. Saves version + 1; ingestion routes records put after the refresh interval (5 s; 10 s at most) by it, each record by the version pinned to its stream position. Send `If-Match` with the ETag of the version you read (`"3"`, `3` or `*`; a weak `W/"3"` matches nothing): a stale one is refused with 412, and of two writers with the same one exactly one wins. Rollback: PUT an old version\'s `configuration` (GET /streams/{name}/versions). `warnings` names each rule that routes to a category no meter type has.',
    body: 'StreamReplace',
    bodyExample: {
      name: 'usage-events',
      meterKey: 'usage-events',
      shardCount: 1,
      guidingRules: [
        {
          name: 'voice',
          conditions: [{ field: 'service', op: 'in', type: 'string', value: ['voice', 'sip'] }],
          category: 'VOICE',
        },
        { name: 'everything-else', category: 'DEFAULT' },
      ],
      deduplication: { enabled: true, windowHours: 24 },
    },
    returns: 'StreamWithWarnings',
    errors: {
      400: 'the configuration is invalid (`issues` name each field), or it changes `name`, `meterKey` or `shardCount`',
      404: 'no such stream',
      412: '`If-Match` names another version than the current one (read it again), or a concurrent save won',
    },
    etag: true,
    ifMatch: true,
    readsBody: true,
    mayBeBusy: true,
  },
  listStreamVersions: {
    tag: TAGS.streams,
    summary: "A stream's processor versions, newest first",
    description:
      'Every version ever saved, with its configuration; versions never change. Data-correction entries name the version that routed their record (`streamVersion`).',
    query: streamVersionsQuery,
    returns: 'StreamVersionList',
    errors: { 400: 'a query parameter is invalid', 404: 'no such stream' },
    mayBeBusy: true,
  },
  dryRunStream: {
    tag: TAGS.streams,
    summary: 'What ingestion would do with some records; writes and counts nothing',
    description:
      "For each record: the result of validation and enrichment, every guiding rule's verdict, the rule and category that route it, the meters of its user it would update (id, meter type, period, group key), or the data-correction reason it would get. Runs the ingestion rules themselves on the meters as they are now, the records of one user in the order given (capacity included); de-duplication by `eventId` is not tried. With `configuration`, tries that configuration instead of the stream's current version. `warnings` names each rule that routes to a category no meter type has.",
    body: 'StreamDryRun',
    returns: 'StreamDryRunResult',
    errors: {
      400: 'the body is invalid, or `configuration` is invalid or names another stream',
      404: 'no such stream',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  ingestUsageRecords: {
    tag: TAGS.ingestion,
    summary: 'Put usage records on the only stream',
    description:
      "For a deployment with one stream; with several, 400 names them (use POST /streams/{name}/records). Each record goes on the stream's Kinesis stream with its user id as partition key, exactly as a producer with the AWS SDK would put it, and is counted (or put into data correction) by ingestion like any other. `results` has one entry per record, in order: its shard and sequence number, or why it was not accepted and whether sending it again can succeed. Resend only the records not accepted. Resending is safe only when records carry an `eventId` and the stream de-duplicates; `warnings` says when not.",
    body: 'UsageRecordBatch',
    returns: 'UsageRecordsAccepted',
    accepted: true,
    errors: {
      400: 'the body is not an array of 1 to 500 records, or there is more than one stream',
    },
    readsBody: true,
    mayBeBusy: true,
  },
  ingestStreamRecords: {
    tag: TAGS.ingestion,
    summary: 'Put usage records on a stream',
    description:
      "Each record goes on the stream's Kinesis stream with its user id as partition key, exactly as a producer with the AWS SDK would put it, and is counted (or put into data correction) by ingestion like any other. `results` has one entry per record, in order: its shard and sequence number, or why it was not accepted and whether sending it again can succeed. Resend only the records not accepted. Resending is safe only when records carry an `eventId` and the stream de-duplicates; `warnings` says when not.",
    body: 'UsageRecordBatch',
    returns: 'UsageRecordsAccepted',
    accepted: true,
    errors: {
      400: 'the body is not an array of 1 to 500 records',
      404: 'no such stream',
    },
    readsBody: true,
    mayBeBusy: true,
  },
};
