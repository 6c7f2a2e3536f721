/**
 * Reading one shard for the local event-source poller: its state, GetRecords into a buffer of
 * Lambda-shaped records, and how many head records make the next batch (count, payload size,
 * batching window).
 */
import {
  type _Record,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';

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

/** What the reader and the delivery of a shard take from the poller that runs them. */
export interface PollerHost {
  readonly streamName: string;
  /** Advances the poller's clock; `idle()` compares ticks. */
  tick(): number;
  isStopping(): boolean;
  /** A timer that stop() (and, for polls, idle()) can cut short. */
  sleep(ms: number, kind: 'poll' | 'backoff'): Promise<void>;
  reportError(err: unknown, context: PollerErrorContext): void;
  /** `awsRegion` of the events, once known. */
  region(): string | undefined;
  eventSourceArn(): string;
}

export interface ShardState {
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

const ACCOUNT_ID = '000000000000';
const INVOKE_IDENTITY_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/local-event-source-mapping`;
/** Lambda's synchronous invocation payload limit; a batch is cut before it. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Rough JSON size of one event record beside its data. */
const RECORD_ENVELOPE_BYTES = 600;

/** The ARN events carry as `eventSourceARN`. */
export function eventSourceArnOf(region: string | undefined, streamName: string): string {
  return `arn:aws:kinesis:${region ?? 'us-east-1'}:${ACCOUNT_ID}:stream/${streamName}`;
}

/** A shard found by ListShards, nothing read yet. */
export function newShardState(
  shardId: string,
  shard: Shard,
  startingPosition: StartingPosition,
): ShardState {
  return {
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
}

/** Failed invocations so far for the record at the head of the buffer. */
export function headFailureCount(shard: ShardState): number {
  const head = shard.buffer[0];
  const failures = shard.headFailures;
  return head !== undefined && failures?.sequenceNumber === head.kinesis.sequenceNumber
    ? failures.count
    : 0;
}

/** How many head records make the next batch: up to batchSize, within the payload limit. */
export function batchLength(shard: ShardState, batchSize: number): number {
  let bytes = 0;
  let count = 0;
  for (const record of shard.buffer) {
    if (count >= batchSize) break;
    const size = record.kinesis.data.length + record.kinesis.partitionKey.length;
    bytes += size + RECORD_ENVELOPE_BYTES;
    if (count > 0 && bytes > MAX_PAYLOAD_BYTES) break;
    count += 1;
  }
  return count;
}

/** Settings of {@link ShardReader}. */
export interface ShardReaderSettings {
  client: KinesisClient;
  batchSize: number;
  batchWindowMs: number;
  pollIntervalMs: number;
}

/** Reads shards into their buffers and decides when a batch is ready. */
export class ShardReader {
  constructor(
    private readonly host: PollerHost,
    private readonly settings: ShardReaderSettings,
  ) {}

  /** Reads the next records of the shard into its buffer; returns how many came. */
  async fetch(shard: ShardState): Promise<number> {
    const { batchSize, client } = this.settings;
    if (shard.closed || batchLength(shard, batchSize) < shard.buffer.length) return 0;
    const room = batchSize - shard.buffer.length;
    if (room <= 0) return 0;
    const tick = this.host.tick();
    try {
      shard.iterator ??= await this.shardIterator(shard);
      const output = await client.send(
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
        this.host.reportError(err, {
          phase: 'getRecords',
          streamName: this.host.streamName,
          shardId: shard.shardId,
        });
        await this.host.sleep(this.settings.pollIntervalMs, 'backoff');
      }
      return 0;
    }
  }

  /** With a batching window, wait while the batch is not full and the window is open. */
  shouldWaitForMore(shard: ShardState): boolean {
    const { batchSize, batchWindowMs } = this.settings;
    if (batchWindowMs === 0 || shard.closed || headFailureCount(shard) > 0) return false;
    if (batchLength(shard, batchSize) < shard.buffer.length || shard.buffer.length >= batchSize) {
      return false;
    }
    shard.windowStartedAt ??= Date.now();
    return this.windowWaitMs(shard) > 0;
  }

  /** How long to wait for more records before the window closes (at most one poll interval). */
  windowWaitMs(shard: ShardState): number {
    const elapsed = Date.now() - (shard.windowStartedAt ?? Date.now());
    return Math.min(
      this.settings.pollIntervalMs,
      Math.max(0, this.settings.batchWindowMs - elapsed),
    );
  }

  private async shardIterator(shard: ShardState): Promise<string | undefined> {
    const after = shard.lastFetched ?? shard.checkpoint;
    const position: { ShardIteratorType: ShardIteratorType; StartingSequenceNumber?: string } =
      after === undefined
        ? { ShardIteratorType: shard.startingPosition }
        : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after };
    const output = await this.settings.client.send(
      new GetShardIteratorCommand({
        StreamName: this.host.streamName,
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
      awsRegion: this.host.region() ?? 'us-east-1',
      eventSourceARN: this.host.eventSourceArn(),
    };
  }
}
