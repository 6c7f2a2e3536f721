/** Ingest Lambda: Kinesis event source → ingestion use case → DynamoDB (meters, data correction). */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../shared/adapters/dynamodb/data-correction-store.js';
import { DynamoDbIngestStore } from '../shared/adapters/dynamodb/ingest-store.js';
import { DynamoDbMeterTypeStore } from '../shared/adapters/dynamodb/meter-type-store.js';
import { createIngestHandler } from '../shared/adapters/kinesis-ingest-handler.js';
import { PowertoolsIngestMetrics } from '../shared/adapters/powertools-ingest-metrics.js';
import { ENV } from '../shared/config/env-names.js';
import { readIngestConfig } from '../shared/config/runtime-config.js';
import { parseStreamsConfig } from '../shared/config/streams.js';

const config = readIngestConfig();
const streams = parseStreamsConfig(config[ENV.streamsConfig]);
const documentClient = createDocumentClient();
const tableName = config[ENV.tableName];
const meterTypes = new DynamoDbMeterTypeStore(documentClient, tableName);
const metrics = new Metrics({ namespace: 'UsageMetering', serviceName: 'ingest' });

const ingest = createIngestHandler({
  store: new DynamoDbIngestStore(documentClient, tableName),
  corrections: new DynamoDbDataCorrectionStore(documentClient, tableName),
  meterType: async (id) => (await meterTypes.get(id))?.meterType,
  now: () => new Date(),
  streams,
  metrics: new PowertoolsIngestMetrics(metrics),
});

export const handler: typeof ingest = async (event) => {
  try {
    return await ingest(event);
  } finally {
    metrics.publishStoredMetrics();
  }
};
