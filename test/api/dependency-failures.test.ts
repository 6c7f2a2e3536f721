import { randomUUID } from 'node:crypto';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbMeterStore } from '../../shared/adapters/dynamodb/meter-store.js';
import { DynamoDbMeterTypeStore } from '../../shared/adapters/dynamodb/meter-type-store.js';
import { InMemoryPeriodEndScheduler } from '../../shared/adapters/in-memory/period-end-scheduler.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

function throttled() {
  return new ProvisionedThroughputExceededException({
    message: 'slow down',
    $metadata: { httpStatusCode: 400 },
  });
}

describe('API when dependencies fail', () => {
  it('answers 503 with Retry-After when DynamoDB throttles, and never shows internals', async () => {
    const client = createDocumentClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const mock = mockClient(client);
    mock.on(GetCommand).rejects(throttled());
    mock.on(QueryCommand).rejects(throttled());
    mock.on(TransactWriteCommand).rejects(throttled());
    const meters = new DynamoDbMeterStore(client, 't');
    const api = await apiUnderTest({
      meterTypes: new DynamoDbMeterTypeStore(client, 't'),
      meters,
      summary: meters,
    });
    for (const [method, path, body] of [
      ['POST', '/meter-types', meterTypeBody()],
      ['GET', `/meter-types/${randomUUID()}`, undefined],
      ['GET', '/meters', undefined],
      ['POST', '/meters', { meterKey: 'k', meterTypeId: randomUUID(), userId: 'u' }],
    ] as const) {
      const response = await api.call(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(JSON.stringify(response.body)).not.toMatch(/slow down|Provisioned|stack/i);
    }
  });

  it('answers 500 with a generic body for an unexpected error, and logs it', async () => {
    const client = createDocumentClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    mockClient(client)
      .on(GetCommand)
      .rejects(new TypeError('secret internal detail at /var/task/index.js'));
    const meters = new DynamoDbMeterStore(client, 't');
    const api = await apiUnderTest({
      meterTypes: new DynamoDbMeterTypeStore(client, 't'),
      meters,
      summary: meters,
    });
    const response = await api.call('GET', `/meters/${randomUUID()}`);
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ message: 'internal error' });
    expect(api.errors).toHaveLength(1);
  });

  it('answers 503 and creates no meter when the scheduler is unavailable', async () => {
    const scheduler = new InMemoryPeriodEndScheduler();
    const api = await apiUnderTest({ scheduler });
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    scheduler.failNextCalls(1);
    const response = await api.call('POST', '/meters', {
      meterKey: 'k',
      meterTypeId: type.id,
      userId: 'u',
    });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    expect((await api.call('GET', '/meters')).body.meters).toEqual([]);
    expect(
      (await api.call('POST', '/meters', { meterKey: 'k', meterTypeId: type.id, userId: 'u' }))
        .status,
    ).toBe(201);
  });
});
