/** Picks the metered-record publisher from the destination settings. */
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { MeteredRecordPublisher } from '../ports/record-publisher.js';
import { JsonLinesFilePublisher } from './file-publisher.js';
import { SnsRecordPublisher } from './sns-publisher.js';
import { SqsRecordPublisher } from './sqs-publisher.js';

/** Where metered records go: an SQS queue, an SNS topic, or (locally) a JSON-lines file. */
export type Destination =
  | { kind: 'sqs'; queueUrl: string }
  | { kind: 'sns'; topicArn: string }
  | { kind: 'file'; path: string };

/** The publisher of a destination. */
export function publisherFor(destination: Destination): MeteredRecordPublisher {
  switch (destination.kind) {
    case 'sqs':
      return new SqsRecordPublisher({ client: new SQSClient({}), queueUrl: destination.queueUrl });
    case 'sns':
      return new SnsRecordPublisher({ client: new SNSClient({}), topicArn: destination.topicArn });
    case 'file':
      return new JsonLinesFilePublisher({ path: destination.path });
  }
}
