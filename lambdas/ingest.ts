/** Ingest Lambda: Kinesis event source → ingestion use case → DynamoDB (meters, data correction). */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PowertoolsIngestMetrics } from '../shared/adapters/powertools-ingest-metrics.js';
import { awsIngestHandler } from '../shared/composition/ingest.js';
import {
  readPeriodEndConfig,
  readStreamNames,
  readStreamRetentionMs,
} from '../shared/config/runtime-config.js';
import { instrument, logger, metrics, traceClient } from './wiring/observability.js';

const kinesis = { names: readStreamNames(), retentionMs: readStreamRetentionMs() };
const ingest = awsIngestHandler(readPeriodEndConfig(), kinesis, {
  traceClient,
  metrics: new PowertoolsIngestMetrics(metrics),
  // The shard waits on an infrastructure failure (the mapping retries it forever): say why.
  logFailure: (message, details) => logger.error(message, { ...details }),
  onSendFailure: (meterId, error) =>
    logger.warn('prompt send failed; the sweeper retries', { meterId, error }),
  countSendFailures: (failures) =>
    metrics.addMetric('PromptSendFailures', MetricUnit.Count, failures),
});

// Lambda's eventID is `shardId-…:sequenceNumber`: the batch's shard and where it starts.
export const handler = instrument(ingest, {
  correlationId: (event) => event.Records[0]?.eventID,
});
