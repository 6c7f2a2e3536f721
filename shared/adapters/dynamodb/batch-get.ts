/** Strongly consistent reads of many items by key, as DynamoDB's BatchGetItem allows them. */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { rethrowStoreError } from './errors.js';

type Item = Record<string, NativeAttributeValue>;

const MAX_KEYS_PER_CALL = 100;
const MAX_ATTEMPTS = 9;

/**
 * Reads the items with these keys (100 a call), retrying with back-off the keys DynamoDB
 * returns unprocessed, so no item is silently missed; keys without an item are left out.
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
  projection?: string,
): Promise<Item[]> {
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += MAX_KEYS_PER_CALL) {
    let pending: Item[] | undefined = keys
      .slice(start, start + MAX_KEYS_PER_CALL)
      .map((k) => ({ pk: k.pk, sk: k.sk }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error('DynamoDB kept returning unprocessed keys');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      const output: BatchGetCommandOutput = await client
        .send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ...(projection ? { ProjectionExpression: projection } : {}),
              },
            },
          }),
        )
        .catch(rethrowStoreError);
      found.push(...(output.Responses?.[tableName] ?? []));
      pending = output.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return found;
}
