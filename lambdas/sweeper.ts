/** Sweeper Lambda (rate schedule): flushes meters whose period end or outbox is overdue. */
import type { ScheduledEvent } from 'aws-lambda';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { sweepDueMeters } from '../shared/application/period-end.js';
import { ENV } from '../shared/config/env-names.js';
import { readPeriodEndConfig } from '../shared/config/runtime-config.js';
import { instrument, logger, metrics, tracer } from './wiring/observability.js';
import { addSweepMetrics, periodEndDeps } from './wiring/period-end.js';

const config = readPeriodEndConfig();
const resetFunctionArn = config[ENV.resetFunctionArn];
if (!resetFunctionArn) throw new Error(`invalid configuration: ${ENV.resetFunctionArn} is not set`);
// The document client shares its DynamoDBClient's middleware stack: tracing one traces both.
const documentClient = tracer.captureAWSv3Client(createDocumentClient());
const deps = periodEndDeps(config, documentClient, resetFunctionArn, tracer);

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
