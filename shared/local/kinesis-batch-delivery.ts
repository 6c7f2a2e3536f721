/**
 * The retry and checkpoint rules of the local event-source poller, as the Lambda mapping applies
 * them with ReportBatchItemFailures: a batch from the head of a shard's buffer, checkpointed on
 * success, retried from the lowest failed record, bisected when the invocation fails, backed off
 * exponentially, and (with a retry limit) handed to the on-failure destination.
 */
import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import {
  batchLength,
  headFailureCount,
  type PollerErrorContext,
  type PollerHost,
  type ShardState,
} from './kinesis-shard-reader.js';

/** The function the mapping invokes, like a Lambda handler with ReportBatchItemFailures. */
export type KinesisBatchHandler = (
  event: KinesisStreamEvent,
) => Promise<KinesisStreamBatchResponse | undefined> | Promise<void>;

/** What the on-failure destination of the real mapping would receive about a dropped batch. */
export interface DiscardDetails {
  condition: 'RetryAttemptsExhausted';
  streamName: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  /** Invocations that failed for the first discarded record. */
  attempts: number;
  /** The handler's error of the last attempt; undefined when it reported batchItemFailures. */
  lastError?: unknown;
}

/** A batch response that the real mapping would treat as a failure of the whole batch. */
export class InvalidBatchResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBatchResponseError';
  }
}

type Outcome =
  | { kind: 'success' }
  | { kind: 'partial'; failedIndex: number }
  | { kind: 'error'; error: unknown };

/** Settings of {@link BatchDelivery}. */
export interface BatchDeliverySettings {
  handler: KinesisBatchHandler;
  batchSize: number;
  bisectBatchOnError: boolean;
  /** -1: retry forever. */
  maxRetryAttempts: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  onDiscard: ((records: KinesisStreamRecord[], details: DiscardDetails) => void) | undefined;
}

/** Delivers a shard's batches to the handler until each record is checkpointed or discarded. */
export class BatchDelivery {
  constructor(
    private readonly host: PollerHost,
    private readonly settings: BatchDeliverySettings,
  ) {}

  /**
   * Delivers the next batch from the head of the buffer. A retry after a failure takes a new
   * batch from the checkpoint, so it may include records that arrived since.
   */
  async deliverHead(shard: ShardState): Promise<void> {
    const batch = shard.buffer.slice(0, batchLength(shard, this.settings.batchSize));
    const failuresBefore = headFailureCount(shard);
    const outcome = await this.invoke(shard, batch, failuresBefore + 1);
    if (outcome.kind === 'success') {
      this.commit(shard, batch.length);
      return;
    }
    if (outcome.kind === 'error' && this.settings.bisectBatchOnError && batch.length > 1) {
      await this.bisect(shard, batch.length, failuresBefore);
      return;
    }
    let remaining = batch.length;
    let failures = failuresBefore + 1;
    if (outcome.kind === 'partial') {
      this.commit(shard, outcome.failedIndex);
      remaining -= outcome.failedIndex;
      if (outcome.failedIndex > 0) failures = 1;
    }
    const head = shard.buffer[0];
    if (head !== undefined) {
      shard.headFailures = { sequenceNumber: head.kinesis.sequenceNumber, count: failures };
    }
    await this.discardOrBackOff(shard, remaining, failures, outcome);
  }

  /**
   * Delivers exactly the first `count` buffered records (a bisected half) until each is
   * checkpointed or discarded. `failures` counts failed invocations for the first record.
   */
  private async resolveRange(shard: ShardState, count: number, failures: number): Promise<void> {
    let remaining = count;
    let failed = failures;
    while (remaining > 0 && !this.host.isStopping()) {
      const batch = shard.buffer.slice(0, remaining);
      const outcome = await this.invoke(shard, batch, failed + 1);
      if (outcome.kind === 'success') {
        this.commit(shard, remaining);
        return;
      }
      if (outcome.kind === 'error' && this.settings.bisectBatchOnError && remaining > 1) {
        await this.bisect(shard, remaining, failed);
        return;
      }
      if (outcome.kind === 'partial') {
        this.commit(shard, outcome.failedIndex);
        remaining -= outcome.failedIndex;
        failed = outcome.failedIndex > 0 ? 1 : failed + 1;
      } else {
        failed += 1;
      }
      if (await this.discardOrBackOff(shard, remaining, failed, outcome)) return;
    }
  }

  /** Splits the first `count` buffered records, whose invocation failed, in two and resolves each. */
  private async bisect(shard: ShardState, count: number, failures: number): Promise<void> {
    const firstHalf = Math.ceil(count / 2);
    await this.resolveRange(shard, firstHalf, failures);
    // A stop in the first half leaves the buffer at the checkpoint; a restart resumes there.
    if (this.host.isStopping()) return;
    await this.resolveRange(shard, count - firstHalf, failures);
  }

