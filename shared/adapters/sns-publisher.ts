import {
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import type {
  MeteredRecordPublisher,
  PublishableRecord,
  PublishResult,
} from '../ports/record-publisher.js';
import { publishInBatches, recordMessage } from './batch-publisher.js';

/** Settings of {@link SnsRecordPublisher}. */
export interface SnsRecordPublisherOptions {
  client: SNSClient;
  topicArn: string;
  /** FIFO topic; default: the ARN ends with `.fifo`. */
  fifo?: boolean;
}

// PublishBatch: at most 10 entries and 256 KiB for the whole batch, attributes included.
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 262_144;

/** Publishes metered records to an SNS topic (standard or FIFO) with PublishBatch. */
export class SnsRecordPublisher implements MeteredRecordPublisher {
  readonly #client: SNSClient;
  readonly #topicArn: string;
  readonly #fifo: boolean;

  constructor(options: SnsRecordPublisherOptions) {
    this.#client = options.client;
    this.#topicArn = options.topicArn;
    this.#fifo = options.fifo ?? options.topicArn.endsWith('.fifo');
  }

  /** Sends in batches split by count and size; failed entries and batches are reported. */
  publish(records: readonly PublishableRecord[]): Promise<PublishResult> {
    return publishInBatches<PublishBatchRequestEntry>(records, {
      name: 'SNS',
      maxCount: MAX_BATCH_ENTRIES,
      maxBytes: MAX_BATCH_BYTES,
      toEntry: (record, entryId) => this.#toEntry(record, entryId),
      send: (entries) =>
        this.#client.send(
          new PublishBatchCommand({
            TopicArn: this.#topicArn,
            PublishBatchRequestEntries: entries,
          }),
        ),
    });
  }

  /** The entry of a record, with `recordType`, `meterTypeId` and `userId` attributes for filter policies. */
  #toEntry(
    record: PublishableRecord,
    entryId: string,
  ): { entry: PublishBatchRequestEntry; bytes: number } {
    const message = recordMessage(record, this.#fifo);
    const entry: PublishBatchRequestEntry = {
      Id: entryId,
      Message: message.body,
      MessageAttributes: message.attributes,
      ...message.fifo,
    };
    return { entry, bytes: message.bytes };
  }
}
