/**
 * The ingest path's DynamoDB access: one strongly consistent query per user, one conditional
 * update per meter per batch, event-id claims for de-duplication, and unique meters' claims.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, PutCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StreamPosition } from '../../domain/event-dedup.js';
import type { MeterState } from '../../domain/meter-usage.js';
import type { MeteredRecord } from '../../domain/metered-record.js';
import type { UniqueClaim } from '../../domain/unique-values.js';
import type { DedupClaim, EventClaims } from '../../ports/event-claims.js';
import type { ThresholdOutbox } from '../../ports/threshold-outbox.js';
import type { UniqueValueClaims } from '../../ports/unique-claims.js';
import type { ShardUsageWrite, UsageWriter } from '../../ports/usage-writer.js';
import type { UserMeterReader } from '../../ports/user-meter-reader.js';
import { isConditionFailed, rethrowStoreError } from './errors.js';
import { type Item, meterStateOf, OUTBOX_SWEEP_DELAY_MS, replaceMeterItem } from './meter-item.js';
import { itemKeys, keyPart } from './table.js';
import { heldUniqueClaims, replaceMeterClaiming } from './unique-claims.js';

/** The claim item of an event id; hashed, so any id fits DynamoDB's key size. */
function dedupKey(streamName: string, eventId: string) {
  const digest = createHash('sha256').update(eventId, 'utf8').digest('base64url');
  return { pk: `DEDUP#${keyPart(streamName)}#${digest}`, sk: 'DEDUP' };
}

/** A de-duplication claim: the event id is held by this stream position until `expiresAt`. */
function claimItem(
  streamName: string,
  eventId: string,
  holder: StreamPosition,
  expiresAt: number,
): Item {
  return {
    ...dedupKey(streamName, eventId),
    holderShard: holder.shardId,
    holderSeq: holder.sequenceNumber,
    expiresAt,
  };
}

/** DynamoDB adapter of ingestion's store contracts: all of them live in the meters table. */
export class DynamoDbIngestStore
  implements UserMeterReader, UsageWriter, ThresholdOutbox, EventClaims, UniqueValueClaims
{
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async loadMeters(meterKey: string, userId: string): Promise<MeterState[]> {
    const meters: MeterState[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': itemKeys.meterPartition(meterKey, userId) },
        ConsistentRead: true,
      },
    );
    try {
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          if (item.entity === 'meter') meters.push(meterStateOf(item));
        }
      }
    } catch (error) {
      rethrowStoreError(error);
    }
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

  heldUniqueClaims(keys: readonly string[]): Promise<ReadonlySet<string>> {
    return heldUniqueClaims(this.client, this.tableName, keys);
  }

  replaceMeterClaiming(
    next: MeterState,
    expectedVersion: number,
    claims: readonly UniqueClaim[],
  ): Promise<boolean> {
    return replaceMeterClaiming(this.client, this.tableName, next, expectedVersion, claims);
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
          Item: claimItem(streamName, eventId, position, expiresAt),
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
          Item: claimItem(streamName, eventId, to, expiresAt),
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
