import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { batchGetAll } from '../../shared/adapters/dynamodb/batch-get.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';

describe('batchGetAll', () => {
  it('reads again the keys DynamoDB returns unprocessed, so no item is missed', async () => {
    const client = createDocumentClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const mock = mockClient(client);
    mock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { t: [{ pk: 'a', sk: 's', n: 1 }] },
        UnprocessedKeys: { t: { Keys: [{ pk: 'b', sk: 's' }] } },
      })
      .resolvesOnce({ Responses: { t: [{ pk: 'b', sk: 's', n: 2 }] } });
    const items = await batchGetAll(client, 't', [
      { pk: 'a', sk: 's' },
      { pk: 'b', sk: 's' },
    ]);
    expect(items.map((item) => item.n)).toEqual([1, 2]);
    expect(mock.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.t?.Keys).toEqual([
      { pk: 'b', sk: 's' },
    ]);
  });

  it('asks for at most 100 keys a call', async () => {
    const client = createDocumentClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const mock = mockClient(client);
    mock.on(BatchGetCommand).resolves({ Responses: { t: [] } });
    await batchGetAll(
      client,
      't',
      Array.from({ length: 250 }, (_, i) => ({ pk: `k${i}`, sk: 's' })),
    );
    expect(
      mock.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.t?.Keys?.length),
    ).toEqual([100, 100, 50]);
  });
});
