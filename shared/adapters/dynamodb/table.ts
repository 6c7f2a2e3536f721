/**
 * The single DynamoDB table of the service: its key attributes, indexes and item keys.
 * The CDK stack and the local stack both build the table from these names.
 */
import { createHash } from 'node:crypto';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Listing index: every meter type, or every live meter, in creation order. */
  listIndex: 'gsi1',
  listPartitionKey: 'gsi1pk',
  listSortKey: 'gsi1sk',
  /** Sparse index of meters with work due (period end passed, or records waiting in the outbox). */
  dueIndex: 'gsi2',
  duePartitionKey: 'gsi2pk',
  dueSortKey: 'gsi2sk',
  /** History of metered records by user, newest period end first (the sort key: `periodEnd#recordId`). */
  historyByUserIndex: 'gsi3',
  historyByUserPartitionKey: 'gsi3pk',
  historyByUserSortKey: 'gsi3sk',
  /** History of metered records by meter id (the meter may be deleted), newest first. */
  historyByMeterIndex: 'gsi4',
  historyByMeterPartitionKey: 'gsi4pk',
  historyByMeterSortKey: 'gsi4sk',
  /** History of metered records by meter type, newest first. */
  historyByTypeIndex: 'gsi5',
  historyByTypePartitionKey: 'gsi5pk',
  historyByTypeSortKey: 'gsi5sk',
  /** Epoch seconds after which DynamoDB may delete the item (de-duplication and unique claims, history). */
  timeToLive: 'expiresAt',
} as const;

/**
 * Escapes one component of a composite key so a `#` inside a value cannot forge another key.
 * Only `%` and `#` are escaped, so a key part stays about as long as its UTF-8 text: a user id
 * of 256 three-byte characters still fits DynamoDB's 2,048-byte partition key.
 */
export function keyPart(value: string): string {
  return value.replace(/%/g, '%25').replace(/#/g, '%23');
}

/** Item keys, one function per kind of item. */
export const itemKeys = {
  meterType: (id: string) => ({ pk: `MT#${id}`, sk: 'MT' }),
  meterTypeName: (name: string) => ({ pk: `MTNAME#${keyPart(name)}`, sk: 'UNIQUE' }),
  meterTypeRef: (ref: string) => ({ pk: `MTREF#${keyPart(ref)}`, sk: 'UNIQUE' }),
  category: (category: string) => ({ pk: `CAT#${keyPart(category)}`, sk: 'COUNT' }),
  /** All meters of one user under one meter key share a partition: ingestion reads them at once. */
  meterPartition: (meterKey: string, userId: string) => `M#${keyPart(meterKey)}#${keyPart(userId)}`,
  meter: (meterKey: string, userId: string, meterTypeId: string) => ({
    pk: itemKeys.meterPartition(meterKey, userId),
    sk: `MT#${meterTypeId}`,
  }),
  meterId: (id: string) => ({ pk: `MID#${id}`, sk: 'MID' }),
  retiredMeter: (id: string) => ({ pk: `RETIRED#${id}`, sk: 'M' }),
  /** A metered record as it was sent, keyed by its recordId (history). */
  meteredRecord: (recordId: string) => ({ pk: `REC#${recordId}`, sk: 'REC' }),
  /** A unique meter's claim on one distinct value of a period: hashed, so any value fits the key. */
  uniqueClaim: (claimKey: string) => ({
    pk: `UNIQ#${createHash('sha256').update(claimKey, 'utf8').digest('base64url')}`,
    sk: 'UNIQ',
  }),
} as const;

/**
 * Attributes the listing index carries besides the keys: only what list filters and the
 * summary read, none of which usage changes, so metering writes never write the index.
 */
export const LIST_INDEX_ATTRIBUTES = [
  'id',
  'name',
  'category',
  'meterTypeId',
  'userId',
  'meterKey',
  'meterTypes',
  'reason',
] as const;

/** Attributes the due index carries besides the keys: enough to find the meter. */
export const DUE_INDEX_ATTRIBUTES = ['id'] as const;

/**
 * Attributes the history indexes carry besides the keys: the record's JSON (so a page of history
 * is one Query, with no read behind it) and the attributes the other filters test.
 */
export const HISTORY_INDEX_ATTRIBUTES = [
  'record',
  'userId',
  'meterId',
  'meterKey',
  'meterTypeId',
  'recordType',
] as const;

/** The 16 partitions of the due index (by the first hex digit of a meter id). */
export const DUE_PARTITIONS = Array.from({ length: 16 }, (_, i) => `DUE#${i.toString(16)}`);

export const LIST_PARTITIONS = {
  meterTypes: 'MT',
  meters: 'M',
  categories: 'CAT',
  dataCorrections: 'CORR',
} as const;

/** The CreateTable input that the local stack and the tests use (the CDK mirrors it). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const s = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      s(TABLE_KEYS.partitionKey),
      s(TABLE_KEYS.sortKey),
      s(TABLE_KEYS.listPartitionKey),
      s(TABLE_KEYS.listSortKey),
      s(TABLE_KEYS.duePartitionKey),
      s(TABLE_KEYS.dueSortKey),
      s(TABLE_KEYS.historyByUserPartitionKey),
      s(TABLE_KEYS.historyByUserSortKey),
      s(TABLE_KEYS.historyByMeterPartitionKey),
      s(TABLE_KEYS.historyByMeterSortKey),
      s(TABLE_KEYS.historyByTypePartitionKey),
      s(TABLE_KEYS.historyByTypeSortKey),
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE_KEYS.listIndex,
        KeySchema: [
          { AttributeName: TABLE_KEYS.listPartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.listSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...LIST_INDEX_ATTRIBUTES] },
      },
      {
        IndexName: TABLE_KEYS.dueIndex,
        KeySchema: [
          { AttributeName: TABLE_KEYS.duePartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.dueSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DUE_INDEX_ATTRIBUTES] },
      },
      historyIndex(
        TABLE_KEYS.historyByUserIndex,
        TABLE_KEYS.historyByUserPartitionKey,
        TABLE_KEYS.historyByUserSortKey,
      ),
      historyIndex(
        TABLE_KEYS.historyByMeterIndex,
        TABLE_KEYS.historyByMeterPartitionKey,
        TABLE_KEYS.historyByMeterSortKey,
      ),
      historyIndex(
        TABLE_KEYS.historyByTypeIndex,
        TABLE_KEYS.historyByTypePartitionKey,
        TABLE_KEYS.historyByTypeSortKey,
      ),
    ],
  };
}

function historyIndex(indexName: string, partitionKey: string, sortKey: string) {
  return {
    IndexName: indexName,
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' as const },
      { AttributeName: sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: {
      ProjectionType: 'INCLUDE' as const,
      NonKeyAttributes: [...HISTORY_INDEX_ATTRIBUTES],
    },
  };
}
