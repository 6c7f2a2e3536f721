/**
 * Reads the Lambdas' settings from the environment once, at start-up, and fails loudly when
 * one is missing. The names come from ENV, which the CDK code uses too.
 */
import { z } from 'zod';
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

/** Settings of the API Lambda's extra routes and the ingest Lambda: the stream configuration. */
export function readIngestConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnvironment({ [ENV.tableName]: required, [ENV.streamsConfig]: required }, env);
}
