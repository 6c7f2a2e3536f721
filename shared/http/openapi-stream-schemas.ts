/**
 * Response schemas of the stream routes, each tied at compile time to the type the handler
 * returns, so the document cannot drift from the code.
 */
import { z } from 'zod';
import type { DryRunResult } from '../domain/dry-run.js';
import { isoTimestamp } from '../domain/schema-primitives.js';
import { streamConfigSchema } from '../domain/stream-schemas.js';
import { CORRECTION_REASONS } from '../ports/data-correction-store.js';
import type { StreamView } from './stream-operations.js';

const readOnlyFields = {
  version: z.number().int().min(1).describe("the processor's version: 1 when seeded, +1 per save"),
  updatedAt: isoTimestamp.describe('when this version was saved'),
  kinesisStream: z.string().describe('the Kinesis stream the processor reads'),
};

/** A stream as the API returns it: its whole meter processor, defaults applied, and its version. */
export const streamResponse = z.strictObject({
  ...streamConfigSchema.shape,
  ...readOnlyFields,
});

const warningsSchema = z
  .array(z.object({ code: z.string(), message: z.string() }))
  .optional()
  .describe('e.g. a rule that routes to a category no meter type has; absent when none');

/** `PUT /streams/{name}`: the new version, with warnings. */
export const streamWithWarningsResponse = z.strictObject({
  ...streamResponse.shape,
  warnings: warningsSchema,
});

/** Body of `PUT /streams/{name}` as documented: a GET body may be sent back as it is. */
export const streamReplaceBody = z.strictObject({
  ...streamConfigSchema.shape,
  version: readOnlyFields.version.optional().describe('read-only: ignored'),
  updatedAt: readOnlyFields.updatedAt.optional().describe('read-only: ignored'),
  kinesisStream: readOnlyFields.kinesisStream.optional().describe('read-only: ignored'),
});

/** `GET /streams/{name}/versions`: the history, newest first. */
export const streamVersionList = z.object({
  versions: z.array(
    z.object({
      version: readOnlyFields.version,
      updatedAt: readOnlyFields.updatedAt,
      configuration: streamConfigSchema,
    }),
  ),
  nextToken: z.string().optional().describe('the next page; absent on the last'),
});

const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One record's outcome in a dry run. */
export const dryRunResultSchema = z.object({
  index: z.number().int().min(0).describe('its position in `records`'),
  outcome: z.enum(['metered', 'data-correction']),
  record: z
    .object({
      userId: z.string(),
      value: z.string().optional().describe('exact decimal; absent without a value'),
      usageTime: isoTimestamp,
      eventId: z.string().optional(),
      fields: z.record(z.string(), z.unknown()).describe('the record after enrichment'),
    })
    .optional()
    .describe('the record after validation and enrichment; absent when it failed them'),
  rules: z
    .array(
      z.object({
        name: z.string(),
        category: z.string(),
        matches: z.boolean().describe('its conditions match the record'),
        hasMeter: z.boolean().describe('the user has a meter in its category'),
      }),
    )
    .optional()
    .describe('every guiding rule in order: the first that matches and has a meter routes'),
  rule: z.string().optional().describe('the rule that routed the record'),
  category: z.string().optional(),
  meters: z
    .array(
      z.object({
        id: z.uuid(),
        meterTypeId: z.uuid(),
        meterTypeName: z.string(),
        category: z.string(),
        placement: z
          .enum(['current', 'next', 'late'])
          .describe('the open period, the one after it, or the open one marked late'),
        periodStart: isoTimestamp,
        periodEnd: isoTimestamp,
        groupKey: z.string().optional(),
        groupValues: z.record(z.string(), fieldValue).optional(),
      }),
    )
    .describe('the meters it would update; empty when it goes to data correction'),
  correction: z
    .object({
      reason: z.enum(CORRECTION_REASONS),
      message: z.string(),
      meterIds: z.array(z.string()).optional(),
    })
    .optional()
    .describe('the data-correction entry it would get'),
});

/** `POST /streams/{name}/dry-run`. */
export const dryRunResponse = z.object({
  stream: z.string(),
  configuration: z
    .enum(['deployed', 'request'])
    .describe("which configuration was tried: the stream's own, or the body's"),
  results: z.array(dryRunResultSchema).describe('one per record, in the order given'),
  warnings: warningsSchema,
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Proven<T extends true> = T;
/** Fails to compile when a response schema and the type the handler returns drift apart. */
export type StreamSchemasMatchTheirTypes = [
  Proven<Same<z.output<typeof streamResponse>, StreamView>>,
  Proven<Same<z.output<typeof dryRunResultSchema>, DryRunResult>>,
];
