/**
 * The stream (meter processor) configuration. The CDK app and the local stack validate it
 * with zod at start; the ingest Lambda receives it as JSON in its environment.
 */
import type { z } from 'zod';
import { describeIssues, ServiceError } from '../domain/errors.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { streamsConfigSchema } from '../domain/stream-schemas.js';
import { EDGE_PARSE, toFieldIssues } from '../domain/validation.js';

/** What a stream configuration may say before defaults are applied. */
export type StreamsConfigInput = z.input<typeof streamsConfigSchema>;

/**
 * The shipped configuration: one stream, `usage-events`, whose meter key is `usage-events`.
 * Records with `"service": "voice"` go to meters of category VOICE, grouped by `region`;
 * everything goes to meters of category DEFAULT.
 */
export const DEFAULT_STREAMS: StreamsConfigInput = [
  {
    name: 'usage-events',
    meterKey: 'usage-events',
    description: 'Usage records of every product; put them with the AWS SDK or CLI.',
    shardCount: 1,
    fields: { userId: 'userId', value: 'value', timestamp: 'timestamp', eventId: 'eventId' },
    guidingRules: [
      {
        name: 'voice',
        operator: 'AND',
        conditions: [{ field: 'service', type: 'string', value: 'voice' }],
        category: 'VOICE',
        groupBy: ['region'],
      },
      { name: 'everything-else', category: 'DEFAULT' },
    ],
    carryFirst: [],
    carryLast: [],
    deduplication: { enabled: true, windowHours: 24 },
    lateRecordPolicy: 'count-in-current-period',
  },
];

/** Raised at start-up when the stream configuration is invalid. */
export class InvalidStreamsConfigError extends ServiceError {
  override readonly name = 'InvalidStreamsConfigError';
}

/** Validates a stream configuration (an object, or its JSON text), applying defaults. */
export function parseStreamsConfig(input: unknown): StreamConfig[] {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new InvalidStreamsConfigError('the stream configuration is not valid JSON', {
        cause: error,
      });
    }
  }
  const result = streamsConfigSchema.safeParse(value, EDGE_PARSE);
  if (!result.success) {
    throw new InvalidStreamsConfigError(
      `invalid stream configuration: ${describeIssues(toFieldIssues(result.error, true))}`,
      {
        cause: result.error,
      },
    );
  }
  return result.data;
}
