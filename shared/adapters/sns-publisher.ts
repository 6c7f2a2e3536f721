import {
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import {
  describeError,
  type MeteredRecordPublisher,
  type PublishableRecord,
  type PublishResult,
  recordAttributes,
  settleBatchResponse,
  splitIntoBatches,
} from '../ports/record-publisher.js';

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

interface Pending {
  record: PublishableRecord;
  entryId: string;
  entry: PublishBatchRequestEntry;
  bytes: number;
}

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
        error: `Message of ${p.bytes} bytes exceeds the SNS limit of ${MAX_BATCH_BYTES} bytes`,
      });
    }
    for (const batch of batches) await this.#sendBatch(batch, result);
    return result;
  }

  async #sendBatch(batch: Pending[], result: PublishResult): Promise<void> {
    try {
      const response = await this.#client.send(
        new PublishBatchCommand({
          TopicArn: this.#topicArn,
          PublishBatchRequestEntries: batch.map((p) => p.entry),
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
    const message = JSON.stringify(record);
    const attributes: Record<string, MessageAttributeValue> = {};
    let bytes = Buffer.byteLength(message);
    for (const { name, value } of recordAttributes(record)) {
      attributes[name] = { DataType: 'String', StringValue: value };
      bytes += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
    }
    // Positional ids are unique in the batch and valid whatever the recordId looks like.
    const entryId = `r${index}`;
    const entry: PublishBatchRequestEntry = {
      Id: entryId,
      Message: message,
      MessageAttributes: attributes,
      ...(this.#fifo ? { MessageGroupId: record.id, MessageDeduplicationId: record.recordId } : {}),
    };
    return { record, entryId, entry, bytes };
  }
}
