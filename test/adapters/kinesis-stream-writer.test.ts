import { randomUUID } from 'node:crypto';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  KinesisClient,
  KMSThrottlingException,
  ProvisionedThroughputExceededException,
  PutRecordCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KinesisUsageStreamWriter } from '../../shared/adapters/kinesis-stream-writer.js';
import { NotFoundError, ServiceUnavailableError } from '../../shared/domain/errors.js';
import {
  createLocalKinesisClient,
  ensureStream,
  type LocalKinesis,
  startLocalKinesis,
} from '../../shared/local/kinesis-local.js';

const bytes = new Uint8Array([0x7b, 0x00, 0xff, 0x7d]);

describe('KinesisUsageStreamWriter error mapping', () => {
  const client = new KinesisClient({ region: 'eu-west-1' });
  const kinesisMock = mockClient(client);
  const writer = new KinesisUsageStreamWriter({ client });
  const meta = { $metadata: {} };

  beforeEach(() => {
    kinesisMock.reset();
  });

  it('sends the bytes with the stream name and partition key and returns where they landed', async () => {
    kinesisMock
      .on(PutRecordCommand)
      .resolves({ ShardId: 'shardId-000000000001', SequenceNumber: '4960' });

    const result = await writer.putRecord('usage-events', 'alice', bytes);

    expect(result).toEqual({ shardId: 'shardId-000000000001', sequenceNumber: '4960' });
    expect(kinesisMock.commandCalls(PutRecordCommand)[0]?.args[0].input).toEqual({
      StreamName: 'usage-events',
      PartitionKey: 'alice',
      Data: bytes,
    });
  });

  it.each([
    new ProvisionedThroughputExceededException({ message: 'Rate exceeded', ...meta }),
    new KMSThrottlingException({ message: 'KMS throttled', ...meta }),
    Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('Bad gateway'), {
      name: 'UnknownError',
      $metadata: { httpStatusCode: 502 },
    }),
  ])('maps %s to ServiceUnavailableError, keeping the cause', async (error) => {
    kinesisMock.on(PutRecordCommand).rejects(error);
    const thrown = await writer.putRecord('usage-events', 'alice', bytes).catch((e) => e);
    expect(thrown).toBeInstanceOf(ServiceUnavailableError);
    expect(thrown.message).toContain('usage-events');
    expect(thrown.cause).toBe(error);
  });

  it('puts on the Kinesis stream that stands for the configured stream', async () => {
    kinesisMock
      .on(PutRecordCommand)
      .resolves({ ShardId: 'shardId-000000000000', SequenceNumber: '7' });
    const named = new KinesisUsageStreamWriter({
      client,
      streamNames: { 'usage-events': 'UsageMetering-StreamUsageEvents-Q1W2E3' },
    });
    await named.putRecord('usage-events', 'alice', bytes);
    expect(kinesisMock.commandCalls(PutRecordCommand)[0]?.args[0].input.StreamName).toBe(
      'UsageMetering-StreamUsageEvents-Q1W2E3',
    );
  });

  it('maps a missing stream to NotFoundError naming the stream', async () => {
    const error = new ResourceNotFoundException({ message: 'Stream not found', ...meta });
    kinesisMock.on(PutRecordCommand).rejects(error);
    const thrown = await writer.putRecord('gone', 'alice', bytes).catch((e) => e);
    expect(thrown).toBeInstanceOf(NotFoundError);
    expect(thrown.message).toMatch(/stream gone does not exist/);
    expect(thrown.cause).toBe(error);
  });

  it('passes other errors on unchanged', async () => {
    const error = new InvalidArgumentException({ message: 'bad partition key', ...meta });
    kinesisMock.on(PutRecordCommand).rejects(error);
    await expect(writer.putRecord('usage-events', 'alice', bytes)).rejects.toBe(error);
  });

  it('refuses a response without a sequence number', async () => {
    kinesisMock.on(PutRecordCommand).resolves({ ShardId: 'shardId-000000000000' });
    await expect(writer.putRecord('usage-events', 'alice', bytes)).rejects.toThrow(
      /no shard id or sequence number/,
    );
  });
});

describe('KinesisUsageStreamWriter against local Kinesis', () => {
  let kinesis: LocalKinesis;
  let client: KinesisClient;

  beforeAll(async () => {
    kinesis = await startLocalKinesis({ port: 0 });
    client = createLocalKinesisClient(kinesis.endpoint);
  });

  afterAll(async () => {
    client?.destroy();
    await kinesis?.stop();
  });

  it('puts the exact bytes with the partition key at the sequence number it returns', async () => {
    const streamName = `test-${randomUUID()}`;
    await ensureStream(client, streamName, 2);
    const writer = new KinesisUsageStreamWriter({ client });

    const { shardId, sequenceNumber } = await writer.putRecord(streamName, 'alice', bytes);

    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: sequenceNumber,
      }),
    );
    const { Records } = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
    expect(Records?.[0]?.SequenceNumber).toBe(sequenceNumber);
    expect(Records?.[0]?.PartitionKey).toBe('alice');
    expect(Buffer.from(Records?.[0]?.Data ?? []).equals(Buffer.from(bytes))).toBe(true);
  });

  it('reports a stream that does not exist as NotFoundError', async () => {
    const writer = new KinesisUsageStreamWriter({ client });
    await expect(
      writer.putRecord(`missing-${randomUUID()}`, 'alice', bytes),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
