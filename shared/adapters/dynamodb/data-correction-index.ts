/**
 * How data-correction entries are found without a Scan: each entry is in up to four index
 * partitions, all sorted by `correctedAt#id` so a from/to is a key condition:
 *
 * - gsi1 `CORR`: every entry (the unfiltered list);
 * - gsi5 `CORRREASON#<reason>`: every entry of a reason;
 * - gsi3 `CORRUSER#<userId>`: every entry of a user (when the record's user could be read);
 * - gsi4 `CORROPEN#<reason>` (or `CORRKEPT#<reason>` for a truncated entry, or one set aside
 *   because its record can never be metered as it is): entries not yet re-sent. Completing a
 *   re-send removes the entry from it, so the open counts and bulk re-sends read only what is
 *   still open, and bulk re-sends only `CORROPEN`.
 *
 * The history uses other partitions of gsi3–gsi5 (`HU#`, `HM#`, `HT#`); these never collide.
 */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  CORRECTION_REASONS,
  type CorrectionReason,
  type DataCorrection,
  type DataCorrectionFilter,
} from '../../ports/data-correction-store.js';
import type { Page } from '../../ports/metering-store.js';
import { rethrowStoreError } from './errors.js';
import { type IndexSpec, LIST_INDEX, type ListQuery, listPartition } from './paging.js';
import { keyPart, LIST_PARTITIONS, TABLE_KEYS } from './table.js';

type Item = Record<string, NativeAttributeValue>;

const BY_USER: IndexSpec = {
  name: TABLE_KEYS.historyByUserIndex,
  partitionKey: TABLE_KEYS.historyByUserPartitionKey,
  sortKey: TABLE_KEYS.historyByUserSortKey,
};
const OPEN_BY_REASON: IndexSpec = {
  name: TABLE_KEYS.historyByMeterIndex,
  partitionKey: TABLE_KEYS.historyByMeterPartitionKey,
  sortKey: TABLE_KEYS.historyByMeterSortKey,
};
const BY_REASON: IndexSpec = {
  name: TABLE_KEYS.historyByTypeIndex,
  partitionKey: TABLE_KEYS.historyByTypePartitionKey,
  sortKey: TABLE_KEYS.historyByTypeSortKey,
};

/** The open-entry index attributes; `completeReprocess` removes them. */
export const OPEN_INDEX_ATTRIBUTES = [OPEN_BY_REASON.partitionKey, OPEN_BY_REASON.sortKey] as const;

/** Every index attribute an entry item may carry (storage only, never answered). */
export const CORRECTION_INDEX_ATTRIBUTES = [
  LIST_INDEX.partitionKey,
  LIST_INDEX.sortKey,
  BY_USER.partitionKey,
  BY_USER.sortKey,
  BY_REASON.partitionKey,
  BY_REASON.sortKey,
  ...OPEN_INDEX_ATTRIBUTES,
] as const;

// DynamoDB refuses an index partition key above 2,048 bytes; such a user is not indexed.
const MAX_PARTITION_KEY_BYTES = 2048;

const userPartition = (userId: string) => `CORRUSER#${keyPart(userId)}`;
const reasonPartition = (reason: CorrectionReason) => `CORRREASON#${reason}`;
const openPartition = (reason: CorrectionReason) => `CORROPEN#${reason}`;
const keptPartition = (reason: CorrectionReason) => `CORRKEPT#${reason}`;

/** The index attributes of an entry as ingestion stores it (not yet re-sent). */
export function correctionIndexKeys(entry: DataCorrection): Item {
  const sortKey = `${entry.correctedAt}#${entry.id}`;
  const user = entry.userId === undefined ? undefined : userPartition(entry.userId);
  const indexUser = user !== undefined && Buffer.byteLength(user) <= MAX_PARTITION_KEY_BYTES;
  const open = entry.dataTruncated ? keptPartition(entry.reason) : openPartition(entry.reason);
  return {
    [LIST_INDEX.partitionKey]: LIST_PARTITIONS.dataCorrections,
    [LIST_INDEX.sortKey]: sortKey,
    [BY_REASON.partitionKey]: reasonPartition(entry.reason),
    [BY_REASON.sortKey]: sortKey,
    ...(indexUser ? { [BY_USER.partitionKey]: user, [BY_USER.sortKey]: sortKey } : {}),
    ...(entry.reprocessedAt === undefined
      ? { [OPEN_BY_REASON.partitionKey]: open, [OPEN_BY_REASON.sortKey]: sortKey }
      : {}),
  };
}

