/**
 * Meter types in DynamoDB. Uniqueness of `name` and `externalRef` is kept by claim items
 * written in the same transaction as the meter type, so it holds under concurrent requests.
 */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { MeterType } from '../../domain/meter.js';
import type { CategoryCensus } from '../../ports/category-census.js';
import type {
  MeterTypeFilter,
  MeterTypeStore,
  Page,
  StoredMeterType,
} from '../../ports/metering-store.js';
import { batchGetAll } from './batch-get.js';
import { cancellationCodes, rethrowStoreError } from './errors.js';
import { listPartition } from './paging.js';
import { itemKeys, LIST_PARTITIONS } from './table.js';
import { statsKey, type TransactItem, transactWithRetry } from './transactions.js';

const ITEM_ONLY_FIELDS = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'entity', 'version'] as const;

/** Strips the storage-only attributes from a meter type item. */
function fromItem(item: Record<string, NativeAttributeValue>): StoredMeterType {
  const copy: Record<string, NativeAttributeValue> = { ...item };
  for (const field of ITEM_ONLY_FIELDS) delete copy[field];
  return { meterType: copy as MeterType, version: Number(item.version ?? 0) };
}

function toItem(type: MeterType, version: number): Record<string, NativeAttributeValue> {
  return {
    ...type,
    ...itemKeys.meterType(type.id),
    gsi1pk: LIST_PARTITIONS.meterTypes,
    gsi1sk: `${type.createdAt}#${type.id}`,
    entity: 'meterType',
    version,
  };
}

/** Counter updates for the summary: meter types in total, and per category. */
function countUpdates(tableName: string, category: string, delta: 1 | -1): TransactItem[] {
  return [
    {
      Update: {
        TableName: tableName,
        Key: statsKey(),
        UpdateExpression: 'ADD #n :d',
        ExpressionAttributeNames: { '#n': 'meterTypes' },
        ExpressionAttributeValues: { ':d': delta },
      },
    },
    {
      Update: {
        TableName: tableName,
        Key: itemKeys.category(category),
        UpdateExpression: 'ADD #n :d SET #lpk = :lpk, #lsk = :lsk, #c = :c',
        ExpressionAttributeNames: {
          '#n': 'meterTypes',
          '#lpk': 'gsi1pk',
          '#lsk': 'gsi1sk',
          '#c': 'category',
        },
        ExpressionAttributeValues: {
          ':d': delta,
          ':lpk': LIST_PARTITIONS.categories,
          ':lsk': category,
          ':c': category,
        },
      },
    },
  ];
}

/** Fields a meter-type update never writes: identity, creation, and the count that meters keep. */
const NOT_SETTINGS = new Set(['id', 'createdAt', 'numberOfMeters']);

/**
 * Writes a meter type's settings only: `numberOfMeters` is maintained by meter creates and
 * deletes (ADD), which a whole-item put here would overwrite with the count it read.
 */
