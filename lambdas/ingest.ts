/** Ingest Lambda: Kinesis event source → ingestion use case → DynamoDB (meters, data correction). */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../shared/adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../shared/adapters/dynamodb/ingest-store.js';
import { DynamoDbMeterTypeStore } from '../shared/adapters/dynamodb/meter-type-store.js';
import { createIngestHandler } from '../shared/adapters/kinesis-ingest-handler.js';
import { PowertoolsIngestMetrics } from '../shared/adapters/powertools-ingest-metrics.js';
import { flushAfterIngest } from '../shared/application/period-end.js';
import { ENV } from '../shared/config/env-names.js';
import { readPeriodEndConfig, readStreamNames } from '../shared/config/runtime-config.js';
import { parseStreamsConfig } from '../shared/config/streams.js';
import { instrument, logger, metrics, tracer } from './wiring/observability.js';
import { periodEndDeps } from './wiring/period-end.js';

const config = readPeriodEndConfig();
const resetFunctionArn = config[ENV.resetFunctionArn];
if (!resetFunctionArn) throw new Error(`invalid configuration: ${ENV.resetFunctionArn} is not set`);
const streams = parseStreamsConfig(config[ENV.streamsConfig]);
// The document client shares its DynamoDBClient's middleware stack: tracing one traces both.
const documentClient = tracer.captureAWSv3Client(createDocumentClient());
const tableName = config[ENV.tableName];
const meterTypes = new DynamoDbMeterTypeStore(documentClient, tableName);
const periodEnd = periodEndDeps(config, documentClient, resetFunctionArn, tracer);

const ingest = createIngestHandler({
  store: new DynamoDbIngestStore(documentClient, tableName),
  corrections: new DynamoDbDataCorrectionStore(documentClient, tableName),
  meterType: async (id) => (await meterTypes.get(id))?.meterType,
  now: () => new Date(),
  streams,
  kinesisNames: readStreamNames(),
  metrics: new PowertoolsIngestMetrics(metrics),
  // The shard waits on an infrastructure failure (the mapping retries it forever): say why.
  logFailure: (message, details) => logger.error(message, { ...details }),
  // Partial pushes go out promptly; what fails here stays in the outbox for the sweeper.
  afterBatch: async (outcome) => {
    let failures = 0;
    await flushAfterIngest(
      periodEnd,
      outcome.metersWithOutbox.map((meter) => meter.id),
      (meterId, error) => {
        failures++;
        logger.warn('prompt send failed; the sweeper retries', { meterId, error });
      },
    );
    metrics.addMetric('PromptSendFailures', MetricUnit.Count, failures);
  },
});

// Lambda's eventID is `shardId-…:sequenceNumber`: the batch's shard and where it starts.
export const handler = instrument(ingest, {
  correlationId: (event) => event.Records[0]?.eventID,
});
