/**
 * A unique meter's claims on distinct values (ports/unique-claims.ts) in the meters table: one
 * small item per claim, read in strongly consistent batches and written in one transaction with
 * the meter, so a claim exists exactly when its value is counted.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MeterState } from '../../domain/meter-usage.js';
import type { UniqueClaim } from '../../domain/unique-values.js';
import { batchGetAll } from './batch-get.js';
import { cancellationCodes, rethrowStoreError } from './errors.js';
import { meterItemOf, replaceMeterItem } from './meter-item.js';
import { itemKeys } from './table.js';
import { transactWithRetry } from './transactions.js';

/** The keys among `keys` that have a claim item. */
export async function heldUniqueClaims(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly string[],
): Promise<ReadonlySet<string>> {
  if (keys.length === 0) return new Set();
  const byPk = new Map(keys.map((key) => [itemKeys.uniqueClaim(key).pk, key]));
  const items = await batchGetAll(
    client,
    tableName,
    [...byPk.keys()].map((pk) => ({ pk, sk: 'UNIQ' })),
    'pk',
  );
  const held = new Set<string>();
  for (const item of items) {
    const key = byPk.get(item.pk as string);
    if (key !== undefined) held.add(key);
  }
  return held;
}

/** Writes the meter by version and the claims, none held yet, in one transaction; false on a conflict. */
export async function replaceMeterClaiming(
  client: DynamoDBDocumentClient,
  tableName: string,
  next: MeterState,
  expectedVersion: number,
  claims: readonly UniqueClaim[],
): Promise<boolean> {
  if (claims.length === 0) return replaceMeterItem(client, tableName, next, expectedVersion);
  try {
    await transactWithRetry(client, [
      {
        Put: {
          TableName: tableName,
          Item: meterItemOf({ ...next, version: expectedVersion + 1 }, new Date(next.updatedAt)),
          ConditionExpression: '#id = :id AND #version = :version',
          ExpressionAttributeNames: { '#id': 'id', '#version': 'version' },
          ExpressionAttributeValues: { ':id': next.id, ':version': expectedVersion },
        },
      },
      ...claims.map((claim) => ({
        Put: {
          TableName: tableName,
          Item: {
            ...itemKeys.uniqueClaim(claim.key),
            entity: 'unique-claim',
            meterId: claim.meterId,
            periodStart: claim.periodStart,
            expiresAt: claim.expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
    ]);
    return true;
  } catch (error) {
    const codes = cancellationCodes(error);
    if (codes?.includes('ConditionalCheckFailed') || codes?.includes('TransactionConflict')) {
      return false;
    }
    rethrowStoreError(error);
  }
}
