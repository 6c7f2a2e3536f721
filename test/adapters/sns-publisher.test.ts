import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsRecordPublisher } from '../../shared/adapters/sns-publisher.js';
import type { PublishableRecord } from '../../shared/ports/record-publisher.js';

const snsMock = mockClient(SNSClient);
const client = new SNSClient({ region: 'eu-west-1' });
const standardArn = 'arn:aws:sns:eu-west-1:123456789012:metered-records';
const fifoArn = 'arn:aws:sns:eu-west-1:123456789012:metered-records.fifo';

function record(n: number): PublishableRecord & Record<string, unknown> {
  return {
    recordId: `rec-${n}`,
    recordType: 'partial',
    id: `00000000-0000-4000-8000-00000000000${n % 3}`,
    meterTypeId: 'storage-gb',
    userId: `user-${n}`,
    thresholdName: 'warning',
  };
}

function acceptAll(): void {
  snsMock
    .on(PublishBatchCommand)
    .callsFake((input: { PublishBatchRequestEntries?: { Id?: string }[] }) => ({
      Successful: (input.PublishBatchRequestEntries ?? []).map((e) => ({
        Id: e.Id,
        MessageId: 'm',
      })),
      Failed: [],
    }));
}

beforeEach(() => {
  snsMock.reset();
});

describe('SnsRecordPublisher', () => {
  it('publishes JSON with String attributes subscribers can filter on', async () => {
    acceptAll();
    const r = record(1);

    const result = await new SnsRecordPublisher({ client, topicArn: standardArn }).publish([r]);

    expect(result).toEqual({ sent: ['rec-1'], failed: [] });
    const input = snsMock.commandCalls(PublishBatchCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe(standardArn);
    const entry = input?.PublishBatchRequestEntries?.[0];
    expect(JSON.parse(entry?.Message ?? '')).toEqual(r);
    expect(entry?.MessageAttributes).toEqual({
      recordType: { DataType: 'String', StringValue: 'partial' },
      meterTypeId: { DataType: 'String', StringValue: 'storage-gb' },
      userId: { DataType: 'String', StringValue: 'user-1' },
    });
    expect(entry).not.toHaveProperty('MessageGroupId');
    expect(entry).not.toHaveProperty('MessageDeduplicationId');
  });

  it('on a FIFO topic sets MessageGroupId = meter id and MessageDeduplicationId = recordId', async () => {
    acceptAll();
    await new SnsRecordPublisher({ client, topicArn: fifoArn }).publish([record(2)]);
    const entry =
      snsMock.commandCalls(PublishBatchCommand)[0]?.args[0].input.PublishBatchRequestEntries?.[0];
    expect(entry?.MessageGroupId).toBe(record(2).id);
    expect(entry?.MessageDeduplicationId).toBe('rec-2');
  });

  it('publishes in batches of at most 10', async () => {
    acceptAll();
    const records = Array.from({ length: 25 }, (_, n) => record(n));
    const result = await new SnsRecordPublisher({ client, topicArn: standardArn }).publish(records);
    expect(
      snsMock
        .commandCalls(PublishBatchCommand)
        .map((c) => c.args[0].input.PublishBatchRequestEntries?.length),
    ).toEqual([10, 10, 5]);
    expect(result.sent).toHaveLength(25);
  });

  it('reports per-entry failures and thrown errors as failed', async () => {
    snsMock
      .on(PublishBatchCommand)
      .callsFakeOnce((input: { PublishBatchRequestEntries?: { Id?: string }[] }) => {
        const [first, ...rest] = input.PublishBatchRequestEntries ?? [];
        return {
          Successful: rest.map((e) => ({ Id: e.Id, MessageId: 'm' })),
          Failed: [{ Id: first?.Id, Code: 'InternalError', SenderFault: false }],
        };
      })
      .rejectsOnce(new Error('throttled'));
    const records = Array.from({ length: 11 }, (_, n) => record(n));

    const result = await new SnsRecordPublisher({ client, topicArn: standardArn }).publish(records);

    expect(result.sent).toEqual(records.slice(1, 10).map((r) => r.recordId));
    expect(result.failed).toEqual([
      { recordId: 'rec-0', error: 'InternalError' },
      { recordId: 'rec-10', error: 'Error: throttled' },
    ]);
  });
});
