/**
 * The stream operations: `GET /streams`, `GET /streams/{name}` (each stream's meter processor
 * in full, guiding rules with their operator and conditions) and `POST /streams/{name}/dry-run`
 * (what ingestion would do with some records, against the deployed configuration or one in the
 * body; writes nothing).
 */
import { z } from 'zod';
import { type DryRunDeps, dryRunStream } from '../application/stream-dry-run.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { withWarnings } from '../domain/stream-reach.js';
import { type StreamConfig, streamConfigSchema } from '../domain/stream-schemas.js';
import { parseOrThrow } from '../domain/validation.js';
import { jsonResponse } from './responses.js';
import { type Operations, param } from './route-helpers.js';

/** What the API shows of a stream: its whole meter processor, as configured (defaults applied). */
export type StreamView = StreamConfig;

/** The public view of one stream configuration. */
export function streamView(stream: StreamConfig): StreamView {
  return stream;
}

/** At most this many records in one dry run. */
export const MAX_DRY_RUN_RECORDS = 100;

const usageRecordObject = z.record(z.string(), z.unknown());

/** Body of `POST /streams/{name}/dry-run`. */
export const dryRunBodySchema = z.strictObject({
  records: z.union(
    [usageRecordObject, z.array(usageRecordObject).min(1).max(MAX_DRY_RUN_RECORDS)],
    { error: `must be a usage record (a JSON object) or an array of 1 to ${MAX_DRY_RUN_RECORDS}` },
  ),
  configuration: streamConfigSchema
    .optional()
    .describe(
      "a configuration to try instead of the stream's own (same shape as GET /streams/{name}; `name` and `meterKey` must be the stream's)",
    ),
});

/** The configured stream of this name, or NotFoundError. */
export function streamNamed(streams: readonly StreamConfig[], name: string): StreamConfig {
  const stream = streams.find((s) => s.name === name);
  if (!stream) {
    throw new NotFoundError(
      `stream ${name.length > 130 ? `${name.slice(0, 130)}…` : name} not found`,
    );
  }
  return stream;
}

/** The configuration a dry run tries: the body's (for this stream only), or the stream's own. */
function triedConfiguration(
  stream: StreamConfig,
  configuration: StreamConfig | undefined,
): StreamConfig {
  if (configuration === undefined) return stream;
  for (const key of ['name', 'meterKey'] as const) {
    if (configuration[key] !== stream[key]) {
      throw new ValidationError([
        { field: `configuration.${key}`, message: `must be the stream's own (${stream[key]})` },
      ]);
    }
  }
  return configuration;
}

/** The stream operations for the configured streams; dry runs read meters through `dryRun`. */
export function streamOperations(streams: readonly StreamConfig[], dryRun: DryRunDeps) {
  const body = { streams: streams.map(streamView) };
  return {
    listStreams: async () => jsonResponse(200, body),
    getStream: async (req) =>
      jsonResponse(200, streamView(streamNamed(streams, param(req, 'name')))),
    dryRunStream: async (req) => {
      const stream = streamNamed(streams, param(req, 'name'));
      const input = parseOrThrow(dryRunBodySchema, req.body);
      const tried = triedConfiguration(stream, input.configuration);
      const records = Array.isArray(input.records) ? input.records : [input.records];
      const { results, warnings } = await dryRunStream(dryRun, tried, records);
      return jsonResponse(
        200,
        withWarnings(
          {
            stream: stream.name,
            configuration: input.configuration === undefined ? 'deployed' : 'request',
            results,
          },
          warnings,
        ),
      );
    },
  } satisfies Partial<Operations>;
}
