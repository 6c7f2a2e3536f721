/**
 * Reads the Lambdas' settings from the environment once, at start-up, and fails loudly when
 * one is missing. The names come from ENV, which the CDK code uses too.
 */
import { z } from 'zod';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../domain/record-history.js';
import { ENV } from './env-names.js';

/** Where metered records go: an SQS queue, an SNS topic, or (locally) a JSON-lines file. */
export type Destination =
  | { kind: 'sqs'; queueUrl: string }
  | { kind: 'sns'; topicArn: string }
  | { kind: 'file'; path: string };

const required = z.string({ error: 'is not set' }).min(1, { error: 'is empty' });

/** Parses the named environment variables with `shape`; throws one error naming each problem. */
export function readEnvironment<T extends z.ZodRawShape>(
  shape: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return result.data;
}

/**
 * STREAM_NAMES: each configured stream's Kinesis stream name, as JSON `{ "usage-events":
 * "Stack-StreamUsageEvents-AbC123" }`. Absent (the local stack), a stream is named as configured.
 */
export function readStreamNames(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const text = env[ENV.streamNames];
  if (text === undefined || text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`invalid configuration: ${ENV.streamNames} is not JSON`);
  }
  const parsed = z.record(z.string(), z.string().min(1)).safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration: ${ENV.streamNames} must map stream names to Kinesis stream names`,
    );
  }
  return parsed.data;
}

/**
 * STREAM_RETENTION_HOURS: how long the Kinesis streams keep a record (24 to 8760 hours), in ms;
 * undefined when not set (ingestion then assumes Kinesis's longest retention).
 */
export function readStreamRetentionMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const hours = readEnvironment(
    {
      [ENV.streamRetentionHours]: z.coerce
        .number({ error: 'must be a whole number of hours' })
        .int({ error: 'must be a whole number of hours' })
        .min(24, { error: 'must be 24 to 8760 hours' })
        .max(8760, { error: 'must be 24 to 8760 hours' })
        .optional(),
    },
    env,
  )[ENV.streamRetentionHours];
  return hours === undefined ? undefined : hours * 60 * 60 * 1000;
}

/** SCHEDULE_FLEXIBLE_WINDOW_MINUTES: 0 (exact, the default) to 1440. */
const flexibleWindowMinutes = z.coerce
  .number({ error: 'must be a whole number of minutes' })
  .int({ error: 'must be a whole number of minutes' })
  .min(0)
  .max(1440)
  .default(0);

/** HISTORY_RETENTION_DAYS: how long metered records are kept after their period end (1 to 3650 days). */
const historyRetentionDays = z.coerce
  .number({ error: 'must be a whole number of days' })
  .int({ error: 'must be a whole number of days' })
  .min(1)
  .max(3650)
  .default(DEFAULT_HISTORY_RETENTION_DAYS);

/** Settings of the API Lambda. */
export function readApiConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnvironment(
    {
      [ENV.tableName]: required,
      [ENV.scheduleGroupName]: required,
      [ENV.resetFunctionArn]: required,
      [ENV.schedulerRoleArn]: required,
      [ENV.scheduleDeadLetterQueueArn]: z.string().optional(),
      [ENV.scheduleFlexibleWindowMinutes]: flexibleWindowMinutes,
      [ENV.streamsConfig]: required,
    },
    env,
  );
}

/** The destination of metered records, from DESTINATION_KIND and DESTINATION_ARN / DESTINATION_QUEUE_URL. */
export function readDestination(env: NodeJS.ProcessEnv = process.env): Destination {
  const values = readEnvironment(
    {
      [ENV.destinationKind]: z.enum(['sqs', 'sns'], { error: 'must be sqs or sns' }),
      [ENV.destinationArn]: z.string().optional(),
      [ENV.destinationQueueUrl]: z.string().optional(),
    },
    env,
  );
  if (values[ENV.destinationKind] === 'sqs') {
    const queueUrl = values[ENV.destinationQueueUrl];
    if (!queueUrl) throw new Error(`invalid configuration: ${ENV.destinationQueueUrl} is not set`);
    return { kind: 'sqs', queueUrl };
  }
  const topicArn = values[ENV.destinationArn];
  if (!topicArn) throw new Error(`invalid configuration: ${ENV.destinationArn} is not set`);
  return { kind: 'sns', topicArn };
}

/** Settings of the reset and sweeper Lambdas (and the ingest Lambda's prompt partial pushes). */
export function readPeriodEndConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    ...readEnvironment(
      {
        [ENV.tableName]: required,
        [ENV.streamsConfig]: required,
        [ENV.scheduleGroupName]: required,
        // The reset Lambda schedules itself and takes its ARN from its invocation context.
        [ENV.resetFunctionArn]: z.string().optional(),
        [ENV.schedulerRoleArn]: required,
        [ENV.scheduleDeadLetterQueueArn]: z.string().optional(),
        [ENV.scheduleFlexibleWindowMinutes]: flexibleWindowMinutes,
        [ENV.historyRetentionDays]: historyRetentionDays,
      },
      env,
    ),
    destination: readDestination(env),
  };
}
