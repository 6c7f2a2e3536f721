/**
 * Reads the Lambdas' settings from the environment once, at start-up, and fails loudly when
 * one is missing. The names come from ENV, which the CDK code uses too.
 */
import { z } from 'zod';
import type { Destination } from '../adapters/publisher-from-config.js';
import { ENV } from './env-names.js';

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

/** Settings of the API Lambda. */
export function readApiConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnvironment(
    {
      [ENV.tableName]: required,
      [ENV.scheduleGroupName]: required,
      [ENV.resetFunctionArn]: required,
      [ENV.schedulerRoleArn]: required,
      [ENV.scheduleDeadLetterQueueArn]: z.string().optional(),
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
      },
      env,
    ),
    destination: readDestination(env),
  };
}
