import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  MeteredRecordPublisher,
  PublishableRecord,
  PublishResult,
} from '../ports/record-publisher.js';
import { publishInBatches, recordMessage } from './batch-publisher.js';

/** Settings of {@link SqsRecordPublisher}. */
export interface SqsRecordPublisherOptions {
  client: SQSClient;
  queueUrl: string;
  /** FIFO queue; default: the URL ends with `.fifo`. */
  fifo?: boolean;
}

// SendMessageBatch: at most 10 entries, and 256 KiB for one message and for the whole batch
// (body plus attribute names, types and values).
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 262_144;

/** Publishes metered records to an SQS queue (standard or FIFO) with SendMessageBatch. */
export class SqsRecordPublisher implements MeteredRecordPublisher {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #fifo: boolean;

  constructor(options: SqsRecordPublisherOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#fifo = options.fifo ?? options.queueUrl.endsWith('.fifo');
  }

  /** Sends in batches split by count and size; failed entries and batches are reported. */
  publish(records: readonly PublishableRecord[]): Promise<PublishResult> {
    return publishInBatches<SendMessageBatchRequestEntry>(records, {
      name: 'SQS',
      maxCount: MAX_BATCH_ENTRIES,
      maxBytes: MAX_BATCH_BYTES,
      toEntry: (record, entryId) => this.#toEntry(record, entryId),
      send: (entries) =>
        this.#client.send(
          new SendMessageBatchCommand({ QueueUrl: this.#queueUrl, Entries: entries }),
        ),
    });
  }

  #toEntry(
    record: PublishableRecord,
    entryId: string,
  ): { entry: SendMessageBatchRequestEntry; bytes: number } {
    const message = recordMessage(record, this.#fifo);
    const entry: SendMessageBatchRequestEntry = {
      Id: entryId,
      MessageBody: message.body,
      MessageAttributes: message.attributes,
      ...message.fifo,
    };
    return { entry, bytes: message.bytes };
  }
}
