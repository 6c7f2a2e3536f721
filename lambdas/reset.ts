/** Reset Lambda: EventBridge Scheduler `{ meterId, periodEnd }` → period-end flush → SQS/SNS. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { flushMeter } from '../shared/application/period-end.js';
import { awsResetDeps } from '../shared/composition/period-end.js';
import { readPeriodEndConfig } from '../shared/config/runtime-config.js';
import { isoTimestamp } from '../shared/domain/schema-primitives.js';
import { instrument, logger, metrics, traceClient } from './wiring/observability.js';
import { addFlushMetrics } from './wiring/period-end-metrics.js';

const periodEndDeps = awsResetDeps(readPeriodEndConfig(), traceClient);
const triggerSchema = z.strictObject({ meterId: z.uuid(), periodEnd: isoTimestamp });

const reset = async (event: unknown, context: Context) => {
  const trigger = triggerSchema.safeParse(event);
  if (!trigger.success) {
    // Retrying cannot fix a malformed payload; say so loudly instead of failing forever.
    logger.error('ignored a reset trigger that is not { meterId, periodEnd }', { event });
    metrics.addMetric('InvalidTriggers', MetricUnit.Count, 1);
    return { status: 'invalid-trigger' as const };
  }
  // The reset schedules itself: the target of the next period's schedule is this function.
  const deps = periodEndDeps(context.invokedFunctionArn.split(':').slice(0, 7).join(':'));
  const { meterId, periodEnd } = trigger.data;
  logger.setCorrelationId(`${meterId}/${periodEnd}`);
  logger.appendKeys({ meterId, periodEnd });
  try {
    const result = await flushMeter(deps, meterId);
    addFlushMetrics(metrics, result);
    logger.info('flushed', { ...result });
    return result;
  } catch (error) {
    // What was not sent stays in the outbox; Lambda retries this invocation and the sweeper too.
    metrics.addMetric('FlushFailures', MetricUnit.Count, 1);
    throw error;
  }
};

export const handler = instrument(reset);
