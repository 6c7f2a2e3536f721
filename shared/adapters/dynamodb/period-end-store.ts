/** The period-end flush's DynamoDB access: find a meter by id, write it, clear its outbox, delete it. */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MeterState } from '../../domain/meter-usage.js';
import type { PeriodEndStore } from '../../ports/period-end-store.js';
import { cancellationCodes, isConditionFailed, rethrowStoreError } from './errors.js';
import { dueAtOf, meterStateOf, replaceMeterItem } from './meter-item.js';
import { DUE_PARTITIONS, itemKeys, TABLE_KEYS } from './table.js';
import { statsKey, type TransactItem, transactWithRetry } from './transactions.js';

type Item = Record<string, NativeAttributeValue>;

function keyOf(meter: MeterState): { pk: string; sk: string } {
  return meter.retiredAt !== undefined
    ? itemKeys.retiredMeter(meter.id)
    : itemKeys.meter(meter.meterKey, meter.userId, meter.meterTypeId);
}

/** DynamoDB adapter of the period-end store. */
export class DynamoDbPeriodEndStore implements PeriodEndStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findById(meterId: string): Promise<MeterState | undefined> {
    const pointer = await this.get(itemKeys.meterId(meterId));
    if (!pointer) return undefined;
    const item = await this.get({ pk: String(pointer.meterPk), sk: String(pointer.meterSk) });
    return item && item.id === meterId ? meterStateOf(item) : undefined;
  }

  replaceMeter(next: MeterState, expectedVersion: number): Promise<boolean> {
    return replaceMeterItem(this.client, this.tableName, next, expectedVersion);
  }

  async removeFromOutbox(
    meter: MeterState,
    recordIds: readonly string[],
    now: Date,
  ): Promise<MeterState | undefined> {
    if (recordIds.length === 0) return meter;
    const names: Record<string, string> = {
      '#outbox': 'outbox',
      '#id': 'id',
      '#version': 'version',
    };
    const values: Record<string, unknown> = { ':id': meter.id, ':one': 1 };
    const removals = recordIds.map((recordId, i) => {
      names[`#r${i}`] = recordId;
      return `#outbox.#r${i}`;
    });
    const remaining = { ...meter.outbox };
    for (const recordId of recordIds) delete remaining[recordId];
    const dueAt = dueAtOf({ ...meter, outbox: remaining }, now);
    const key = keyOf(meter);
    const update = (withDue: boolean) => {
      const sets: string[] = [];
      const conditionValues: Record<string, unknown> = {};
      let condition = '#id = :id';
      if (withDue) {
        // Only when no other record joined the outbox since it was read: its due time is ours to set.
        condition += ' AND size(#outbox) = :size';
        conditionValues[':size'] = Object.keys(meter.outbox).length;
        if (dueAt) {
          sets.push('#due = :due');
          names['#due'] = TABLE_KEYS.dueSortKey;
          conditionValues[':due'] = dueAt;
        }
      }
      const removeDue = withDue && !dueAt ? `, #duePk, #dueSk` : '';
      if (removeDue) {
        names['#duePk'] = TABLE_KEYS.duePartitionKey;
        names['#dueSk'] = TABLE_KEYS.dueSortKey;
      }
      return new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `REMOVE ${removals.join(', ')}${removeDue}${sets.length ? ` SET ${sets.join(', ')}` : ''} ADD #version :one`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ...conditionValues },
        ReturnValues: 'ALL_NEW',
      });
    };
    for (const withDue of [true, false]) {
      try {
        const output = await this.client.send(update(withDue));
        return output.Attributes ? meterStateOf(output.Attributes) : undefined;
      } catch (error) {
        if (!isConditionFailed(error)) rethrowStoreError(error);
      }
    }
    return undefined;
  }

  async deleteMeter(meter: MeterState): Promise<boolean> {
    const items: TransactItem[] = [
      {
        Delete: {
          TableName: this.tableName,
          Key: keyOf(meter),
          ConditionExpression: '#version = :version AND size(#outbox) = :zero',
          ExpressionAttributeNames: { '#version': 'version', '#outbox': 'outbox' },
          ExpressionAttributeValues: { ':version': meter.version, ':zero': 0 },
        },
      },
      { Delete: { TableName: this.tableName, Key: itemKeys.meterId(meter.id) } },
    ];
    if (meter.retiredAt === undefined) {
      // A meter deleted on reset is counted off here; one deleted through the API already was.
      items.push(
        {
          Update: {
            TableName: this.tableName,
            Key: itemKeys.meterType(meter.meterTypeId),
            UpdateExpression: 'ADD numberOfMeters :minus',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':minus': -1 },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: statsKey(),
            UpdateExpression: 'ADD meters :minus',
            ExpressionAttributeValues: { ':minus': -1 },
          },
        },
      );
    }
    try {
      await transactWithRetry(this.client, items);
      return true;
    } catch (error) {
      if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return false;
      rethrowStoreError(error);
    }
  }

  async dueMeterIds(now: Date, limit: number): Promise<string[]> {
    const perPartition = await Promise.all(
      DUE_PARTITIONS.map(async (partition) => {
        const output = await this.client
          .send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: TABLE_KEYS.dueIndex,
              KeyConditionExpression: '#pk = :pk AND #sk <= :now',
              ExpressionAttributeNames: {
                '#pk': TABLE_KEYS.duePartitionKey,
                '#sk': TABLE_KEYS.dueSortKey,
              },
              ExpressionAttributeValues: { ':pk': partition, ':now': now.toISOString() },
              Limit: limit,
            }),
          )
          .catch(rethrowStoreError);
        return (output.Items ?? []).map((item) => String(item.id));
      }),
    );
    return [...new Set(perPartition.flat())].slice(0, limit);
  }

  private async get(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const output = await this.client
      .send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
      .catch(rethrowStoreError);
    return output.Item;
  }
}
