/** Opaque paging over the table's indexes: every item exactly once, in index order. */
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

/** An index to list: its name and key attributes. */
export interface IndexSpec extends IndexKeys {
  name: string;
}

/** The listing index (gsi1). */
export const LIST_INDEX: IndexSpec = { name: TABLE_KEYS.listIndex, ...LIST_INDEX_KEYS };

/** What to list: a partition of an index (the listing index by default) and an optional filter. */
export interface ListQuery {
  tableName: string;
  partition: string;
  limit: number;
  nextToken?: string;
  filter?: { expression: string; names: Record<string, string>; values: Record<string, unknown> };
  index?: IndexSpec;
  /** Sort keys at or after `from` and before `to` (a sort key never equals `to` itself). */
  range?: { from?: string; to?: string };
  /** Answer the index entries as they are instead of reading the items behind them. */
  keysOnly?: boolean;
}

/** The key condition of a query: the partition, and the sort key range when there is one. */
function keyConditionOf(query: ListQuery, index: IndexSpec) {
  const { from, to } = query.range ?? {};
  const names: Record<string, string> = { '#lpk': index.partitionKey };
  const values: Record<string, unknown> = { ':lpk': query.partition };
  let expression = '#lpk = :lpk';
  if (from !== undefined || to !== undefined) names['#lsk'] = index.sortKey;
  if (from !== undefined) values[':from'] = from;
  if (to !== undefined) values[':to'] = to;
  // Sort keys are `<time>#<id>`, so none equals `to` and BETWEEN's inclusive end excludes `to`.
  if (from !== undefined && to !== undefined) expression += ' AND #lsk BETWEEN :from AND :to';
  else if (from !== undefined) expression += ' AND #lsk >= :from';
  else if (to !== undefined) expression += ' AND #lsk < :to';
  return { expression, names, values };
}

/** The start key a client's token names, refused (400) when it lies outside the query's range. */
function startKeyOf(query: ListQuery, index: IndexSpec): Record<string, string> | undefined {
  if (!query.nextToken) return undefined;
  const key = decodeToken(query.nextToken, query.partition, index);
  const sortKey = key[index.sortKey] ?? '';
  const { from, to } = query.range ?? {};
  if ((from !== undefined && sortKey < from) || (to !== undefined && sortKey >= to)) {
    throw new ValidationError([
      { field: 'nextToken', message: 'belongs to a different from/to than this request' },
    ]);
  }
  return key;
}

/**
 * Lists one partition of an index (the listing index by default). With a filter, DynamoDB's `Limit` counts items
 * read, not items returned, so it keeps reading with `Limit` = what is still missing; the
 * last key read is then exactly after the last item returned, and no item is skipped.
 * The index carries only keys and the filter attributes (so usage writes never touch it);
 * the items themselves are then read from the table, strongly consistent, in index order.
 */
export async function listPartition(
  client: DynamoDBDocumentClient,
  query: ListQuery,
): Promise<Page<Record<string, NativeAttributeValue>>> {
  const index = query.index ?? LIST_INDEX;
  const condition = keyConditionOf(query, index);
  const items: Record<string, NativeAttributeValue>[] = [];
  let startKey: Record<string, NativeAttributeValue> | undefined = startKeyOf(query, index);
  do {
    const output = await client
      .send(
        new QueryCommand({
          TableName: query.tableName,
          IndexName: index.name,
          KeyConditionExpression: condition.expression,
          ExpressionAttributeNames: { ...condition.names, ...query.filter?.names },
          ExpressionAttributeValues: { ...condition.values, ...query.filter?.values },
          FilterExpression: query.filter?.expression,
          ExclusiveStartKey: startKey,
          Limit: query.limit - items.length,
        }),
      )
      .catch(rethrowStoreError);
    items.push(...(output.Items ?? []));
    startKey = output.LastEvaluatedKey;
  } while (startKey && items.length < query.limit);
  const full = query.keysOnly ? items : await readItems(client, query.tableName, items);
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
