/**
 * A stream's meter processor as stored data (DOMAIN.md "Streams"): its configuration, a version
 * counted from 1 and when it was saved. Every save makes a new, immutable version; the deployed
 * configuration only seeds version 1. Pure.
 */
import { type FieldIssue, ValidationError } from './errors.js';
import type { StreamConfig } from './stream-schemas.js';
import { streamConfigSchema } from './stream-schemas.js';
import { EDGE_PARSE, toFieldIssues } from './validation.js';

/** One version of a stream's meter processor. */
export interface StreamProcessor {
  configuration: StreamConfig;
  /** 1 for the seeded configuration, one more for every save. */
  version: number;
  /** When this version was saved (ISO-8601 UTC). */
  updatedAt: string;
}

/** What GET shows and a PUT may send back: these fields are read-only and ignored on a PUT. */
export const READ_ONLY_STREAM_FIELDS = ['version', 'updatedAt', 'kinesisStream'] as const;

/** What a stream's Kinesis stream, and so its processor's identity, fixes: never changed by a PUT. */
export const FIXED_STREAM_FIELDS = ['name', 'meterKey', 'shardCount'] as const;

/**
 * Validates a replacement configuration of `current`'s stream: the body is a whole
 * configuration (read-only fields ignored); the fixed fields must keep their values.
 * Throws ValidationError naming every field at fault.
 */
export function replacementConfiguration(current: StreamConfig, body: unknown): StreamConfig {
  const input =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? Object.fromEntries(
          Object.entries(body).filter(
            ([key]) => !(READ_ONLY_STREAM_FIELDS as readonly string[]).includes(key),
          ),
        )
      : body;
  const parsed = streamConfigSchema.safeParse(input, EDGE_PARSE);
  const issues: FieldIssue[] = parsed.success ? [] : toFieldIssues(parsed.error, true);
  if (parsed.success) {
    for (const field of FIXED_STREAM_FIELDS) {
      if (parsed.data[field] !== current[field]) {
        issues.push({
          field,
          message: `cannot change (it is ${JSON.stringify(current[field])}; the Kinesis stream fixes it)`,
        });
      }
    }
  }
  if (!parsed.success || issues.length > 0) {
    throw new ValidationError(issues, parsed.success ? {} : { cause: parsed.error });
  }
  return parsed.data;
}

/** The version after `current`, saved at `now`. */
export function nextProcessor(
  current: StreamProcessor,
  configuration: StreamConfig,
  now: Date,
): StreamProcessor {
  return { configuration, version: current.version + 1, updatedAt: now.toISOString() };
}

/** Version 1, seeded from the deployed configuration. */
export function seededProcessor(configuration: StreamConfig, now: Date): StreamProcessor {
  return { configuration, version: 1, updatedAt: now.toISOString() };
}
