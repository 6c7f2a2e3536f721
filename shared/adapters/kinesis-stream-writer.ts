/** Puts usage records on their Kinesis stream (HTTP ingestion, re-sending from data correction). */
import { type KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NotFoundError, ServiceUnavailableError } from '../domain/errors.js';
import type {
  PutLocation,
  PutRecordsEntry,
  PutRecordsOutcome,
  UsageStreamWriter,
} from '../ports/usage-stream-writer.js';

/** Settings of {@link KinesisUsageStreamWriter}. */
export interface KinesisUsageStreamWriterOptions {
  client: KinesisClient;
  /** The Kinesis stream name of each configured stream; absent ones are named as configured. */
  streamNames?: Readonly<Record<string, string>>;
}

interface AwsErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Errors after which the same put can succeed later: throttling, outages, network trouble. */
const UNAVAILABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'LimitExceededException',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ThrottlingException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function isTransient(error: unknown): boolean {
  const s: AwsErrorShape = typeof error === 'object' && error !== null ? error : {};
  if (s.name && UNAVAILABLE_NAMES.has(s.name)) return true;
  if (s.code && NETWORK_CODES.has(s.code)) return true;
  const status = s.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/**
 * Writes records with PutRecord. Throttling and outages become ServiceUnavailableError (503),
 * a stream that no longer exists a NotFoundError (404); anything else is passed on as is.
 *
 * @example
 * const writer = new KinesisUsageStreamWriter({ client: new KinesisClient({}) });
 * const { sequenceNumber } = await writer.putRecord('usage-events', 'alice', bytes);
 */
export class KinesisUsageStreamWriter implements UsageStreamWriter {
  readonly #client: KinesisClient;
  readonly #streamNames: Readonly<Record<string, string>>;

  constructor(options: KinesisUsageStreamWriterOptions) {
    this.#client = options.client;
    this.#streamNames = options.streamNames ?? {};
  }

  async putRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array,
  ): Promise<PutLocation> {
    let output: { ShardId?: string | undefined; SequenceNumber?: string | undefined };
    try {
      output = await this.#client.send(
        new PutRecordCommand({
          StreamName: this.#streamNames[streamName] ?? streamName,
          PartitionKey: partitionKey,
          Data: data,
        }),
      );
    } catch (error) {
      throw asServiceError(error, streamName);
    }
    if (!output.ShardId || !output.SequenceNumber) {
      throw new Error(`PutRecord to ${streamName} returned no shard id or sequence number`);
    }
    return { shardId: output.ShardId, sequenceNumber: output.SequenceNumber };
  }

  async putRecords(
    streamName: string,
    entries: readonly PutRecordsEntry[],
  ): Promise<PutRecordsOutcome[]> {
    let output: {
      Records?: {
        ShardId?: string;
        SequenceNumber?: string;
        ErrorCode?: string;
        ErrorMessage?: string;
      }[];
    };
    try {
      output = await this.#client.send(
        new PutRecordsCommand({
          StreamName: this.#streamNames[streamName] ?? streamName,
          Records: entries.map((entry) => ({ PartitionKey: entry.partitionKey, Data: entry.data })),
        }),
      );
    } catch (error) {
      throw asServiceError(error, streamName);
    }
    const records = output.Records ?? [];
    if (records.length !== entries.length) {
      throw new Error(
        `PutRecords to ${streamName} answered ${records.length} results for ${entries.length} records`,
      );
    }
    return records.map((record): PutRecordsOutcome => {
      if (record.ShardId && record.SequenceNumber && !record.ErrorCode) {
        return { ok: true, shardId: record.ShardId, sequenceNumber: record.SequenceNumber };
      }
      return {
        ok: false,
        errorCode: record.ErrorCode ?? 'InternalFailure',
        errorMessage: record.ErrorMessage ?? 'the stream returned no sequence number',
      };
    });
  }
}

/** A missing stream as 404, throttling and outages as 503 (retry), anything else as it is. */
function asServiceError(error: unknown, streamName: string): unknown {
  if ((error as AwsErrorShape | undefined)?.name === 'ResourceNotFoundException') {
    return new NotFoundError(`stream ${streamName} does not exist (any more)`, { cause: error });
  }
  if (isTransient(error)) {
    return new ServiceUnavailableError(`stream ${streamName} is busy; retry shortly`, 1, {
      cause: error,
    });
  }
  return error;
}
