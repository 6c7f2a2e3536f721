/**
 * Data-correction entries in DynamoDB: one item per entry, keyed by its deterministic id, and
 * listed on the listing index in the order they were corrected. Writes are conditional so
 * Lambda retries never overwrite an entry, and a re-send is claimed before it happens.
 */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type {
  CorrectionAdminStore,
  CorrectionLog,
  DataCorrection,
  DataCorrectionFilter,
  OpenCorrectionCount,
} from '../../ports/data-correction-store.js';
import type { Page } from '../../ports/metering-store.js';
import { batchGetAll } from './batch-get.js';
import {
  CORRECTION_INDEX_ATTRIBUTES,
  correctionIndexKeys,
  countOpenCorrections,
  listCorrections,
  matchingCorrectionIds,
  OPEN_INDEX_ATTRIBUTES,
  reprocessableCorrectionIds,
  setAsideUpdate,
} from './data-correction-index.js';
import { isConditionFailed, rethrowStoreError } from './errors.js';
import { keyPart, LIST_PARTITIONS } from './table.js';

/** The listing-index partition of data-correction entries (beside LIST_PARTITIONS in table.ts). */
export const DATA_CORRECTION_PARTITION = LIST_PARTITIONS.dataCorrections;

/** Parallel conditional puts per `putAll`: enough for a Kinesis batch, gentle on the table. */
const PUT_CONCURRENCY = 16;

/** Attributes that exist only for storage: keys, index keys, and the in-flight re-send claim. */
const ITEM_ONLY_FIELDS = [
  'pk',
  'sk',
  ...CORRECTION_INDEX_ATTRIBUTES,
  'entity',
  'reprocessClaimedAt',
] as const;

/** The item key of one entry. */
export function dataCorrectionKey(id: string): { pk: string; sk: string } {
  return { pk: `CORR#${keyPart(id)}`, sk: 'CORR' };
}

function toItem(entry: DataCorrection): Record<string, NativeAttributeValue> {
  return {
    ...entry,
    ...dataCorrectionKey(entry.id),
    ...correctionIndexKeys(entry),
    entity: 'dataCorrection',
  };
}

/** Strips the storage-only attributes from an item. */
function fromItem(item: Record<string, NativeAttributeValue>): DataCorrection {
  const copy: Record<string, NativeAttributeValue> = { ...item };
  for (const field of ITEM_ONLY_FIELDS) delete copy[field];
  return copy as DataCorrection;
}

/**
 * The item a failed condition saw (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`), or
 * undefined when there was none. The document client does not unmarshall errors, so the
 * item's attributes are still raw AttributeValues here; only their presence is used.
 */
function oldItemOf(error: unknown): Record<string, { S?: string }> | undefined {
  const item = (error as { Item?: unknown }).Item;
  return typeof item === 'object' && item !== null
    ? (item as Record<string, { S?: string }>)
    : undefined;
}

/** The per-shard high-water mark of sequence numbers that may have correction entries. */
function highWaterMarkKey(streamName: string, shardId: string): { pk: string; sk: string } {
  return { pk: `CORRHWM#${keyPart(streamName)}#${keyPart(shardId)}`, sk: 'HWM' };
}