function settingsUpdate(
  tableName: string,
  previous: StoredMeterType,
  next: MeterType,
): TransactItem {
  const names: Record<string, string> = { '#version': 'version' };
  const values: Record<string, unknown> = { ':v': previous.version, ':one': 1 };
  const sets: string[] = ['#version = #version + :one'];
  const removes: string[] = [];
  Object.entries(next).forEach(([field, value], i) => {
    if (NOT_SETTINGS.has(field) || value === undefined) return;
    names[`#f${i}`] = field;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = :f${i}`);
  });
  Object.keys(previous.meterType).forEach((field, i) => {
    if (
      NOT_SETTINGS.has(field) ||
      (next as unknown as Record<string, unknown>)[field] !== undefined
    )
      return;
    names[`#r${i}`] = field;
    removes.push(`#r${i}`);
  });
  return {
    Update: {
      TableName: tableName,
      Key: itemKeys.meterType(next.id),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: '#version = :v',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

function claim(
  tableName: string,
  key: { pk: string; sk: string },
  meterTypeId: string,
): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: { ...key, meterTypeId },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

function release(
  tableName: string,
  key: { pk: string; sk: string },
  meterTypeId: string,
): TransactItem {
  return {
    Delete: {
      TableName: tableName,
      Key: key,
      ConditionExpression: 'meterTypeId = :id',
      ExpressionAttributeValues: { ':id': meterTypeId },
    },
  };
}

/** DynamoDB adapter of the meter-type store. */
export class DynamoDbMeterTypeStore implements MeterTypeStore, CategoryCensus {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(type: MeterType): Promise<void> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: toItem(type, 1),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      claim(this.tableName, itemKeys.meterTypeName(type.name), type.id),
    ];
    if (type.externalRef)
      items.push(claim(this.tableName, itemKeys.meterTypeRef(type.externalRef), type.id));
    items.push(...countUpdates(this.tableName, type.category, 1));
    await this.transact(items, (codes) => {
      if (codes[1] === 'ConditionalCheckFailed') {
        return new ConflictError(`a meter type named '${type.name}' already exists`, 'name');
      }
      if (type.externalRef && codes[2] === 'ConditionalCheckFailed') {
        return new ConflictError(
          `a meter type with externalRef '${type.externalRef}' already exists`,
          'externalRef',
        );
      }
      return undefined;
    });
  }

  async get(id: string): Promise<StoredMeterType | undefined> {
    const output = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: itemKeys.meterType(id),
          ConsistentRead: true,
        }),
      )
      .catch(rethrowStoreError);
    return output.Item ? fromItem(output.Item) : undefined;
  }

  async findIdByExternalRef(externalRef: string): Promise<string | undefined> {
    return this.findClaim(itemKeys.meterTypeRef(externalRef));
  }

  async findIdByName(name: string): Promise<string | undefined> {
    return this.findClaim(itemKeys.meterTypeName(name));
  }

  async replace(previous: StoredMeterType, next: MeterType): Promise<void> {
    const before = previous.meterType;
    const items: TransactItem[] = [settingsUpdate(this.tableName, previous, next)];
    const refChanged = before.externalRef !== next.externalRef;
    if (refChanged && next.externalRef) {
      items.push(claim(this.tableName, itemKeys.meterTypeRef(next.externalRef), next.id));
    }
    if (refChanged && before.externalRef) {
      items.push(release(this.tableName, itemKeys.meterTypeRef(before.externalRef), next.id));
    }
    if (before.category !== next.category) {
      items.push(...countUpdates(this.tableName, before.category, -1).slice(1));
      items.push(...countUpdates(this.tableName, next.category, 1).slice(1));
    }
    await this.transact(items, (codes) => {
      if (codes[0] === 'ConditionalCheckFailed') {
        return new ConflictError(
          'the meter type was changed concurrently; read it again and retry',
        );
      }
      if (refChanged && next.externalRef && codes[1] === 'ConditionalCheckFailed') {
        return new ConflictError(
          `a meter type with externalRef '${next.externalRef}' already exists`,
          'externalRef',
        );
      }
      return undefined;
    });
  }

  async delete(id: string): Promise<void> {
    const stored = await this.get(id);
    if (!stored) throw new NotFoundError(`meter type ${id} not found`);
    const type = stored.meterType;
    const items: TransactItem[] = [
      {
        Delete: {
          TableName: this.tableName,
          Key: itemKeys.meterType(id),
          ConditionExpression: 'attribute_exists(pk) AND numberOfMeters = :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        },
      },
      release(this.tableName, itemKeys.meterTypeName(type.name), id),
    ];
    if (type.externalRef)
      items.push(release(this.tableName, itemKeys.meterTypeRef(type.externalRef), id));
    items.push(...countUpdates(this.tableName, type.category, -1));
    await this.transact(items, async (codes) => {
      if (codes[0] !== 'ConditionalCheckFailed') return undefined;
      const now = await this.get(id);
      if (!now) return new NotFoundError(`meter type ${id} not found`);
      return new ConflictError(
        `meter type ${id} still has ${now.meterType.numberOfMeters} meter(s); delete them first`,
      );
    });
  }

  /** Reads the per-category counters the summary keeps (one batch read, consistent enough for a hint). */
  async categoriesInUse(categories: readonly string[]): Promise<ReadonlySet<string>> {
    const unique = [...new Set(categories)];
    const items = await batchGetAll(this.client, this.tableName, unique.map(itemKeys.category));
    return new Set(
      items.filter((item) => Number(item.meterTypes ?? 0) > 0).map((item) => String(item.category)),
    );
  }

  async list(filter: MeterTypeFilter, limit: number, nextToken?: string): Promise<Page<MeterType>> {
    const conditions: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (filter.category !== undefined) {
      conditions.push('#category = :category');
      names['#category'] = 'category';
      values[':category'] = filter.category;
    }
    if (filter.name !== undefined) {
      conditions.push('#name = :name');
      names['#name'] = 'name';
      values[':name'] = filter.name;
    }
    const page = await listPartition(this.client, {
      tableName: this.tableName,
      partition: LIST_PARTITIONS.meterTypes,
      limit,
      nextToken,
      filter: conditions.length
        ? { expression: conditions.join(' AND '), names, values }
        : undefined,
    });
    return { ...page, items: page.items.map((item) => fromItem(item).meterType) };
  }

  private async findClaim(key: { pk: string; sk: string }): Promise<string | undefined> {
    const output = await this.client
      .send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
      .catch(rethrowStoreError);
    const id = output.Item?.meterTypeId;
    return typeof id === 'string' ? id : undefined;
  }

  /** Runs a transaction; a cancelled one is explained by `explain`, or passed on. */
  private async transact(
    items: TransactItem[],
    explain: (codes: string[]) => Error | undefined | Promise<Error | undefined>,
  ): Promise<void> {
    try {
      await transactWithRetry(this.client, items);
    } catch (error) {
      const codes = cancellationCodes(error);
      const explained = codes ? await explain(codes) : undefined;
      if (explained) throw explained;
      rethrowStoreError(error);
    }
  }
}
