/**
 * Local stand-in for the AWS Lambda Kinesis event source mapping: polls every shard of one
 * stream and invokes a handler with Lambda-shaped batches, with the mapping's retry rules
 * (ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts, an on-failure
 * destination). By default, like the deployed mapping, a failing batch is retried forever:
 * its shard waits, backing off, and nothing is discarded. Checkpoints live in memory: a new
 * poller starts again from its starting position, which downstream code tolerates because it
 * is idempotent by sequence number.
 */
import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import {
  BatchDelivery,
  type DiscardDetails,
  type KinesisBatchHandler,
} from './kinesis-batch-delivery.js';
import {
  eventSourceArnOf,
  newShardState,
  type PollerErrorContext,
  type PollerHost,
  ShardReader,
  type ShardState,
  type StartingPosition,
} from './kinesis-shard-reader.js';

export {
  type DiscardDetails,
  InvalidBatchResponseError,
  type KinesisBatchHandler,
} from './kinesis-batch-delivery.js';
export type { PollerErrorContext, StartingPosition } from './kinesis-shard-reader.js';

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

const MIN_DISCOVERY_INTERVAL_MS = 1_000;
const IDLE_CHECK_MS = 10;
/** Below vitest's default test timeout here, so a stuck stream fails with a clear error. */
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

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
  private readonly pollIntervalMs: number;
  private readonly startingPosition: StartingPosition;
  private readonly onError: ((err: unknown, context: PollerErrorContext) => void) | undefined;
  private readonly reader: ShardReader;
  private readonly delivery: BatchDelivery;

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
    const batchSize = integerIn('batchSize', options.batchSize ?? 100, 1, 10_000);
    const batchWindowMs = integerIn('batchWindowMs', options.batchWindowMs ?? 0, 0, 300_000);
    const maxRetryAttempts = integerIn(
      'maxRetryAttempts',
      options.maxRetryAttempts ?? -1,
      -1,
      10_000,
    );
    const retryDelayMs = integerIn('retryDelayMs', options.retryDelayMs ?? 100, 1, 60_000);
    const maxRetryDelayMs = integerIn(
      'maxRetryDelayMs',
      options.maxRetryDelayMs ?? 2_000,
      retryDelayMs,
      60_000,
    );
    this.pollIntervalMs = integerIn('pollIntervalMs', options.pollIntervalMs ?? 200, 1, 60_000);
    this.startingPosition = options.startingPosition ?? 'TRIM_HORIZON';
    this.region = options.region;
    this.onError = options.onError;
    const host = this.host();
    this.reader = new ShardReader(host, {
      client: options.client,
      batchSize,
      batchWindowMs,
      pollIntervalMs: this.pollIntervalMs,
    });
    this.delivery = new BatchDelivery(host, {
      handler: options.handler,
      batchSize,
      bisectBatchOnError: options.bisectBatchOnError ?? true,
      maxRetryAttempts,
      retryDelayMs,
      maxRetryDelayMs,
      onDiscard: options.onDiscard,
    });
  }

  /** The ARN that events carry as `eventSourceARN`. */
  get eventSourceArn(): string {
    return eventSourceArnOf(this.region, this.streamName);
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
      const state = newShardState(shardId, shard, startingPosition);
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
        const fetched = await this.reader.fetch(shard);
        if (this.isStopping) break;
        if (shard.buffer.length === 0) {
          if (shard.closed) shard.finished = true;
          else await this.sleep(this.pollIntervalMs, 'poll');
          continue;
        }
        if (this.reader.shouldWaitForMore(shard)) {
          if (fetched === 0) await this.sleep(this.reader.windowWaitMs(shard), 'poll');
          continue;
        }
        shard.windowStartedAt = undefined;
        await this.delivery.deliverHead(shard);
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

  /** What the shard reader and the batch delivery take from this poller. */
  private host(): PollerHost {
    return {
      streamName: this.streamName,
      tick: () => this.tick(),
      isStopping: () => this.isStopping,
      sleep: (ms, kind) => this.sleep(ms, kind),
      reportError: (err, context) => this.reportError(err, context),
      region: () => this.region,
      eventSourceArn: () => this.eventSourceArn,
    };
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

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