  private async invoke(
    shard: ShardState,
    batch: KinesisStreamRecord[],
    attempt: number,
  ): Promise<Outcome> {
    const context: PollerErrorContext = {
      phase: 'invoke',
      streamName: this.host.streamName,
      shardId: shard.shardId,
      batchSize: batch.length,
      firstSequenceNumber: batch[0]?.kinesis.sequenceNumber,
      lastSequenceNumber: batch.at(-1)?.kinesis.sequenceNumber,
      attempt,
    };
    // Fresh copies: a handler that mutates its event must not change what a retry sees.
    const event: KinesisStreamEvent = {
      Records: batch.map((record) => ({ ...record, kinesis: { ...record.kinesis } })),
    };
    let response: unknown;
    try {
      response = await this.settings.handler(event);
    } catch (err) {
      this.host.reportError(err, context);
      return { kind: 'error', error: err };
    }
    const outcome = interpretResponse(batch, response);
    if (outcome.kind === 'error') this.host.reportError(outcome.error, context);
    return outcome;
  }

  /**
   * After a failed attempt at the first `count` buffered records: discards them once the retries
   * are exhausted (true), or waits out the back-off before the next attempt (false).
   */
  private async discardOrBackOff(
    shard: ShardState,
    count: number,
    failures: number,
    outcome: Outcome,
  ): Promise<boolean> {
    if (this.retriesExhausted(failures)) {
      this.discard(shard, count, failures, outcome.kind === 'error' ? outcome.error : undefined);
      return true;
    }
    await this.backOff(failures);
    return false;
  }

  private retriesExhausted(failures: number): boolean {
    return this.settings.maxRetryAttempts >= 0 && failures > this.settings.maxRetryAttempts;
  }

  /** Moves the checkpoint past the first `count` buffered records. */
  private commit(shard: ShardState, count: number): void {
    const last = shard.buffer[count - 1];
    if (last === undefined) return;
    shard.checkpoint = last.kinesis.sequenceNumber;
    shard.buffer.splice(0, count);
  }

  private discard(shard: ShardState, count: number, attempts: number, lastError: unknown): void {
    const records = shard.buffer.slice(0, count);
    const first = records[0];
    const last = records.at(-1);
    this.commit(shard, count);
    if (first === undefined || last === undefined) return;
    const { streamName } = this.host;
    const details: DiscardDetails = {
      condition: 'RetryAttemptsExhausted',
      streamName,
      shardId: shard.shardId,
      startSequenceNumber: first.kinesis.sequenceNumber,
      endSequenceNumber: last.kinesis.sequenceNumber,
      batchSize: records.length,
      attempts,
      lastError,
    };
    if (this.settings.onDiscard === undefined) {
      console.error(
        `[kinesis-poller] ${streamName}/${shard.shardId}: discarded ${records.length} record(s) ` +
          `${details.startSequenceNumber}..${details.endSequenceNumber} after ${attempts} failed attempt(s)`,
      );
      return;
    }
    try {
      this.settings.onDiscard(records, details);
    } catch (err) {
      this.host.reportError(err, { phase: 'onDiscard', streamName, shardId: shard.shardId });
    }
  }

  private backOff(failures: number): Promise<void> {
    const { retryDelayMs, maxRetryDelayMs } = this.settings;
    const delay = Math.min(retryDelayMs * 2 ** (failures - 1), maxRetryDelayMs);
    return this.host.sleep(delay, 'backoff');
  }
}

/** Reads a handler's response the way the mapping does with ReportBatchItemFailures. */
function interpretResponse(batch: KinesisStreamRecord[], response: unknown): Outcome {
  if (response === undefined || response === null || typeof response !== 'object') {
    return { kind: 'success' };
  }
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return {
      kind: 'error',
      error: new InvalidBatchResponseError('batchItemFailures is not a list'),
    };
  }
  if (failures.length === 0) return { kind: 'success' };
  let lowest = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const id: unknown =
      typeof failure === 'object' && failure !== null
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    const index =
      typeof id === 'string' && id !== ''
        ? batch.findIndex((record) => record.kinesis.sequenceNumber === id)
        : -1;
    if (index < 0) {
      return {
        kind: 'error',
        error: new InvalidBatchResponseError(
          `batchItemFailures names ${JSON.stringify(id)}, which is not a sequence number of the batch`,
        ),
      };
    }
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial', failedIndex: lowest };
}
