import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  describeError,
  type MeteredRecordPublisher,
  type PublishableRecord,
  type PublishResult,
  recordAttributes,
  settleBatchResponse,
  splitIntoBatches,
} from '../ports/record-publisher.js';

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

interface Pending {
  record: PublishableRecord;
  entryId: string;
  entry: SendMessageBatchRequestEntry;
  bytes: number;
}

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
  async publish(records: readonly PublishableRecord[]): Promise<PublishResult> {
    const result: PublishResult = { sent: [], failed: [] };
    const pending: Pending[] = [];
    for (const [index, record] of records.entries()) {
      try {
        pending.push(this.#toPending(record, index));
      } catch (error) {
        result.failed.push({ recordId: record.recordId, error: describeError(error) });
      }
    }
    const { batches, oversized } = splitIntoBatches(pending, (p) => p.bytes, {
      maxCount: MAX_BATCH_ENTRIES,
      maxBytes: MAX_BATCH_BYTES,
    });
    for (const p of oversized) {
      result.failed.push({
        recordId: p.record.recordId,
        error: `Message of ${p.bytes} bytes exceeds the SQS limit of ${MAX_BATCH_BYTES} bytes`,
      });
    }
    for (const batch of batches) await this.#sendBatch(batch, result);
    return result;
  }

  async #sendBatch(batch: Pending[], result: PublishResult): Promise<void> {
    try {
      const response = await this.#client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: batch.map((p) => p.entry),
        }),
      );
      settleBatchResponse(
        batch.map((p) => ({ recordId: p.record.recordId, entryId: p.entryId })),
        response,
        result,
      );
    } catch (error) {
      const message = describeError(error);
      for (const { record } of batch)
        result.failed.push({ recordId: record.recordId, error: message });
    }
  }

  #toPending(record: PublishableRecord, index: number): Pending {
    const body = JSON.stringify(record);
    const attributes: Record<string, MessageAttributeValue> = {};
    let bytes = Buffer.byteLength(body);
    for (const { name, value } of recordAttributes(record)) {
      attributes[name] = { DataType: 'String', StringValue: value };
      bytes += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
    }
    // Positional ids are unique in the batch and valid whatever the recordId looks like.
    const entryId = `r${index}`;
    const entry: SendMessageBatchRequestEntry = {
      Id: entryId,
      MessageBody: body,
      MessageAttributes: attributes,
      ...(this.#fifo ? { MessageGroupId: record.id, MessageDeduplicationId: record.recordId } : {}),
    };
    return { record, entryId, entry, bytes };
  }
}
