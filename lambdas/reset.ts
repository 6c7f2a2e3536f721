/** Reset Lambda: EventBridge Scheduler `{ meterId, periodEnd }` → period-end flush → SQS/SNS. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import type { PeriodEndDeps } from '../shared/application/period-end.js';
import { flushMeter } from '../shared/application/period-end.js';
import { readPeriodEndConfig } from '../shared/config/runtime-config.js';
import { isoTimestamp } from '../shared/domain/schemas.js';
import { periodEndDeps } from './wiring/period-end.js';

const config = readPeriodEndConfig();
const documentClient = createDocumentClient();
const logger = new Logger({ serviceName: 'reset' });
const triggerSchema = z.strictObject({ meterId: z.uuid(), periodEnd: isoTimestamp });
let deps: PeriodEndDeps | undefined;

export const handler = async (event: unknown, context: Context) => {
  const trigger = triggerSchema.safeParse(event);
  if (!trigger.success) {
    // Retrying cannot fix a malformed payload; say so loudly instead of failing forever.
    logger.error('ignored a reset trigger that is not { meterId, periodEnd }', { event });
    return { status: 'invalid-trigger' };
  }
  // The reset schedules itself: the target of the next period's schedule is this function.
  deps ??= periodEndDeps(
    config,
    documentClient,
    context.invokedFunctionArn.split(':').slice(0, 7).join(':'),
  );
  logger.appendKeys({ meterId: trigger.data.meterId, periodEnd: trigger.data.periodEnd });
  const result = await flushMeter(deps, trigger.data.meterId);
  logger.info('flushed', { ...result });
  return result;
};
