/** Sweeper Lambda (rate schedule): flushes meters whose period end or outbox is overdue. */
import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { sweepDueMeters } from '../shared/application/period-end.js';
import { ENV } from '../shared/config/env-names.js';
import { readPeriodEndConfig } from '../shared/config/runtime-config.js';
import { periodEndDeps } from './wiring/period-end.js';

const config = readPeriodEndConfig();
const resetFunctionArn = config[ENV.resetFunctionArn];
if (!resetFunctionArn) throw new Error(`invalid configuration: ${ENV.resetFunctionArn} is not set`);
const deps = periodEndDeps(config, createDocumentClient(), resetFunctionArn);
const logger = new Logger({ serviceName: 'sweeper' });

export const handler = async () => {
  const result = await sweepDueMeters(deps);
  if (result.failed.length > 0)
    logger.warn('some meters could not be flushed; the next sweep retries', { ...result });
  else logger.info('swept', { due: result.due, flushed: result.flushed });
  return result;
};
