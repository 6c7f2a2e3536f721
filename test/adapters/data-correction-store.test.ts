/** putAll's failure handling and concurrency, which DynamoDB Local cannot provoke. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import type { DataCorrection } from '../../shared/ports/data-correction-store.js';

function entry(n: number): DataCorrection {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    reason: 'NO_METER',
    message: 'no meter for user',
    streamName: 'usage-events',
    shardId: 'shardId-000000000000',
    sequenceNumber: String(n),
    partitionKey: 'alice',
    data: 'e30=',
    receivedAt: '2025-01-10T00:00:00.000Z',
    correctedAt: '2025-01-10T00:00:01.000Z',
  };
}

/** A document client whose PutItem calls take a tick and may fail as `fail` says. */
function fakeClient(fail: (call: number) => unknown) {
  const state = { calls: 0, inFlight: 0, maxInFlight: 0 };
  const client = {
    send: async () => {
      const call = state.calls++;
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      state.inFlight -= 1;
      const error = fail(call);
      if (error) throw error;
      return {};
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, state };
}

describe('DynamoDbDataCorrectionStore.putAll', () => {
  it('writes at most 16 entries at a time and treats "already stored" as success', async () => {
    const conditionFailed = Object.assign(new Error('exists'), {
      name: 'ConditionalCheckFailedException',
    });
    const { client, state } = fakeClient((call) => (call % 2 ? conditionFailed : undefined));
    const store = new DynamoDbDataCorrectionStore(client, 'table');

    await store.putAll(Array.from({ length: 100 }, (_, n) => entry(n)));

    expect(state.calls).toBe(100);
    expect(state.maxInFlight).toBe(16);
  });

  it('stops taking entries after throttling and reports it as ServiceUnavailableError', async () => {
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const { client, state } = fakeClient((call) => (call === 3 ? throttled : undefined));
    const store = new DynamoDbDataCorrectionStore(client, 'table');

    const thrown = await store
      .putAll(Array.from({ length: 100 }, (_, n) => entry(n)))
      .catch((e) => e);

    expect(thrown).toBeInstanceOf(ServiceUnavailableError);
    expect(thrown.cause).toBe(throttled);
    expect(state.calls).toBeLessThan(40);
    expect(state.inFlight).toBe(0);
  });

  it('passes other errors on as they are', async () => {
    const tooLarge = Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException',
    });
    const { client } = fakeClient(() => tooLarge);
    const store = new DynamoDbDataCorrectionStore(client, 'table');
    await expect(store.putAll([entry(1)])).rejects.toBe(tooLarge);
  });

  it('does nothing for no entries', async () => {
    const { client, state } = fakeClient(() => undefined);
    await new DynamoDbDataCorrectionStore(client, 'table').putAll([]);
    expect(state.calls).toBe(0);
  });
});
