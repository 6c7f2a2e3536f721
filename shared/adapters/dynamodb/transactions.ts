/** Transactions and counters shared by the DynamoDB stores. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes } from './errors.js';

export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** The summary counters are spread over this many items so no single item becomes hot. */
export const STATS_SHARDS = 10;

/** The key of one summary counter shard; a random one unless `shard` is given. */
export function statsKey(shard = Math.floor(Math.random() * STATS_SHARDS)): {
  pk: string;
  sk: string;
} {
  return { pk: 'STATS', sk: `SHARD#${shard}` };
}

const MAX_CONFLICT_RETRIES = 8;

/**
 * Runs a transaction, retrying with jittered back-off while DynamoDB cancels it only because a
 * concurrent transaction touched the same item (`TransactionConflict`). A failed condition is
 * never retried: it is the caller's answer.
 */
export async function transactWithRetry(
  client: DynamoDBDocumentClient,
  items: TransactItem[],
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      const codes = cancellationCodes(error);
      const onlyConflicts =
        codes?.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
      if (!onlyConflicts || attempt >= MAX_CONFLICT_RETRIES) throw error;
      const backoff = Math.min(1000, 20 * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, backoff / 2 + Math.random() * backoff));
    }
  }
}
