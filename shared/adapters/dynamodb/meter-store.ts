/**
 * Meters in DynamoDB. A meter lives under the partition of its (meterKey, userId), so the
 * ingest path reads all meters of a user in one strongly consistent query, and the unique
 * triple is simply the item's key. An id item maps a meter id to that key for the API.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { MeterDefinition } from '../../domain/meter.js';
import type { MeterState } from '../../domain/meter-usage.js';
import type {
  MeterChanges,
  MeterFilter,
  MeteringSummary,
  MeterStore,
  Page,
  SummaryStore,
} from '../../ports/metering-store.js';
import { batchGetAll } from './batch-get.js';
import { cancellationCodes, isConditionFailed, rethrowStoreError } from './errors.js';
import { type Item, meterItemOf, meterStateOf, newMeterItem } from './meter-item.js';
import { listPartition } from './paging.js';
import { itemKeys, LIST_PARTITIONS, TABLE_KEYS } from './table.js';
import { STATS_SHARDS, statsKey, type TransactItem, transactWithRetry } from './transactions.js';

const MAX_RETIRE_ATTEMPTS = 10;

/** DynamoDB adapter of the meter store and the summary. */
export class DynamoDbMeterStore implements MeterStore, SummaryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(meter: MeterDefinition): Promise<void> {
    const item = newMeterItem(meter);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: { ...itemKeys.meterId(meter.id), meterPk: item.pk, meterSk: item.sk },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Update: {
          TableName: this.tableName,
          Key: itemKeys.meterType(meter.meterTypeId),
          UpdateExpression: 'ADD numberOfMeters :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
      this.countMeters(1),
    ];
    try {
      await transactWithRetry(this.client, items);
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === 'ConditionalCheckFailed') {
        throw new ConflictError(
          `a meter for meterKey '${meter.meterKey}', meterTypeId '${meter.meterTypeId}' and userId '${meter.userId}' already exists`,
        );
      }
      if (codes?.[2] === 'ConditionalCheckFailed') {
        throw new NotFoundError(`meter type ${meter.meterTypeId} not found`);
      }
      rethrowStoreError(error);
    }
  }

  async get(id: string): Promise<MeterState | undefined> {
    const item = await this.readLive(id);
    return item ? meterStateOf(item) : undefined;
  }

  async update(id: string, changes: MeterChanges, now: Date): Promise<MeterState> {
    const key = await this.liveKey(id);
    if (!key) throw new NotFoundError(`meter ${id} not found`);
    const sets = ['updatedAt = :now'];
    const values: Record<string, unknown> = { ':now': now.toISOString(), ':id': id, ':one': 1 };
    if (changes.deleteOnReset !== undefined) {
      sets.push('deleteOnReset = :deleteOnReset');
      values[':deleteOnReset'] = changes.deleteOnReset;
    }
    if (changes.customFields !== undefined) {
      sets.push('customFields = :customFields');
      values[':customFields'] = changes.customFields;
    }
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')} ADD version :one`,
          ConditionExpression: 'attribute_exists(pk) AND id = :id',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return meterStateOf(output.Attributes ?? {});
    } catch (error) {
      if (isConditionFailed(error)) throw new NotFoundError(`meter ${id} not found`);
      rethrowStoreError(error);
    }
  }

  async retire(id: string, now: Date): Promise<MeterDefinition> {
    for (let attempt = 1; ; attempt++) {
      const item = await this.readLive(id);
      if (!item) throw new NotFoundError(`meter ${id} not found`);
      // Retired, the meter is due at once: the period-end flush sends its open period.
      const retired = meterItemOf({ ...meterStateOf(item), retiredAt: now.toISOString() }, now);
      const items: TransactItem[] = [
        {
          Delete: {
            TableName: this.tableName,
            Key: { pk: item.pk, sk: item.sk },
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': item.version },
          },
        },
        { Put: { TableName: this.tableName, Item: retired } },
        {
          Update: {
            TableName: this.tableName,
            Key: itemKeys.meterId(id),
            UpdateExpression: 'SET meterPk = :pk, meterSk = :sk, retiredAt = :now',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: {
              ':pk': retired.pk,
              ':sk': retired.sk,
              ':now': retired.retiredAt,
            },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: itemKeys.meterType(item.meterTypeId),
            UpdateExpression: 'ADD numberOfMeters :minus',
            ExpressionAttributeValues: { ':minus': -1 },
          },
        },
        this.countMeters(-1),
      ];
      try {
        await transactWithRetry(this.client, items);
        const { meterType, ...definition } = item;
        return {
          ...(definition as Omit<MeterDefinition, 'meterType'>),
          meterType,
        } as MeterDefinition;
      } catch (error) {
        // The meter took usage (or changed) since it was read: read it again, so none is lost.
        if (
          cancellationCodes(error)?.[0] === 'ConditionalCheckFailed' &&
          attempt < MAX_RETIRE_ATTEMPTS
        )
          continue;
        rethrowStoreError(error);
      }
    }
  }

  async list(filter: MeterFilter, limit: number, nextToken?: string): Promise<Page<MeterState>> {
    const conditions: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    for (const field of ['meterTypeId', 'userId', 'meterKey'] as const) {
      const value = filter[field];
      if (value === undefined) continue;
      conditions.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = value;
    }
    const page = await listPartition(this.client, {
      tableName: this.tableName,
      partition: LIST_PARTITIONS.meters,
      limit,
      nextToken,
      filter: conditions.length
        ? { expression: conditions.join(' AND '), names, values }
        : undefined,
    });
    return { ...page, items: page.items.map(meterStateOf) };
  }

  async summary(): Promise<MeteringSummary> {
    const keys = Array.from({ length: STATS_SHARDS }, (_, shard) => statsKey(shard));
    const [shards, categories] = await Promise.all([
      batchGetAll(this.client, this.tableName, keys),
      this.countCategories(),
    ]);
    const total = (field: string) =>
      shards.reduce((sum, shard) => sum + Number(shard[field] ?? 0), 0);
    return { meterTypes: total('meterTypes'), categories, meters: total('meters') };
  }

  /** The categories that at least one meter type uses. */
  private async countCategories(): Promise<number> {
    let count = 0;
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        IndexName: TABLE_KEYS.listIndex,
        KeyConditionExpression: 'gsi1pk = :cat',
        FilterExpression: 'meterTypes > :zero',
        ExpressionAttributeValues: { ':cat': LIST_PARTITIONS.categories, ':zero': 0 },
        Select: 'COUNT',
      },
    );
    try {
      for await (const page of pages) count += page.Count ?? 0;
    } catch (error) {
      rethrowStoreError(error);
    }
    return count;
  }

  private countMeters(delta: 1 | -1): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: statsKey(),
        UpdateExpression: 'ADD meters :d',
        ExpressionAttributeValues: { ':d': delta },
      },
    };
  }

  /** The key of a live meter's item, from its id item; undefined if unknown or retired. */
  private async liveKey(id: string): Promise<{ pk: string; sk: string } | undefined> {
    const output = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: itemKeys.meterId(id),
          ConsistentRead: true,
        }),
      )
      .catch(rethrowStoreError);
    const item = output.Item;
    if (!item || item.retiredAt !== undefined) return undefined;
    return { pk: String(item.meterPk), sk: String(item.meterSk) };
  }

  private async readLive(id: string): Promise<Item | undefined> {
    const key = await this.liveKey(id);
    if (!key) return undefined;
    const output = await this.client
      .send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
      .catch(rethrowStoreError);
    return output.Item && output.Item.id === id ? output.Item : undefined;
  }
}
