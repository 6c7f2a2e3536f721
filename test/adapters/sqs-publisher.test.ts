import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsRecordPublisher } from '../../shared/adapters/sqs-publisher.js';
import type { PublishableRecord } from '../../shared/ports/record-publisher.js';

const sqsMock = mockClient(SQSClient);
const client = new SQSClient({ region: 'eu-west-1' });
const standardUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/metered-records';
const fifoUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/metered-records.fifo';

function record(
  n: number,
  extra: Record<string, unknown> = {},
): PublishableRecord & Record<string, unknown> {
  return {
    recordId: `meter-${n % 3}#2024-02-01T00:00:00.000Z#final#${n}`,
    recordType: n % 2 === 0 ? 'final' : 'partial',
    id: `00000000-0000-4000-8000-00000000000${n % 3}`,
    meterTypeId: 'api-calls',
    userId: `user-${n}`,
    usage: n * 10,
    ...extra,
  };
}

/** Resolves every entry of every batch as successful. */
function acceptAll(): void {
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries?: { Id?: string }[] }) => ({
    Successful: (input.Entries ?? []).map((e) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
      MD5OfMessageBody: 'x',
    })),
    Failed: [],
  }));
}

beforeEach(() => {
  sqsMock.reset();
});

describe('SqsRecordPublisher', () => {
  it('sends a standard-queue entry with JSON body and filterable attributes, no FIFO ids', async () => {
    acceptAll();
    const r = record(2);

    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish([r]);

    expect(result).toEqual({ sent: [r.recordId], failed: [] });
    const input = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(standardUrl);
    const entry = input?.Entries?.[0];
    expect(entry?.Id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(JSON.parse(entry?.MessageBody ?? '')).toEqual(r);
    expect(entry?.MessageAttributes).toEqual({
      recordType: { DataType: 'String', StringValue: 'final' },
      meterTypeId: { DataType: 'String', StringValue: 'api-calls' },
      userId: { DataType: 'String', StringValue: 'user-2' },
    });
    expect(entry).not.toHaveProperty('MessageGroupId');
    expect(entry).not.toHaveProperty('MessageDeduplicationId');
  });

  it('on a FIFO queue groups by meter id and deduplicates by recordId', async () => {
    acceptAll();
    const r = record(4);

    await new SqsRecordPublisher({ client, queueUrl: fifoUrl }).publish([r]);

    const entry = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.MessageGroupId).toBe(r.id);
    expect(entry?.MessageDeduplicationId).toBe(r.recordId);
  });

  it('lets the fifo option override the URL suffix', async () => {
    acceptAll();
    await new SqsRecordPublisher({ client, queueUrl: standardUrl, fifo: true }).publish([
      record(1),
    ]);
    const entry = sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.MessageDeduplicationId).toBe(record(1).recordId);
  });

  it('sends 25 records in batches of 10, 10 and 5 with ids unique per batch', async () => {
    acceptAll();
    const records = Array.from({ length: 25 }, (_, n) => record(n));

    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish(records);

    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    for (const call of calls) {
      const ids = (call.args[0].input.Entries ?? []).map((e) => e.Id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(result.sent).toEqual(records.map((r) => r.recordId));
    expect(result.failed).toEqual([]);
  });

  it('reports the entries listed in Failed and sends the rest', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries?: { Id?: string }[] }) => {
      const [first, ...rest] = input.Entries ?? [];
      return {
        Successful: rest.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
        Failed: [
          { Id: first?.Id, SenderFault: false, Code: 'InternalError', Message: 'try again' },
        ],
      };
    });
    const records = [record(0), record(1), record(2)];

    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish(records);

    expect(result.sent).toEqual([records[1]?.recordId, records[2]?.recordId]);
    expect(result.failed).toEqual([
      { recordId: records[0]?.recordId, error: 'InternalError: try again' },
    ]);
  });

  it('marks a whole batch failed when the call throws, and still sends the other batches', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))
      .callsFake((input: { Entries?: { Id?: string }[] }) => ({
        Successful: (input.Entries ?? []).map((e) => ({
          Id: e.Id,
          MessageId: 'm',
          MD5OfMessageBody: 'x',
        })),
      }));
    const records = Array.from({ length: 12 }, (_, n) => record(n));

    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish(records);

    expect(result.failed.map((f) => f.recordId)).toEqual(
      records.slice(0, 10).map((r) => r.recordId),
    );
    expect(result.failed[0]?.error).toBe('TimeoutError: socket hang up');
    expect(result.sent).toEqual(records.slice(10).map((r) => r.recordId));
  });

  it('reports an entry missing from the response as failed', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish([
      record(0),
    ]);
    expect(result.sent).toEqual([]);
    expect(result.failed).toHaveLength(1);
  });

  it('splits batches so no batch exceeds 256 KiB', async () => {
    acceptAll();
    const padding = 'x'.repeat(100 * 1024);
    const records = Array.from({ length: 5 }, (_, n) => record(n, { padding }));

    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish(records);

    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([2, 2, 1]);
    for (const call of calls) {
      const bytes = (call.args[0].input.Entries ?? []).reduce(
        (sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(262_144);
    }
    expect(result.sent).toHaveLength(5);
  });

  it('reports a record too large for one message as failed without sending it', async () => {
    acceptAll();
    const huge = record(0, { padding: 'x'.repeat(256 * 1024) });
    const small = record(1);

    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish([
      huge,
      small,
    ]);

    expect(result.sent).toEqual([small.recordId]);
    expect(result.failed.map((f) => f.recordId)).toEqual([huge.recordId]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('sends nothing for an empty list', async () => {
    const result = await new SqsRecordPublisher({ client, queueUrl: standardUrl }).publish([]);
    expect(result).toEqual({ sent: [], failed: [] });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
