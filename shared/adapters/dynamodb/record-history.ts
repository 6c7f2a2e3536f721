/**
 * The history of metered records in the table. One item per recordId (`REC#<recordId>`), put
 * with BatchWriteItem: the item depends on the record alone (its JSON and an expiry computed
 * from its period end), so keeping it again writes the same bytes and a retried flush never
 * makes a second copy. Three sparse indexes, each keyed `periodEnd#recordId` for newest-first
 * order and `from`/`to` ranges, serve the filters: by user, by meter, by meter type. Each
 * carries the record's JSON, so a page of history is one Query with no reads behind it.
 */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { BatchWriteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.js';
import type { MeteredRecord } from '../../domain/metered-record.js';
import {
  historyExpiresAt,
  type KeptRecord,
  type RecordHistoryFilter,
} from '../../domain/record-history.js';
import type { Page } from '../../ports/metering-store.js';
import type { RecordHistory } from '../../ports/record-history.js';
import { rethrowStoreError } from './errors.js';
import { decodeToken, encodeToken } from './paging.js';
import { itemKeys, keyPart, TABLE_KEYS } from './table.js';

type Item = Record<string, NativeAttributeValue>;

const MAX_ITEMS_PER_BATCH = 25;
const MAX_ATTEMPTS = 9;
/**
 * The most record JSON one page carries, so a page (in any format, CSV adds little) stays under
 * Lambda's 6 MB response and API Gateway's 10 MB payload; a page cut short ends at its last
 * record and its token continues right after it.
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** The index a filter is served by, and the partition it queries. */
interface IndexChoice {
  indexName: string;
  partitionKey: string;
  sortKey: string;
  partition: string;
}

/** Each history index's partition of a record. */
const partitionsOf = (record: Pick<MeteredRecord, 'userId' | 'id' | 'meterTypeId'>) => ({
  user: `HU#${keyPart(record.userId)}`,
  meter: `HM#${record.id}`,
  type: `HT#${record.meterTypeId}`,
});

/** The history item of a record. */
export function historyItemOf(record: MeteredRecord, retentionDays: number): Item {
  const json = JSON.stringify(record);
  const sortKey = `${record.periodEnd}#${record.recordId}`;
  const partitions = partitionsOf(record);
  return {
    ...itemKeys.meteredRecord(record.recordId),
    entity: 'meteredRecord',
    [TABLE_KEYS.historyByUserPartitionKey]: partitions.user,
    [TABLE_KEYS.historyByUserSortKey]: sortKey,
    [TABLE_KEYS.historyByMeterPartitionKey]: partitions.meter,
    [TABLE_KEYS.historyByMeterSortKey]: sortKey,
    [TABLE_KEYS.historyByTypePartitionKey]: partitions.type,
    [TABLE_KEYS.historyByTypeSortKey]: sortKey,
    record: json,
    userId: record.userId,
    meterId: record.id,
    meterKey: record.meterKey,
    meterTypeId: record.meterTypeId,
    recordType: record.recordType,
    [TABLE_KEYS.timeToLive]: historyExpiresAt(record, retentionDays),
  };
}

function keptOf(item: Item): KeptRecord {
  const json = String(item.record);
  return { json, record: JSON.parse(json) as MeteredRecord };
}

// The history indexes, most selective first: a filter is served by the first it names.
const HISTORY_INDEXES = [
  {
    filter: 'meterId',
    part: 'meter',
    indexName: TABLE_KEYS.historyByMeterIndex,
    partitionKey: TABLE_KEYS.historyByMeterPartitionKey,
    sortKey: TABLE_KEYS.historyByMeterSortKey,
  },
  {
    filter: 'userId',
    part: 'user',
    indexName: TABLE_KEYS.historyByUserIndex,
    partitionKey: TABLE_KEYS.historyByUserPartitionKey,
    sortKey: TABLE_KEYS.historyByUserSortKey,
  },
  {
    filter: 'meterTypeId',
    part: 'type',
    indexName: TABLE_KEYS.historyByTypeIndex,
    partitionKey: TABLE_KEYS.historyByTypePartitionKey,
    sortKey: TABLE_KEYS.historyByTypeSortKey,
  },
] as const;

/** The most selective index the filter names: meter, then user, then meter type. */
export function indexFor(filter: RecordHistoryFilter): IndexChoice {
  const partitions = partitionsOf({
    userId: filter.userId ?? '',
    id: filter.meterId ?? '',
    meterTypeId: filter.meterTypeId ?? '',
  });
  const chosen = HISTORY_INDEXES.find((index) => filter[index.filter] !== undefined);
  if (!chosen) {
    throw new ValidationError([
      { field: 'userId', message: 'give userId, meterId or meterTypeId to select records' },
    ]);
  }
  const { indexName, partitionKey, sortKey } = chosen;
  return { indexName, partitionKey, sortKey, partition: partitions[chosen.part] };
}

/** The key condition and the filter expression of a history Query. */
function queryExpressions(filter: RecordHistoryFilter, index: IndexChoice) {
  const names: Record<string, string> = { '#pk': index.partitionKey };
  if (filter.from !== undefined || filter.to !== undefined) names['#sk'] = index.sortKey;
  const values: Record<string, unknown> = { ':pk': index.partition };
  let keyCondition = '#pk = :pk';
  // The sort key is `periodEnd#recordId`; '#~' sorts after every `#<recordId>` of a periodEnd.
  if (filter.from !== undefined && filter.to !== undefined) {
    keyCondition += ' AND #sk BETWEEN :from AND :to';
    Object.assign(values, { ':from': filter.from, ':to': `${filter.to}#~` });
  } else if (filter.from !== undefined) {
    keyCondition += ' AND #sk >= :from';
    values[':from'] = filter.from;
  } else if (filter.to !== undefined) {
    keyCondition += ' AND #sk <= :to';
    values[':to'] = `${filter.to}#~`;
  }
  const conditions: string[] = [];
  const fields = ['userId', 'meterId', 'meterTypeId', 'meterKey', 'recordType'] as const;
  for (const field of fields) {
    const value = filter[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    conditions.push(`#${field} = :${field}`);
  }
  return {
    keyCondition,
    filterExpression: conditions.length > 0 ? conditions.join(' AND ') : undefined,
    names,
    values,
  };
}

/** The leading items whose record JSON fits MAX_PAGE_BYTES (at least one). */
function withinPageBytes(items: readonly Item[]): Item[] {
  let bytes = 0;
  const kept: Item[] = [];
  for (const item of items) {
    bytes += Buffer.byteLength(String(item.record));
    if (bytes > MAX_PAGE_BYTES && kept.length > 0) break;
    kept.push(item);
  }
  return kept;
}

/** The index key of an item, as DynamoDB's LastEvaluatedKey would give it. */
function indexKeyOf(item: Item, index: IndexChoice): Item {
  return {
    [TABLE_KEYS.partitionKey]: item[TABLE_KEYS.partitionKey],
    [TABLE_KEYS.sortKey]: item[TABLE_KEYS.sortKey],
    [index.partitionKey]: item[index.partitionKey],
    [index.sortKey]: item[index.sortKey],
  };
}

/** DynamoDB adapter of the record history. */
export class DynamoDbRecordHistory implements RecordHistory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async keep(records: readonly MeteredRecord[]): Promise<void> {
    const unique = new Map(records.map((record) => [record.recordId, record]));
    const requests = [...unique.values()].map((record) => ({
      PutRequest: { Item: historyItemOf(record, this.retentionDays) },
    }));
    for (let start = 0; start < requests.length; start += MAX_ITEMS_PER_BATCH) {
      let pending: typeof requests | undefined = requests.slice(start, start + MAX_ITEMS_PER_BATCH);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt >= MAX_ATTEMPTS) throw new Error('DynamoDB kept returning unprocessed items');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
        const output = await this.client
          .send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }))
          .catch(rethrowStoreError);
        pending = output.UnprocessedItems?.[this.tableName] as typeof requests | undefined;
      }
    }
  }

  async get(recordId: string): Promise<KeptRecord | undefined> {
    const output = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: itemKeys.meteredRecord(recordId),
          ConsistentRead: true,
        }),
      )
      .catch(rethrowStoreError);
    return output.Item ? keptOf(output.Item) : undefined;
  }

  /**
   * One index Query (more only when a filter leaves a page short: DynamoDB's `Limit` counts
   * items read, so it reads on with what is still missing and the token stays exact).
   */
  async list(
    filter: RecordHistoryFilter,
    limit: number,
    nextToken?: string,
  ): Promise<Page<KeptRecord>> {
    const index = indexFor(filter);
    const expressions = queryExpressions(filter, index);
    const items: Item[] = [];
    let startKey: Item | undefined = nextToken
      ? decodeToken(nextToken, index.partition, index)
      : undefined;
    do {
      const output = await this.client
        .send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index.indexName,
            KeyConditionExpression: expressions.keyCondition,
            FilterExpression: expressions.filterExpression,
            ExpressionAttributeNames: expressions.names,
            ExpressionAttributeValues: expressions.values,
            ScanIndexForward: false,
            ExclusiveStartKey: startKey,
            Limit: limit - items.length,
          }),
        )
        .catch(rethrowStoreError);
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    const kept = withinPageBytes(items);
    if (kept.length < items.length) startKey = indexKeyOf(kept[kept.length - 1] as Item, index);
    const page = kept.map(keptOf);
    return startKey ? { items: page, nextToken: encodeToken(startKey) } : { items: page };
  }
}
