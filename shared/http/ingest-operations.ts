/**
 * HTTP ingestion: `POST /usage-records` (the only stream) and `POST /streams/{name}/records`.
 * The body is a JSON array of 1 to 500 usage records; the answer (202) says, per record in
 * order, where it landed on the stream or why it was not accepted.
 */
import {
  type HttpIngestResult,
  ingestOverHttp,
  MAX_HTTP_RECORDS,
  type SentRecord,
} from '../application/http-ingest.js';
import { BadRequestError, NotFoundError, ValidationError } from '../domain/errors.js';
import { jsonArrayElementTexts } from '../domain/json-array-elements.js';
import { withWarnings } from '../domain/stream-reach.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { UsageStreamWriter } from '../ports/usage-stream-writer.js';
import { jsonResponse } from './responses.js';
import { type ApiRequest, type Operations, param } from './route-helpers.js';
import { streamNamed } from './stream-operations.js';

/** What `POST /usage-records` and `POST /streams/{name}/records` answer (202). */
export type HttpIngestResponse = Omit<HttpIngestResult, 'warnings'> & {
  warnings?: HttpIngestResult['warnings'];
};

/** The records of the body, each with its own text; 400 unless an array of 1 to 500. */
export function sentRecords(request: Pick<ApiRequest, 'body' | 'bodyText'>): SentRecord[] {
  const { body } = request;
  if (!Array.isArray(body)) {
    throw new ValidationError([
      { field: '(body)', message: 'the body must be a JSON array of usage records (objects)' },
    ]);
  }
  if (body.length < 1 || body.length > MAX_HTTP_RECORDS) {
    throw new ValidationError([
      {
        field: '(body)',
        message: `must hold 1 to ${MAX_HTTP_RECORDS} usage records, not ${body.length}`,
      },
    ]);
  }
  const texts =
    request.bodyText === undefined ? undefined : jsonArrayElementTexts(request.bodyText);
  // The texts come from the same bytes JSON.parse read; a mismatch would be a bug of the
  // splitter, and then the parsed values are put as JSON (numbers may lose digits).
  const usable = texts !== undefined && texts.length === body.length;
  return body.map((value, i) => (usable ? { value, text: texts[i] } : { value }));
}

/** The stream of `POST /usage-records`: the only one, else 400 naming them. */
function onlyStream(streams: readonly StreamConfig[]): StreamConfig {
  const [first, ...others] = streams;
  if (first === undefined) throw new NotFoundError('no stream is configured');
  if (others.length > 0) {
    throw new BadRequestError(
      `there are ${streams.length} streams (${streams.map((s) => s.name).join(', ')}): send to POST /streams/{name}/records`,
    );
  }
  return first;
}

async function ingest(writer: UsageStreamWriter, stream: StreamConfig, records: SentRecord[]) {
  const { warnings, ...result } = await ingestOverHttp(writer, stream, records);
  const answer: HttpIngestResponse = withWarnings(result, warnings);
  return jsonResponse(202, answer);
}

/**
 * The HTTP ingestion operations, putting records with `writer` on the deployed streams; each
 * record's user id (its partition key) is read with the stream's current processor (`current`).
 */
export function ingestOperations(
  streams: readonly StreamConfig[],
  writer: UsageStreamWriter,
  current: (name: string) => Promise<StreamConfig>,
) {
  return {
    ingestUsageRecords: async (req) => {
      const { name } = onlyStream(streams);
      // The body before the processor is read: a bad body is 400 without touching the table.
      const records = sentRecords(req);
      return ingest(writer, await current(name), records);
    },
    ingestStreamRecords: async (req) => {
      // The stream first: a wrong name is 404 whatever the body.
      const { name } = streamNamed(streams, param(req, 'name'));
      const records = sentRecords(req);
      return ingest(writer, await current(name), records);
    },
  } satisfies Partial<Operations>;
}
