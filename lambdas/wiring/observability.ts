/**
 * The Lambdas' Powertools logger, tracer and metrics, named from the environment the CDK gives
 * each function (MeteringFunction), and `instrument`, which runs them around every invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import type { TraceClient } from '../../shared/composition/clients.js';
import { readEnvironment } from '../../shared/config/runtime-config.js';

const required = z.string({ error: 'is not set' }).min(1, { error: 'is empty' });

// Powertools' own variable names. Without them Powertools would quietly fall back to
// `service_undefined` and `default_namespace`, and the dashboard would stay empty.
const settings = readEnvironment({
  POWERTOOLS_SERVICE_NAME: required,
  POWERTOOLS_METRICS_NAMESPACE: required,
});
const serviceName = settings.POWERTOOLS_SERVICE_NAME;

/** Structured JSON logs; the level comes from POWERTOOLS_LOG_LEVEL. */
export const logger = new Logger({ serviceName });

/** X-Ray tracing; off outside Lambda (no AWS_EXECUTION_ENV) and when POWERTOOLS_TRACE_ENABLED=false. */
export const tracer = new Tracer({ serviceName });

/** Traces an AWS client the composition makes (its calls become subsegments). */
export const traceClient: TraceClient = (client) => tracer.captureAWSv3Client(client);

/** CloudWatch metrics in embedded metric format, with the `service` dimension. */
export const metrics = new Metrics({
  serviceName,
  namespace: settings.POWERTOOLS_METRICS_NAMESPACE,
  logger,
});

export interface InstrumentOptions<TEvent> {
  /** The invocation's correlation id, read from its event; put on every log line. */
  correlationId?: (event: TEvent) => string | undefined;
  /**
   * Whether the handler's response goes into the trace. Off for responses that are large or
   * carry customer data. @default true
   */
  captureResponse?: boolean;
  /**
   * Whether metrics added with `metrics.addMetric` are published at the end of each invocation,
   * with a ColdStart metric. Off for a handler that adds none on most invocations (it would log
   * Powertools' "No application metrics to publish" warning every time); such a handler
   * publishes its rare metrics at once with `metrics.singleMetric()`. @default true
   */
  publishMetrics?: boolean;
}

/**
 * Wraps a handler in the Powertools middlewares: the Lambda context and the correlation id on
 * every log line (reset after each invocation), an uncaught error logged with them, the handler
 * traced, and the metrics published when the invocation ends, also when it fails.
 *
 * @example
 * export const handler = instrument(ingest, { correlationId: (event) => event.Records[0]?.eventID });
 */
export function instrument<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  options: InstrumentOptions<TEvent> = {},
) {
  const wrapped = middy<TEvent, TResult, Error, Context>(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logUncaughtError())
    .use(correlationIdFrom(options.correlationId))
    .use(captureLambdaHandler(tracer, { captureResponse: options.captureResponse ?? true }));
  return options.publishMetrics === false
    ? wrapped
    : wrapped.use(logMetrics(metrics, { captureColdStartMetric: true }));
}

// Its onError runs after the tracer's and before the logger's reset, so the line still carries
// the correlation id; the Lambda runtime's own report of the error does not.
function logUncaughtError(): MiddlewareObj {
  return {
    onError: ({ error }) => {
      logger.error('invocation failed', { error });
    },
  };
}

function correlationIdFrom<TEvent>(
  pick: ((event: TEvent) => string | undefined) | undefined,
): MiddlewareObj<TEvent> {
  return {
    before: ({ event }) => {
      const id = pick?.(event);
      if (id) logger.setCorrelationId(id);
    },
  };
}
