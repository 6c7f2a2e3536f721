/** API Lambda: API Gateway HTTP API → use cases → DynamoDB, EventBridge Scheduler and Kinesis. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { awsApiHandler } from '../shared/composition/api.js';
import { readApiConfig, readStreamNames } from '../shared/config/runtime-config.js';
import { instrument, logger, metrics, traceClient, tracer } from './wiring/observability.js';

const api = awsApiHandler(readApiConfig(), readStreamNames(), {
  traceClient,
  // Every 5xx and every failed clean-up: its cause goes to the log and the trace; the caller
  // sees only a generic message.
  log: (message, error) => {
    logger.error(message, { error });
    if (error instanceof Error) tracer.addErrorAsMetadata(error);
    metrics.singleMetric().addMetric('ServerErrors', MetricUnit.Count, 1);
  },
});

// The API maps every error to a response inside `api`, so these middlewares wrap it rather than
// join it: they see each request end, with its correlation id still on the logger.
export const handler = instrument(api, {
  correlationId: (event) => event.requestContext?.requestId,
  // Responses carry customers' meters and can be large; the trace keeps timings only.
  captureResponse: false,
  publishMetrics: false,
});
