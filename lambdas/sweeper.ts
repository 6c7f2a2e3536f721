/** Sweeper Lambda (rate schedule): flushes meters whose period end or outbox is overdue. */
import type { ScheduledEvent } from 'aws-lambda';
import { sweepDueMeters } from '../shared/application/period-end.js';
import { awsPeriodEndDeps, resetFunctionArnOf } from '../shared/composition/period-end.js';
import { readPeriodEndConfig } from '../shared/config/runtime-config.js';
import { instrument, logger, metrics, traceClient } from './wiring/observability.js';
import { addSweepMetrics } from './wiring/period-end-metrics.js';

const config = readPeriodEndConfig();
const deps = awsPeriodEndDeps(config, {
  traceClient,
  resetFunctionArn: resetFunctionArnOf(config),
});

const sweep = async (_event: ScheduledEvent) => {
  const result = await sweepDueMeters(deps);
  addSweepMetrics(metrics, result);
  if (result.failed.length > 0)
    logger.warn('some meters could not be flushed; the next sweep retries', { ...result });
  else logger.info('swept', { due: result.due, flushed: result.flushed });
  return result;
};

// The EventBridge rule's event id ties this sweep's log lines together.
export const handler = instrument(sweep, { correlationId: (event) => event?.id });