/** DynamoDB adapter of the data-correction store. */
export class DynamoDbDataCorrectionStore implements CorrectionLog, CorrectionAdminStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putAll(batch: readonly DataCorrection[]): Promise<readonly DataCorrection[]> {
    // Parallel puts of one id would race; the first occurrence in the batch is the one kept.
    const firstById = new Map<string, DataCorrection>();
    for (const entry of batch) if (!firstById.has(entry.id)) firstById.set(entry.id, entry);
    const entries = [...firstById.values()];
    let next = 0;
    let failure: { error: unknown } | undefined;
    const stored: DataCorrection[] = [];
    const worker = async () => {
      // Stop taking new entries after a failure; the caller retries, and stored ones are kept.
      while (next < entries.length && !failure) {
        const entry = entries[next++];
        if (!entry) continue;
        try {
          if (await this.putOnce(entry)) stored.push(entry);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(PUT_CONCURRENCY, entries.length) }, () => worker()),
    );
    if (failure) rethrowStoreError(failure.error);
    return stored;
  }

  async highWaterMark(streamName: string, shardId: string): Promise<string | undefined> {
    const output = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: highWaterMarkKey(streamName, shardId),
          ConsistentRead: true,
        }),
      )
      .catch(rethrowStoreError);
    const mark = output.Item?.sequenceKey;
    return typeof mark === 'string' ? mark : undefined;
  }

  async raiseHighWaterMark(
    streamName: string,
    shardId: string,
    sequenceKey: string,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...highWaterMarkKey(streamName, shardId), sequenceKey },
          ConditionExpression: 'attribute_not_exists(pk) OR sequenceKey < :mark',
          ExpressionAttributeValues: { ':mark': sequenceKey },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) rethrowStoreError(error);
    }
  }

  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    const keys = [...new Set(ids)].map(dataCorrectionKey);
    const items = await batchGetAll(this.client, this.tableName, keys, 'id');
    return new Set(items.map((item) => String(item.id)));
  }

  async get(id: string): Promise<DataCorrection | undefined> {
    const output = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: dataCorrectionKey(id),
          ConsistentRead: true,
        }),
      )
      .catch(rethrowStoreError);
    return output.Item ? fromItem(output.Item) : undefined;
  }

  async list(
    filter: DataCorrectionFilter,
    limit: number,
    nextToken?: string,
  ): Promise<Page<DataCorrection>> {
    const page = await listCorrections(this.client, this.tableName, filter, limit, nextToken);
    return { ...page, items: page.items.map(fromItem) };
  }

  async matchingIds(filter: DataCorrectionFilter, limit: number): Promise<string[]> {
    return matchingCorrectionIds(this.client, this.tableName, filter, limit);
  }

  async reprocessableIds(filter: DataCorrectionFilter, limit: number): Promise<string[]> {
    return reprocessableCorrectionIds(this.client, this.tableName, filter, limit);
  }

  async countOpen(): Promise<OpenCorrectionCount[]> {
    return countOpenCorrections(this.client, this.tableName);
  }

  async delete(id: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: dataCorrectionKey(id),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new NotFoundError(`data correction ${id} not found`);
      rethrowStoreError(error);
    }
  }

  async claimReprocess(id: string, now: Date, staleAfterMs: number): Promise<DataCorrection> {
    try {
      return await this.update({
        Key: dataCorrectionKey(id),
        UpdateExpression: 'SET #claimed = :now',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(#done) AND ' +
          '(attribute_not_exists(#claimed) OR #claimed < :stale)',
        ExpressionAttributeNames: { '#claimed': 'reprocessClaimedAt', '#done': 'reprocessedAt' },
        ExpressionAttributeValues: {
          ':now': now.toISOString(),
          ':stale': new Date(now.getTime() - staleAfterMs).toISOString(),
        },
      });
    } catch (error) {
      if (!isConditionFailed(error)) rethrowStoreError(error);
      const old = oldItemOf(error);
      if (!old) throw new NotFoundError(`data correction ${id} not found`);
      if (old.reprocessedAt) {
        throw new ConflictError(
          `data correction ${id} was already reprocessed at ${old.reprocessedAt.S ?? 'an earlier time'}`,
        );
      }
      throw new ConflictError(`data correction ${id} is being reprocessed; retry shortly`);
    }
  }

  async completeReprocess(id: string, sequenceNumber: string, now: Date): Promise<DataCorrection> {
    try {
      // The condition also keeps UpdateItem from creating a bare item for a deleted entry.
      // Removing the open-index keys takes the entry out of the open counts and bulk re-sends.
      return await this.update({
        Key: dataCorrectionKey(id),
        UpdateExpression: `SET #done = :now, #seq = :seq REMOVE #claimed, ${OPEN_INDEX_ATTRIBUTES.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#done)',
        ExpressionAttributeNames: {
          '#claimed': 'reprocessClaimedAt',
          '#done': 'reprocessedAt',
          '#seq': 'reprocessSequenceNumber',
        },
        ExpressionAttributeValues: { ':now': now.toISOString(), ':seq': sequenceNumber },
      });
    } catch (error) {
      if (!isConditionFailed(error)) rethrowStoreError(error);
      if (!oldItemOf(error)) {
        throw new NotFoundError(`data correction ${id} was deleted while being reprocessed`);
      }
      throw new ConflictError(`data correction ${id} was already reprocessed`);
    }
  }

  async releaseReprocess(id: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: dataCorrectionKey(id),
          UpdateExpression: 'REMOVE #claimed',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#claimed': 'reprocessClaimedAt' },
        }),
      );
    } catch (error) {
      // An entry deleted meanwhile has no claim left to release.
      if (!isConditionFailed(error)) rethrowStoreError(error);
    }
  }

  async setAside(entry: Pick<DataCorrection, 'id' | 'reason'>): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: dataCorrectionKey(entry.id),
          ...setAsideUpdate(entry.reason),
        }),
      );
    } catch (error) {
      // Deleted, re-sent or set aside meanwhile: nothing left to move.
      if (!isConditionFailed(error)) rethrowStoreError(error);
    }
  }

  /** Stores one entry unless its id is already stored (false: an existing entry is kept as it is). */
  private async putOnce(entry: DataCorrection): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(entry),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return false;
    }
  }

  /** A conditional update returning the entry as it is afterwards, or the old item on failure. */
  private async update(
    input: Omit<UpdateCommandInput, 'TableName' | 'ReturnValues'>,
  ): Promise<DataCorrection> {
    const output = await this.client.send(
      new UpdateCommand({
        ...input,
        TableName: this.tableName,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (!output.Attributes) throw new Error('UpdateItem returned no attributes');
    return fromItem(output.Attributes);
  }
}
