/**
 * Local stand-in for the AWS Lambda Kinesis event source mapping: polls every shard of one
 * stream and invokes a handler with Lambda-shaped batches, with the mapping's retry rules
 * (ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts, an on-failure
 * destination). By default, like the deployed mapping, a failing batch is retried forever:
 * its shard waits, backing off, and nothing is discarded. Checkpoints live in memory: a new
 * poller starts again from its starting position, which downstream code tolerates because it
 * is idempotent by sequence number.
 */
import {
  type _Record,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';

/** The function the mapping invokes, like a Lambda handler with ReportBatchItemFailures. */
export type KinesisBatchHandler = (
  event: KinesisStreamEvent,
) => Promise<KinesisStreamBatchResponse | undefined> | Promise<void>;

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

/** Where an error reported to `onError` happened. */
export interface PollerErrorContext {
  phase: 'listShards' | 'getRecords' | 'invoke' | 'onDiscard' | 'internal';
  streamName: string;
  shardId?: string;
  /** For `invoke`: the batch and which attempt at its first record this was (1 = first try). */
  batchSize?: number;
  firstSequenceNumber?: string;
  lastSequenceNumber?: string;
  attempt?: number;
}

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

/** Options of {@link KinesisEventSourcePoller}. */
export interface KinesisEventSourcePollerOptions {
  client: KinesisClient;
  streamName: string;
  handler: KinesisBatchHandler;
  /** Most records per invocation (1–10,000). Default 100. */
  batchSize?: number;
  /** 0 delivers as soon as records are there; otherwise waits up to this long to fill a batch. */
  batchWindowMs?: number;
  /** Split a batch whose invocation failed in two halves and retry each. Default true. */
  bisectBatchOnError?: boolean;
  /**
   * Retries of a failing record before its batch is discarded; -1 = retry forever (the shard
   * waits), as the deployed mapping does. Default -1.
   */
  maxRetryAttempts?: number;
  /** The back-off before the first retry of a failing record; it doubles per retry. Default 100. */
  retryDelayMs?: number;
  /** The longest back-off between retries, so a shard waiting out an outage polls calmly. Default 2,000. */
  maxRetryDelayMs?: number;
  /** Pause between GetRecords calls on a shard that has nothing new. Default 200. */
  pollIntervalMs?: number;
  /** Where to start on the shards found at the first start; later shards start at TRIM_HORIZON. */
  startingPosition?: StartingPosition;
  /** `awsRegion` of the events; defaults to the client's region. */
  region?: string;
  /** Called for handler errors and Kinesis errors; defaults to a console warning. */
  onError?: (err: unknown, context: PollerErrorContext) => void;
  /** The on-failure destination: records dropped after the retries; defaults to a console error. */
  onDiscard?: (records: KinesisStreamRecord[], details: DiscardDetails) => void;
}

/** Raised by {@link KinesisEventSourcePoller.idle} when the stream is not drained in time. */
export class PollerIdleTimeoutError extends Error {
  constructor(streamName: string, timeoutMs: number) {
    super(`Stream ${streamName} was not drained within ${timeoutMs} ms`);
    this.name = 'PollerIdleTimeoutError';
  }
}

/** A batch response that the real mapping would treat as a failure of the whole batch. */
export class InvalidBatchResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBatchResponseError';
  }
}

