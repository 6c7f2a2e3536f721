/**
 * The stream operations: `GET /streams`, `GET /streams/{name}` (each stream's meter processor
 * in full, with its version), `PUT /streams/{name}` (a new version, optimistic concurrency with
 * `If-Match`/`ETag`), `GET /streams/{name}/versions` (the history) and
 * `POST /streams/{name}/dry-run` (what ingestion would do with some records, against the current
 * version or a configuration in the body; writes nothing).
 */
import { z } from 'zod';
import { type DryRunDeps, dryRunStream } from '../application/stream-dry-run.js';
import {
  listProcessors,
  listProcessorVersions,
  processorNamed,
  replaceProcessor,
  type StreamProcessorDeps,
  type VersionPrecondition,
} from '../application/stream-processors.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { jsonArrayElementTexts, jsonObjectMemberTexts } from '../domain/json-array-elements.js';
import { containerDepth } from '../domain/schema-primitives.js';
import type { StreamProcessor } from '../domain/stream-processor.js';
import { withWarnings } from '../domain/stream-reach.js';
import { type StreamConfig, streamConfigSchema } from '../domain/stream-schemas.js';
import { parseOrThrow } from '../domain/validation.js';
import { jsonResponse } from './responses.js';
import { type Operations, pagingQuery, param } from './route-helpers.js';

/**
 * What the API shows of a stream: its whole meter processor as stored (defaults applied), its
 * version, when that was saved, and the Kinesis stream it reads.
 */
export type StreamView = StreamConfig & {
  version: number;
  updatedAt: string;
  kinesisStream: string;
};

/** The public view of one stream's processor. */
export function streamView(
  processor: StreamProcessor,
  kinesisNames: Readonly<Record<string, string>> = {},
): StreamView {
  const { configuration } = processor;
  return {
    ...configuration,
    version: processor.version,
    updatedAt: processor.updatedAt,
    kinesisStream: kinesisNames[configuration.name] ?? configuration.name,
  };
}

/** The strong ETag of a version: `"3"`. */
export function versionTag(version: number): string {
  return `"${version}"`;
}

/**
 * What an `If-Match` header asks: `*`, or the versions of its entity tags (`"3"` and `3` name
 * version 3). If-Match compares strongly (RFC 9110, 13.1.1): a weak tag such as `W/"3"`, like a
 * tag that names no version, matches nothing.
 */
export function parseIfMatch(header: string | undefined): VersionPrecondition | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return '*';
  return header.split(',').flatMap((tag) => {
    const match = /^\s*"?(\d{1,10})"?\s*$/.exec(tag);
    return match ? [Number(match[1])] : [];
  });
}

/** At most this many records in one dry run. */
export const MAX_DRY_RUN_RECORDS = 100;

/**
 * How deep a dry run's record may nest. Ingestion reads any JSON it can parse, but a dry run
 * answers with the record it read, and no answer can show a record nested without bound.
 */
export const MAX_DRY_RUN_DEPTH = 100;

const usageRecordObject = z
  .record(z.string(), z.unknown())
  // The record object is the first level, each object or array in it one more.
  .refine((record) => containerDepth(record, MAX_DRY_RUN_DEPTH) <= MAX_DRY_RUN_DEPTH, {
    error: `must not be nested deeper than ${MAX_DRY_RUN_DEPTH} levels`,
  });

/** Body of `POST /streams/{name}/dry-run`. */
export const dryRunBodySchema = z.strictObject({
  records: z
    .union([usageRecordObject, z.array(usageRecordObject).min(1).max(MAX_DRY_RUN_RECORDS)], {
      error: `must be a usage record (a JSON object) or an array of 1 to ${MAX_DRY_RUN_RECORDS}`,
    })
    .describe(
      `one usage record (a JSON object) or an array of 1 to ${MAX_DRY_RUN_RECORDS}; each nested at most ${MAX_DRY_RUN_DEPTH} levels, the record itself the first`,
    ),
  configuration: streamConfigSchema
    .optional()
    .describe(
      "a configuration to try instead of the stream's own (same shape as GET /streams/{name}; `name` and `meterKey` must be the stream's)",
    ),
});

/**
 * The JSON text of each record of a dry run's body as sent (see `dryRunStream`); undefined when
 * the body's text is not at hand or does not split into as many records as were parsed.
 */
function recordTexts(
  bodyText: string | undefined,
  count: number,
  isArray: boolean,
): string[] | undefined {
  const member =
    bodyText === undefined ? undefined : jsonObjectMemberTexts(bodyText)?.get('records');
  if (member === undefined) return undefined;
  const texts = isArray ? jsonArrayElementTexts(member) : [member];
  return texts?.length === count ? texts : undefined;
}

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

/** Query of `GET /streams/{name}/versions`. */
export const streamVersionsQuery = z.strictObject(pagingQuery);

/** What the stream operations need: the processors, categories, Kinesis names, dry-run reads. */
export interface StreamOperationDeps extends StreamProcessorDeps {
  dryRun: DryRunDeps;
  /** The Kinesis stream name of each stream, where CloudFormation named them. */
  kinesisNames?: Readonly<Record<string, string>>;
}

/** The stream operations, over the stored processors of the deployed streams. */
export function streamOperations(deps: StreamOperationDeps) {
  const view = (processor: StreamProcessor) => streamView(processor, deps.kinesisNames);
  const etag = (processor: StreamProcessor) => ({ etag: versionTag(processor.version) });
  return {
    listStreams: async () => jsonResponse(200, { streams: (await listProcessors(deps)).map(view) }),
    getStream: async (req) => {
      const processor = await processorNamed(deps, param(req, 'name'));
      return jsonResponse(200, view(processor), etag(processor));
    },
    replaceStream: async (req) => {
      const { processor, warnings } = await replaceProcessor(
        { ...deps, categories: deps.dryRun.categories },
        param(req, 'name'),
        req.body,
        parseIfMatch(req.ifMatch),
      );
      return jsonResponse(200, withWarnings(view(processor), warnings), etag(processor));
    },
    listStreamVersions: async (req) => {
      const query = parseOrThrow(streamVersionsQuery, req.query);
      const page = await listProcessorVersions(
        deps,
        param(req, 'name'),
        query.limit,
        query.nextToken,
      );
      return jsonResponse(200, {
        versions: page.items.map(({ version, updatedAt, configuration }) => ({
          version,
          updatedAt,
          configuration,
        })),
        nextToken: page.nextToken,
      });
    },
    dryRunStream: async (req) => {
      const stream = (await processorNamed(deps, param(req, 'name'))).configuration;
      const input = parseOrThrow(dryRunBodySchema, req.body);
      const tried = triedConfiguration(stream, input.configuration);
      const records = Array.isArray(input.records) ? input.records : [input.records];
      const { results, warnings } = await dryRunStream(
        deps.dryRun,
        tried,
        records,
        recordTexts(req.bodyText, records.length, Array.isArray(input.records)),
      );
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
