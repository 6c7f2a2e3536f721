/** Opaque paging over the listing index: every item exactly once, in creation order. */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.js';
import type { Page } from '../../ports/metering-store.js';
import { batchGetAll } from './batch-get.js';
import { rethrowStoreError } from './errors.js';
import { TABLE_KEYS } from './table.js';

/** The key attributes of an index, besides the table's own, that a page token carries. */
export interface IndexKeys {
  partitionKey: string;
  sortKey: string;
}

const LIST_INDEX_KEYS: IndexKeys = {
  partitionKey: TABLE_KEYS.listPartitionKey,
  sortKey: TABLE_KEYS.listSortKey,
};

/** Encodes DynamoDB's LastEvaluatedKey as an opaque token. */
export function encodeToken(key: Record<string, NativeAttributeValue>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes a token from a client for one partition of an index (the listing index by default);
 * anything that is not one of ours is a 400 naming `nextToken`.
 */
export function decodeToken(
  token: string,
  partition: string,
  index: IndexKeys = LIST_INDEX_KEYS,
): Record<string, string> {
  const invalid = () =>
    new ValidationError([{ field: 'nextToken', message: 'is not a token this API returned' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  const entries = Object.entries(parsed);
  const names = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, index.partitionKey, index.sortKey];
  const key: Record<string, string> = {};
  for (const name of names) {
    const value = (parsed as Record<string, unknown>)[name];
    // DynamoDB refuses empty key strings, and keys longer than 2,048 (hash) or 1,024 bytes.
    const limit = name === TABLE_KEYS.partitionKey || name === index.partitionKey ? 2048 : 1024;
    if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > limit)
      throw invalid();
    key[name] = value;
  }
  if (entries.length !== names.length || key[index.partitionKey] !== partition) throw invalid();
  return key;
}

/** What to list: a partition of the listing index and an optional filter. */
export interface ListQuery {
  tableName: string;
  partition: string;
  limit: number;
  nextToken?: string;
  filter?: { expression: string; names: Record<string, string>; values: Record<string, unknown> };
}

/**
 * Lists one partition of the listing index. With a filter, DynamoDB's `Limit` counts items
 * read, not items returned, so it keeps reading with `Limit` = what is still missing; the
 * last key read is then exactly after the last item returned, and no item is skipped.
 * The index carries only keys and the filter attributes (so usage writes never touch it);
 * the items themselves are then read from the table, strongly consistent, in index order.
 */
export async function listPartition(
  client: DynamoDBDocumentClient,
  query: ListQuery,
): Promise<Page<Record<string, NativeAttributeValue>>> {
  const items: Record<string, NativeAttributeValue>[] = [];
  let startKey: Record<string, NativeAttributeValue> | undefined = query.nextToken
    ? decodeToken(query.nextToken, query.partition)
    : undefined;
  do {
    const output = await client
      .send(
        new QueryCommand({
          TableName: query.tableName,
          IndexName: TABLE_KEYS.listIndex,
          KeyConditionExpression: '#lpk = :lpk',
          ExpressionAttributeNames: { '#lpk': TABLE_KEYS.listPartitionKey, ...query.filter?.names },
          ExpressionAttributeValues: { ':lpk': query.partition, ...query.filter?.values },
          FilterExpression: query.filter?.expression,
          ExclusiveStartKey: startKey,
          Limit: query.limit - items.length,
        }),
      )
      .catch(rethrowStoreError);
    items.push(...(output.Items ?? []));
    startKey = output.LastEvaluatedKey;
  } while (startKey && items.length < query.limit);
  const full = await readItems(client, query.tableName, items);
  return startKey ? { items: full, nextToken: encodeToken(startKey) } : { items: full };
}

/** Reads the table items behind index entries, in their order; items deleted meanwhile are left out. */
async function readItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  entries: readonly Record<string, NativeAttributeValue>[],
): Promise<Record<string, NativeAttributeValue>[]> {
  const keyOf = (item: Record<string, NativeAttributeValue>) => `${item.pk}\u0000${item.sk}`;
  const items = await batchGetAll(
    client,
    tableName,
    entries.map((entry) => ({ pk: String(entry.pk), sk: String(entry.sk) })),
  );
  const found = new Map(items.map((item) => [keyOf(item), item]));
  return entries.flatMap((entry) => found.get(keyOf(entry)) ?? []);
}