const ACCOUNT_ID = '000000000000';
const INVOKE_IDENTITY_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/local-event-source-mapping`;
/** Lambda's synchronous invocation payload limit; a batch is cut before it. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Rough JSON size of one event record beside its data. */
const RECORD_ENVELOPE_BYTES = 600;
const MIN_DISCOVERY_INTERVAL_MS = 1_000;
const IDLE_CHECK_MS = 10;
/** Below vitest's default test timeout here, so a stuck stream fails with a clear error. */
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

interface ShardState {
  shardId: string;
  parentShardIds: string[];
  startingPosition: StartingPosition;
  iterator: string | undefined;
  /** Records fetched and not yet checkpointed, in sequence order; the head is delivered next. */
  buffer: KinesisStreamRecord[];
  /** The last record checkpointed (delivered or discarded). */
  checkpoint: string | undefined;
  lastFetched: string | undefined;
  /** The shard is closed and every record has been fetched. */
  closed: boolean;
  /** Closed and every record checkpointed. */
  finished: boolean;
  /** Failed invocations for the record at the head of the buffer. */
  headFailures: { sequenceNumber: string; count: number } | undefined;
  /** Clock tick at which the last GetRecords that found nothing new was sent. */
  lastEmptyPollTick: number;
  windowStartedAt: number | undefined;
  loop: Promise<void> | undefined;
}

type Outcome =
  | { kind: 'success' }
  | { kind: 'partial'; failedIndex: number }
  | { kind: 'error'; error: unknown };

interface Sleeper {
  kind: 'poll' | 'backoff';
  wake: () => void;
}

/**
 * Behaves like a Lambda event source mapping on one Kinesis stream: one loop per shard
 * (new shards are picked up; a child shard waits for its parents), batches of a shard in
 * sequence order and never two of a shard at once.
 *
 * Responses: nothing or an empty `batchItemFailures` checkpoints the batch; failures
 * checkpoint before the lowest failed record and retry from it; an unknown or empty
 * `itemIdentifier`, or a thrown error, fails the whole batch, which is bisected when
 * `bisectBatchOnError` is on (a split does not count as a retry). Retries back off
 * exponentially up to `maxRetryDelayMs`. By default they go on until the record goes through;
 * with `maxRetryAttempts` set, a record that still fails after that many retries is handed,
 * with the rest of its batch, to `onDiscard`.
 *
 * @example
 * const poller = new KinesisEventSourcePoller({ client, streamName: 'usage', handler });
 * poller.start();
 * await putSomeRecords();
 * await poller.idle(); // everything put so far has been delivered (or discarded)
 * await poller.stop();
 */
export class KinesisEventSourcePoller {
  private readonly client: KinesisClient;
  private readonly streamName: string;
  private readonly handler: KinesisBatchHandler;
  private readonly batchSize: number;
  private readonly batchWindowMs: number;
  private readonly bisectBatchOnError: boolean;
  private readonly maxRetryAttempts: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly pollIntervalMs: number;
  private readonly startingPosition: StartingPosition;
  private readonly onError: ((err: unknown, context: PollerErrorContext) => void) | undefined;
  private readonly onDiscard:
    | ((records: KinesisStreamRecord[], details: DiscardDetails) => void)
    | undefined;

  private readonly shards = new Map<string, ShardState>();
  private readonly sleepers = new Set<Sleeper>();
  private region: string | undefined;
  private discovery: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private stopRequested = false;
  private running = false;
  private clock = 0;
  private lastDiscoveryTick = 0;

  constructor(options: KinesisEventSourcePollerOptions) {
    this.client = options.client;
    this.streamName = options.streamName;
    this.handler = options.handler;
    this.batchSize = integerIn('batchSize', options.batchSize ?? 100, 1, 10_000);
    this.batchWindowMs = integerIn('batchWindowMs', options.batchWindowMs ?? 0, 0, 300_000);
    this.bisectBatchOnError = options.bisectBatchOnError ?? true;
    this.maxRetryAttempts = integerIn(
      'maxRetryAttempts',
      options.maxRetryAttempts ?? -1,
      -1,
      10_000,
    );
    this.retryDelayMs = integerIn('retryDelayMs', options.retryDelayMs ?? 100, 1, 60_000);
    this.maxRetryDelayMs = integerIn(
      'maxRetryDelayMs',
      options.maxRetryDelayMs ?? 2_000,
      this.retryDelayMs,
      60_000,
    );
    this.pollIntervalMs = integerIn('pollIntervalMs', options.pollIntervalMs ?? 200, 1, 60_000);
    this.startingPosition = options.startingPosition ?? 'TRIM_HORIZON';
    this.region = options.region;
    this.onError = options.onError;
    this.onDiscard = options.onDiscard;
  }

  /** The ARN that events carry as `eventSourceARN`. */
  get eventSourceArn(): string {
    return `arn:aws:kinesis:${this.region ?? 'us-east-1'}:${ACCOUNT_ID}:stream/${this.streamName}`;
  }

  /** Starts polling; after a stop() it resumes from the in-memory checkpoints. */
  start(): void {
    if (this.stopRequested) throw new Error('The poller is stopping; await stop() before start()');
    if (this.running) return;
    this.running = true;
    for (const shard of this.shards.values()) {
      if (!shard.finished) shard.loop = this.runShard(shard);
    }
    this.discovery = this.runDiscovery();
  }

  /** Stops polling; waits for the batch in flight and leaves no timer or request behind. */
  stop(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.stopping === undefined) {
      this.stopRequested = true;
      this.stopping = this.shutDown();
    }
    return this.stopping;
  }

  /**
   * Resolves once every record that was in the stream when it was called has been delivered
   * (or discarded): each shard has read past it and has nothing left to deliver. A shard
   * waiting on a batch that keeps failing is not idle: this then throws PollerIdleTimeoutError.
   */
  async idle(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.running || this.stopRequested) throw new Error('The poller is not running');
    const timeoutMs = options.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const mark = this.tick();
    while (!this.isIdleSince(mark)) {
      if (this.stopRequested)
        throw new Error('The poller was stopped while waiting for it to be idle');
      if (Date.now() >= deadline) throw new PollerIdleTimeoutError(this.streamName, timeoutMs);
      // Poll now rather than after the interval; retry back-offs keep their pace.
      this.wake('poll');
      await new Promise((resolve) => setTimeout(resolve, IDLE_CHECK_MS));
    }
  }

  private async shutDown(): Promise<void> {
    this.wake();
    await this.discovery;
    await Promise.all([...this.shards.values()].map((shard) => shard.loop));
    for (const shard of this.shards.values()) shard.loop = undefined;
    this.discovery = undefined;
    this.running = false;
    this.stopRequested = false;
    this.stopping = undefined;
  }

  private get isStopping(): boolean {
    return this.stopRequested;
  }

  private tick(): number {
    this.clock += 1;
    return this.clock;
  }

  private isIdleSince(mark: number): boolean {
    if (this.lastDiscoveryTick <= mark) return false;
    for (const shard of this.shards.values()) {
      if (shard.finished) continue;
      if (shard.buffer.length > 0 || shard.lastEmptyPollTick <= mark) return false;
    }
    return true;
  }

  // ---- shard discovery ----

  private async runDiscovery(): Promise<void> {
    this.region ??= await this.clientRegion();
    const interval = Math.max(MIN_DISCOVERY_INTERVAL_MS, this.pollIntervalMs * 5);
    while (!this.isStopping) {
      const tick = this.tick();
      try {
        const startingPosition = this.shards.size === 0 ? this.startingPosition : 'TRIM_HORIZON';
        this.addShards(await this.listShards(), startingPosition);
        this.lastDiscoveryTick = tick;
      } catch (err) {
        this.reportError(err, { phase: 'listShards', streamName: this.streamName });
      }
      await this.sleep(interval, 'poll');
    }
  }

  private async clientRegion(): Promise<string> {
    try {
      return await this.client.config.region();
    } catch {
      return 'us-east-1';
    }
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListShardsCommand(
          nextToken === undefined ? { StreamName: this.streamName } : { NextToken: nextToken },
        ),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return shards;
  }

  private addShards(shards: Shard[], startingPosition: StartingPosition): void {
    const added: ShardState[] = [];
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (shardId === undefined || this.shards.has(shardId)) continue;
      const state: ShardState = {
        shardId,
        parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter(
          (id): id is string => id !== undefined,
        ),
        startingPosition,
        iterator: undefined,
        buffer: [],
        checkpoint: undefined,
        lastFetched: undefined,
        closed: false,
        finished: false,
        headFailures: undefined,
        lastEmptyPollTick: 0,
        windowStartedAt: undefined,
        loop: undefined,
      };
      this.shards.set(shardId, state);
      added.push(state);
    }
    // Start loops only once all states exist, so a child sees its parent.
    for (const state of added) state.loop = this.runShard(state);
  }

  // ---- one shard ----

  private async runShard(shard: ShardState): Promise<void> {
    try {
      // Like the real mapping: a child shard's records come after all of its parents'.
      while (!this.isStopping && this.hasUnfinishedParent(shard)) {
        await this.sleep(this.pollIntervalMs, 'poll');
      }
      while (!this.isStopping && !shard.finished) {
        const fetched = await this.fetch(shard);
        if (this.isStopping) break;
        if (shard.buffer.length === 0) {
          if (shard.closed) shard.finished = true;
          else await this.sleep(this.pollIntervalMs, 'poll');
          continue;
        }
        if (this.shouldWaitForMore(shard)) {
          if (fetched === 0) await this.sleep(this.windowWaitMs(shard), 'poll');
          continue;
        }
        shard.windowStartedAt = undefined;
        await this.deliverHead(shard);
      }
    } catch (err) {
      this.reportError(err, {
        phase: 'internal',
        streamName: this.streamName,
        shardId: shard.shardId,
      });
    }
  }

  private hasUnfinishedParent(shard: ShardState): boolean {
    return shard.parentShardIds.some((id) => {
      const parent = this.shards.get(id);
      return parent !== undefined && !parent.finished;
    });
  }

  /** Reads the next records of the shard into its buffer; returns how many came. */
  private async fetch(shard: ShardState): Promise<number> {
    if (shard.closed || this.batchLength(shard) < shard.buffer.length) return 0;
    const room = this.batchSize - shard.buffer.length;
    if (room <= 0) return 0;
    const tick = this.tick();
    try {
      shard.iterator ??= await this.shardIterator(shard);
      const output = await this.client.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: room }),
      );
      const records = output.Records ?? [];
      for (const record of records) {
        const eventRecord = this.toEventRecord(shard.shardId, record);
        shard.buffer.push(eventRecord);
        shard.lastFetched = eventRecord.kinesis.sequenceNumber;
      }
      shard.iterator = output.NextShardIterator;
      if (output.NextShardIterator === undefined) shard.closed = true;
      if (records.length === 0) shard.lastEmptyPollTick = tick;
      return records.length;
    } catch (err) {
      shard.iterator = undefined;
      if (!(err instanceof ExpiredIteratorException)) {
        this.reportError(err, {
          phase: 'getRecords',
          streamName: this.streamName,
          shardId: shard.shardId,
        });
        await this.sleep(this.pollIntervalMs, 'backoff');
      }
      return 0;
    }
  }

  private async shardIterator(shard: ShardState): Promise<string | undefined> {
    const after = shard.lastFetched ?? shard.checkpoint;
    const position: { ShardIteratorType: ShardIteratorType; StartingSequenceNumber?: string } =
      after === undefined
        ? { ShardIteratorType: shard.startingPosition }
        : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after };
    const output = await this.client.send(
      new GetShardIteratorCommand({
        StreamName: this.streamName,
        ShardId: shard.shardId,
        ...position,
      }),
    );
    return output.ShardIterator;
  }

  private toEventRecord(shardId: string, record: _Record): KinesisStreamRecord {
    const sequenceNumber = record.SequenceNumber ?? '';
    const data = record.Data ?? new Uint8Array();
    const arrival = record.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: record.PartitionKey ?? '',
        sequenceNumber,
        data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
        approximateArrivalTimestamp: arrival / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: INVOKE_IDENTITY_ARN,
      awsRegion: this.region ?? 'us-east-1',
      eventSourceARN: this.eventSourceArn,
    };
  }

  /** With a batching window, wait while the batch is not full and the window is open. */
  private shouldWaitForMore(shard: ShardState): boolean {
    if (this.batchWindowMs === 0 || shard.closed || this.headFailureCount(shard) > 0) return false;
    if (this.batchLength(shard) < shard.buffer.length || shard.buffer.length >= this.batchSize) {
      return false;
    }
    shard.windowStartedAt ??= Date.now();
    return this.windowWaitMs(shard) > 0;
  }

  private windowWaitMs(shard: ShardState): number {
    const elapsed = Date.now() - (shard.windowStartedAt ?? Date.now());
    return Math.min(this.pollIntervalMs, Math.max(0, this.batchWindowMs - elapsed));
  }

  /** How many head records make the next batch: up to batchSize, within the payload limit. */
  private batchLength(shard: ShardState): number {
    let bytes = 0;
    let count = 0;
    for (const record of shard.buffer) {
      if (count >= this.batchSize) break;
      const size = record.kinesis.data.length + record.kinesis.partitionKey.length;
      bytes += size + RECORD_ENVELOPE_BYTES;
      if (count > 0 && bytes > MAX_PAYLOAD_BYTES) break;
      count += 1;
    }
    return count;
  }

  // ---- delivery and retries ----

  /**
   * Delivers the next batch from the head of the buffer. A retry after a failure takes a new
   * batch from the checkpoint, so it may include records that arrived since.
   */
  private async deliverHead(shard: ShardState): Promise<void> {
    const batch = shard.buffer.slice(0, this.batchLength(shard));
    const failuresBefore = this.headFailureCount(shard);
    const outcome = await this.invoke(shard, batch, failuresBefore + 1);
    if (outcome.kind === 'success') {
      this.commit(shard, batch.length);
      return;
    }
    if (outcome.kind === 'error' && this.bisectBatchOnError && batch.length > 1) {
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
    if (this.retriesExhausted(failures)) {
      this.discard(
        shard,
        remaining,
        failures,
        outcome.kind === 'error' ? outcome.error : undefined,
      );
    } else {
      await this.backOff(failures);
    }
  }

  /**
   * Delivers exactly the first `count` buffered records (a bisected half) until each is
   * checkpointed or discarded. `failures` counts failed invocations for the first record.
   */
  private async resolveRange(shard: ShardState, count: number, failures: number): Promise<void> {
    let remaining = count;
    let failed = failures;
    while (remaining > 0 && !this.isStopping) {
      const batch = shard.buffer.slice(0, remaining);
      const outcome = await this.invoke(shard, batch, failed + 1);
      if (outcome.kind === 'success') {
        this.commit(shard, remaining);
        return;
      }
      if (outcome.kind === 'error' && this.bisectBatchOnError && remaining > 1) {
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
      if (this.retriesExhausted(failed)) {
        this.discard(
          shard,
          remaining,
          failed,
          outcome.kind === 'error' ? outcome.error : undefined,
        );
        return;
      }
      await this.backOff(failed);
    }
  }

  /** Splits the first `count` buffered records, whose invocation failed, in two and resolves each. */
  private async bisect(shard: ShardState, count: number, failures: number): Promise<void> {
    const firstHalf = Math.ceil(count / 2);
    await this.resolveRange(shard, firstHalf, failures);
    // A stop in the first half leaves the buffer at the checkpoint; a restart resumes there.
    if (this.isStopping) return;
    await this.resolveRange(shard, count - firstHalf, failures);
  }

  private async invoke(
    shard: ShardState,
    batch: KinesisStreamRecord[],
    attempt: number,
  ): Promise<Outcome> {
    const context: PollerErrorContext = {
      phase: 'invoke',
      streamName: this.streamName,
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
      response = await this.handler(event);
    } catch (err) {
      this.reportError(err, context);
      return { kind: 'error', error: err };
    }
    const outcome = interpretResponse(batch, response);
    if (outcome.kind === 'error') this.reportError(outcome.error, context);
    return outcome;
  }

  private headFailureCount(shard: ShardState): number {
    const head = shard.buffer[0];
    const failures = shard.headFailures;
    return head !== undefined && failures?.sequenceNumber === head.kinesis.sequenceNumber
      ? failures.count
      : 0;
  }

  private retriesExhausted(failures: number): boolean {
    return this.maxRetryAttempts >= 0 && failures > this.maxRetryAttempts;
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
    const details: DiscardDetails = {
      condition: 'RetryAttemptsExhausted',
      streamName: this.streamName,
      shardId: shard.shardId,
      startSequenceNumber: first.kinesis.sequenceNumber,
      endSequenceNumber: last.kinesis.sequenceNumber,
      batchSize: records.length,
      attempts,
      lastError,
    };
    if (this.onDiscard === undefined) {
      console.error(
        `[kinesis-poller] ${this.streamName}/${shard.shardId}: discarded ${records.length} record(s) ` +
          `${details.startSequenceNumber}..${details.endSequenceNumber} after ${attempts} failed attempt(s)`,
      );
      return;
    }
    try {
      this.onDiscard(records, details);
    } catch (err) {
      this.reportError(err, {
        phase: 'onDiscard',
        streamName: this.streamName,
        shardId: shard.shardId,
      });
    }
  }

  private backOff(failures: number): Promise<void> {
    const delay = Math.min(this.retryDelayMs * 2 ** (failures - 1), this.maxRetryDelayMs);
    return this.sleep(delay, 'backoff');
  }

  private reportError(err: unknown, context: PollerErrorContext): void {
    if (this.onError === undefined) {
      const where = context.shardId === undefined ? '' : `/${context.shardId}`;
      const message = err instanceof Error ? err.message : String(err);
      console.warn(`[kinesis-poller] ${context.phase} ${context.streamName}${where}: ${message}`);
      return;
    }
    try {
      this.onError(err, context);
    } catch {
      // An observer's failure must not stop the mapping.
    }
  }

  // ---- timers ----

  /** A timer that stop() (and, for polls, idle()) can cut short. */
  private sleep(ms: number, kind: Sleeper['kind']): Promise<void> {
    if (this.isStopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const sleeper: Sleeper = {
        kind,
        wake: () => {
          clearTimeout(timer);
          this.sleepers.delete(sleeper);
          resolve();
        },
      };
      const timer = setTimeout(sleeper.wake, ms);
      this.sleepers.add(sleeper);
    });
  }

  private wake(kind?: Sleeper['kind']): void {
    for (const sleeper of [...this.sleepers]) {
      if (kind === undefined || sleeper.kind === kind) sleeper.wake();
    }
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

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
