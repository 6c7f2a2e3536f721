/** The metered-record publisher of a destination: SQS, SNS, or (locally) a JSON-lines file. */
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { JsonLinesFilePublisher } from '../adapters/file-publisher.js';
import { SnsRecordPublisher } from '../adapters/sns-publisher.js';
import { SqsRecordPublisher } from '../adapters/sqs-publisher.js';
import type { Destination } from '../config/runtime-config.js';
import type { MeteredRecordPublisher } from '../ports/record-publisher.js';
import { type TraceClient, untraced } from './clients.js';

/**
 * The publisher of a destination; the SQS or SNS client is made here and passed through
 * `traceClient`.
 *
 * @example
 * publisherFor({ kind: 'file', path: '.local/metered-records.jsonl' });
 */
export function publisherFor(
  destination: Destination,
  traceClient: TraceClient = untraced,
): MeteredRecordPublisher {
  switch (destination.kind) {
    case 'sqs':
      return new SqsRecordPublisher({
        client: traceClient(new SQSClient({})),
        queueUrl: destination.queueUrl,
      });
    case 'sns':
      return new SnsRecordPublisher({
        client: traceClient(new SNSClient({})),
        topicArn: destination.topicArn,
      });
    case 'file':
      return new JsonLinesFilePublisher({ path: destination.path });
  }
}