/**
 * The update that moves an open entry from `CORROPEN#<reason>` to `CORRKEPT#<reason>`: still
 * open and counted, no longer offered to bulk re-sends. Fails its condition when the entry is
 * gone, re-sent, or already kept.
 */
export function setAsideUpdate(reason: CorrectionReason) {
  return {
    UpdateExpression: 'SET #open = :kept',
    ConditionExpression: '#open = :open',
    ExpressionAttributeNames: { '#open': OPEN_BY_REASON.partitionKey },
    ExpressionAttributeValues: { ':open': openPartition(reason), ':kept': keptPartition(reason) },
  };
}

/** The entry id of an index entry: its item key is `CORR#<id>` (ids are UUIDs). */
function idOf(item: Item): string {
  return String(item.pk).slice('CORR#'.length);
}

const userFilter = (userId: string | undefined): ListQuery['filter'] =>
  userId === undefined
    ? undefined
    : {
        expression: '#userId = :userId',
        names: { '#userId': 'userId' },
        values: { ':userId': userId },
      };

/** The index partition that serves a filter, and what is left to filter on. */
function listQueryOf(tableName: string, filter: DataCorrectionFilter) {
  const common = { tableName, range: { from: filter.from, to: filter.to } };
  if (filter.reason !== undefined) {
    // userId is projected into the index; reason is not in the user index, so reason leads.
    return {
      ...common,
      index: BY_REASON,
      partition: reasonPartition(filter.reason),
      filter: userFilter(filter.userId),
    };
  }
  if (filter.userId !== undefined) {
    return { ...common, index: BY_USER, partition: userPartition(filter.userId) };
  }
  return { ...common, index: LIST_INDEX, partition: LIST_PARTITIONS.dataCorrections };
}

/** A page of entries matching the filter, oldest first (items read from the table). */
export async function listCorrections(
  client: DynamoDBDocumentClient,
  tableName: string,
  filter: DataCorrectionFilter,
  limit: number,
  nextToken?: string,
): Promise<Page<Item>> {
  return listPartition(client, { ...listQueryOf(tableName, filter), limit, nextToken });
}

/** Ids of up to `limit` entries matching the filter, oldest first (index entries only). */
export async function matchingCorrectionIds(
  client: DynamoDBDocumentClient,
  tableName: string,
  filter: DataCorrectionFilter,
  limit: number,
): Promise<string[]> {
  const page = await listPartition(client, {
    ...listQueryOf(tableName, filter),
    limit,
    keysOnly: true,
  });
  return page.items.map(idOf);
}

/** Ids of up to `limit` entries matching the filter that can still be re-sent, reason by reason. */
export async function reprocessableCorrectionIds(
  client: DynamoDBDocumentClient,
  tableName: string,
  filter: DataCorrectionFilter,
  limit: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const reason of filter.reason === undefined ? CORRECTION_REASONS : [filter.reason]) {
    if (ids.length >= limit) break;
    const page = await listPartition(client, {
      tableName,
      index: OPEN_BY_REASON,
      partition: openPartition(reason),
      range: { from: filter.from, to: filter.to },
      filter: userFilter(filter.userId),
      limit: limit - ids.length,
      keysOnly: true,
    });
    ids.push(...page.items.map(idOf));
  }
  return ids;
}

/** How many index entries one partition holds, page by page (Select COUNT reads, returns none). */
async function countPartition(
  client: DynamoDBDocumentClient,
  tableName: string,
  partition: string,
): Promise<number> {
  let count = 0;
  let startKey: Item | undefined;
  do {
    const output = await client
      .send(
        new QueryCommand({
          TableName: tableName,
          IndexName: OPEN_BY_REASON.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': OPEN_BY_REASON.partitionKey },
          ExpressionAttributeValues: { ':pk': partition },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      )
      .catch(rethrowStoreError);
    count += output.Count ?? 0;
    startKey = output.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** Open (not yet re-sent) entries per reason, truncated ones included; every reason listed. */
export async function countOpenCorrections(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<{ reason: CorrectionReason; count: number }[]> {
  return Promise.all(
    CORRECTION_REASONS.map(async (reason) => {
      const [open, kept] = await Promise.all([
        countPartition(client, tableName, openPartition(reason)),
        countPartition(client, tableName, keptPartition(reason)),
      ]);
      return { reason, count: open + kept };
    }),
  );
}
