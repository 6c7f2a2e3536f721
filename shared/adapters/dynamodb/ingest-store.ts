/**
 * The ingest path's DynamoDB access: one strongly consistent query per user, one conditional
 * update per meter per batch, and event-id claims for de-duplication.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MeterState } from '../../domain/meter-usage.js';
import { closableAt } from '../../domain/meter-usage.js';
import type { MeteredRecord } from '../../domain/metered-record.js';
import type {
  DedupClaim,
  IngestStore,
  ShardUsageWrite,
  StreamPosition,
} from '../../ports/ingest-store.js';
import { isConditionFailed, rethrowStoreError } from './errors.js';
import { dueShardOf } from './meter-store.js';
import { itemKeys, keyPart, LIST_PARTITIONS } from './table.js';

type Item = Record<string, NativeAttributeValue>;

/** Outbox records not sent by the prompt flush are picked up by the sweeper after this long. */
export const OUTBOX_SWEEP_DELAY_MS = 2 * 60 * 1000;

const STORAGE_ONLY = [
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'entity',
  'category',
] as const;

/** A meter's state from its item. */
export function meterStateOf(item: Item): MeterState {
  const copy: Item = { ...item };
  for (const field of STORAGE_ONLY) delete copy[field];
  return copy as MeterState;
}

/**
 * When the sweeper should look at a meter: its period's close, or soon when records wait in
 * the outbox; undefined when nothing will ever be due (an ended meter with an empty outbox).
 */
export function dueAtOf(state: MeterState, now: Date): string | undefined {
  const close = closableAt(state);
  const due =
    Object.keys(state.outbox).length > 0
      ? Math.min(close, now.getTime() + OUTBOX_SWEEP_DELAY_MS)
      : close;
  return Number.isFinite(due) ? new Date(due).toISOString() : undefined;
}

/** The full item of a meter state (live, or retired after an API delete). */
export function meterItemOf(state: MeterState, now: Date): Item {
  const keys =
    state.retiredAt !== undefined
      ? { ...itemKeys.retiredMeter(state.id), entity: 'retiredMeter' }
      : {
          ...itemKeys.meter(state.meterKey, state.userId, state.meterTypeId),
          entity: 'meter',
          gsi1pk: LIST_PARTITIONS.meters,
          gsi1sk: `${state.createdAt}#${state.id}`,
        };
  const dueAt = dueAtOf(state, now);
  return {
    ...state,
    ...keys,
    category: state.meterType.category,
    ...(dueAt ? { gsi2pk: dueShardOf(state.id), gsi2sk: dueAt } : {}),
  };
}

/** Replaces a meter's item if its version is unchanged; false on a conflict. */
export async function replaceMeterItem(
  client: DynamoDBDocumentClient,
  tableName: string,
  next: MeterState,
  expectedVersion: number,
): Promise<boolean> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: meterItemOf({ ...next, version: expectedVersion + 1 }, new Date(next.updatedAt)),
        ConditionExpression: '#id = :id AND #version = :version',
        ExpressionAttributeNames: { '#id': 'id', '#version': 'version' },
        ExpressionAttributeValues: { ':id': next.id, ':version': expectedVersion },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    rethrowStoreError(error);
  }
}

/** The claim item of an event id; hashed, so any id fits DynamoDB's key size. */
function dedupKey(streamName: string, eventId: string) {
  const digest = createHash('sha256').update(eventId, 'utf8').digest('base64url');
  return { pk: `DEDUP#${keyPart(streamName)}#${digest}`, sk: 'DEDUP' };
}

/** DynamoDB adapter of the ingest store. */
export class DynamoDbIngestStore implements IngestStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async loadMeters(meterKey: string, userId: string): Promise<MeterState[]> {
    const meters: MeterState[] = [];
    let startKey: Item | undefined;
    do {
      const output = await this.client
        .send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': itemKeys.meterPartition(meterKey, userId) },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        )
        .catch(rethrowStoreError);
      for (const item of output.Items ?? []) {
        if (item.entity === 'meter') meters.push(meterStateOf(item));
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    return meters;
  }

  async writeShardUsage(write: ShardUsageWrite): Promise<MeterState | undefined> {
    const { meter } = write;
    const sets = ['#seq.#shard = :newSeq', '#updatedAt = :now'];
    const names: Record<string, string> = {
      '#seq': 'seq',
      '#shard': write.shardId,
      '#updatedAt': 'updatedAt',
      '#id': 'id',
      '#periodStart': 'periodStart',
      '#version': 'version',
    };
    const values: Record<string, unknown> = {
      ':newSeq': write.newSeq,
      ':now': write.now.toISOString(),
      ':id': meter.id,
      ':periodStart': meter.periodStart,
      ':one': 1,
    };
    if (write.currentSlot) {
      sets.push('#usage.#shards.#shard = :currentSlot');
      names['#usage'] = 'usage';
      names['#shards'] = 'shards';
      values[':currentSlot'] = write.currentSlot;
    }
    if (write.nextSlot) {
      sets.push('#next.#shards.#shard = :nextSlot');
      names['#next'] = 'next';
      names['#shards'] = 'shards';
      values[':nextSlot'] = write.nextSlot;
    }
    let seqCondition = 'attribute_not_exists(#seq.#shard)';
    if (write.expectedSeq !== undefined) {
      seqCondition = '#seq.#shard = :expectedSeq';
      values[':expectedSeq'] = write.expectedSeq;
    }
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKeys.meter(meter.meterKey, meter.userId, meter.meterTypeId),
          UpdateExpression: `SET ${sets.join(', ')} ADD #version :one`,
          ConditionExpression: `#id = :id AND #periodStart = :periodStart AND ${seqCondition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return meterStateOf(output.Attributes ?? {});
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      rethrowStoreError(error);
    }
  }

  async replaceMeter(next: MeterState, expectedVersion: number): Promise<boolean> {
    return replaceMeterItem(this.client, this.tableName, next, expectedVersion);
  }

  async addThresholdRecords(
    meter: MeterState,
    records: readonly MeteredRecord[],
    fired: readonly string[],
    now: Date,
  ): Promise<boolean> {
    if (records.length === 0) return true;
    const names: Record<string, string> = {
      '#outbox': 'outbox',
      '#usage': 'usage',
      '#fired': 'fired',
      '#id': 'id',
      '#periodStart': 'periodStart',
      '#version': 'version',
      '#updatedAt': 'updatedAt',
      '#due': 'gsi2sk',
    };
    const values: Record<string, unknown> = {
      ':id': meter.id,
      ':periodStart': meter.periodStart,
      ':fired': [...fired],
      ':one': 1,
      ':now': now.toISOString(),
      ':due': new Date(now.getTime() + OUTBOX_SWEEP_DELAY_MS).toISOString(),
    };
    const sets = [
      '#usage.#fired = list_append(#usage.#fired, :fired)',
      '#updatedAt = :now',
      '#due = :due',
    ];
    const conditions = ['#id = :id', '#periodStart = :periodStart'];
    records.forEach((record, i) => {
      names[`#r${i}`] = record.recordId;
      values[`:r${i}`] = record;
      sets.push(`#outbox.#r${i} = :r${i}`);
    });
    fired.forEach((name, i) => {
      values[`:n${i}`] = name;
      conditions.push(`NOT contains(#usage.#fired, :n${i})`);
    });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKeys.meter(meter.meterKey, meter.userId, meter.meterTypeId),
          UpdateExpression: `SET ${sets.join(', ')} ADD #version :one`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      rethrowStoreError(error);
    }
  }

  async claimEvent(
    streamName: string,
    eventId: string,
    position: StreamPosition,
    expiresAt: number,
    now: Date,
  ): Promise<DedupClaim> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...dedupKey(streamName, eventId),
            holderShard: position.shardId,
            holderSeq: position.sequenceNumber,
            expiresAt,
          },
          ConditionExpression:
            'attribute_not_exists(pk) OR (holderShard = :shard AND holderSeq = :seq) OR expiresAt < :now',
          ExpressionAttributeValues: {
            ':shard': position.shardId,
            ':seq': position.sequenceNumber,
            ':now': Math.floor(now.getTime() / 1000),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailed(error)) rethrowStoreError(error);
      const old = (error as { Item?: Record<string, { S?: string }> }).Item;
      return {
        claimed: false,
        holder: { shardId: old?.holderShard?.S ?? '', sequenceNumber: old?.holderSeq?.S ?? '' },
      };
    }
  }

  async takeOverClaim(
    streamName: string,
    eventId: string,
    from: StreamPosition,
    to: StreamPosition,
    expiresAt: number,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...dedupKey(streamName, eventId),
            holderShard: to.shardId,
            holderSeq: to.sequenceNumber,
            expiresAt,
          },
          ConditionExpression: 'holderShard = :shard AND holderSeq = :seq',
          ExpressionAttributeValues: { ':shard': from.shardId, ':seq': from.sequenceNumber },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      rethrowStoreError(error);
    }
  }

  async releaseClaim(streamName: string, eventId: string, position: StreamPosition): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: dedupKey(streamName, eventId),
          ConditionExpression: 'holderShard = :shard AND holderSeq = :seq',
          ExpressionAttributeValues: {
            ':shard': position.shardId,
            ':seq': position.sequenceNumber,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) rethrowStoreError(error);
    }
  }
}
