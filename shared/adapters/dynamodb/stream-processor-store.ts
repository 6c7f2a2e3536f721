/**
 * Streams' meter processors and shard pins in DynamoDB, in one partition per stream
 * (`STREAM#{name}`): the current version (`CURRENT`), every version ever saved (`VERSION#`
 * + 10 digits, so a Query reads them newest first) and one pin item per shard (`SHARD#{id}`).
 * A save is one transaction: the current item, conditional on the version the caller read, and
 * the new version item, conditional on not existing, so a version number is never lost or reused.
 */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { PreconditionFailedError, ValidationError } from '../../domain/errors.js';
import type { ShardPins } from '../../domain/stream-pins.js';
import type { StreamProcessor } from '../../domain/stream-processor.js';
import type { StreamConfig } from '../../domain/stream-schemas.js';
import type { Page } from '../../ports/metering-store.js';
import type { ShardPinStore, StreamProcessorStore } from '../../ports/stream-processor-store.js';
import { cancellationCodes, isConditionFailed, rethrowStoreError } from './errors.js';
import { keyPart } from './table.js';
import { transactWithRetry } from './transactions.js';

/** The partition of one stream's items. */
export function streamPartition(streamName: string): string {
  return `STREAM#${keyPart(streamName)}`;
}

const CURRENT = 'CURRENT';
const versionSortKey = (version: number) => `VERSION#${String(version).padStart(10, '0')}`;
const shardSortKey = (shardId: string) => `SHARD#${keyPart(shardId)}`;

function toItem(processor: StreamProcessor, sk: string): Record<string, NativeAttributeValue> {
  return {
    pk: streamPartition(processor.configuration.name),
    sk,
    entity: 'streamProcessor',
    version: processor.version,
    updatedAt: processor.updatedAt,
    // JSON text: the configuration comes back exactly as it was saved.
    configuration: JSON.stringify(processor.configuration),
  };
}

function fromItem(item: Record<string, NativeAttributeValue>): StreamProcessor {
  return {
    configuration: JSON.parse(String(item.configuration)) as StreamConfig,
    version: Number(item.version),
    updatedAt: String(item.updatedAt),
  };
}

const invalidToken = () =>
  new ValidationError([{ field: 'nextToken', message: 'is not a token this API returned' }]);

/** The version a page token stands for (the last one of the page before). */
function versionOfToken(token: string): number {
  const match = /^v(\d{1,10})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  const version = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) throw invalidToken();
  return version;
}

/** DynamoDB adapter of the stream-processor and shard-pin stores. */
export class DynamoDbStreamProcessorStore implements StreamProcessorStore, ShardPinStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async current(streamName: string): Promise<StreamProcessor | undefined> {
    return this.get(streamPartition(streamName), CURRENT);
  }

  async version(streamName: string, version: number): Promise<StreamProcessor | undefined> {
    return this.get(streamPartition(streamName), versionSortKey(version));
  }

  async seed(first: StreamProcessor): Promise<void> {
    const put = (sk: string) => ({
      Put: {
        TableName: this.tableName,
        Item: toItem(first, sk),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    try {
      await transactWithRetry(this.client, [put(CURRENT), put(versionSortKey(first.version))]);
    } catch (error) {
      // Seeded meanwhile by another container or the API: what is stored wins.
      if (cancellationCodes(error)?.includes('ConditionalCheckFailed')) return;
      rethrowStoreError(error);
    }
  }

  async replace(next: StreamProcessor, expectedVersion: number): Promise<void> {
    const current = toItem(next, CURRENT);
    try {
      await transactWithRetry(this.client, [
        {
          Put: {
            TableName: this.tableName,
            Item: current,
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':expected': expectedVersion },
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: toItem(next, versionSortKey(next.version)),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]);
    } catch (error) {
      if (cancellationCodes(error)?.includes('ConditionalCheckFailed')) {
        throw new PreconditionFailedError(
          `stream ${next.configuration.name} is no longer at version ${expectedVersion}`,
        );
      }
      rethrowStoreError(error);
    }
  }

  async versions(
    streamName: string,
    limit: number,
    nextToken?: string,
  ): Promise<Page<StreamProcessor>> {
    const below = nextToken === undefined ? undefined : versionOfToken(nextToken);
    const pk = streamPartition(streamName);
    const output = await this.client
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression:
            below === undefined
              ? 'pk = :pk AND begins_with(sk, :prefix)'
              : 'pk = :pk AND sk BETWEEN :prefix AND :below',
          ExpressionAttributeValues: {
            ':pk': pk,
            ':prefix': 'VERSION#',
            ...(below === undefined ? {} : { ':below': versionSortKey(below - 1) }),
          },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: limit,
        }),
      )
      .catch(rethrowStoreError);
    const items = (output.Items ?? []).map(fromItem);
    const last = items[items.length - 1];
    return output.LastEvaluatedKey && last && last.version > 1
      ? { items, nextToken: Buffer.from(`v${last.version}`, 'utf8').toString('base64url') }
      : { items };
  }

  async readPins(streamName: string, shardId: string): Promise<ShardPins | undefined> {
    const output = await this.client
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: streamPartition(streamName), sk: shardSortKey(shardId) },
          ConsistentRead: true,
        }),
      )
      .catch(rethrowStoreError);
    const item = output.Item;
    if (!item) return undefined;
    return {
      pins: (item.pins as { from: string; version: number; at?: number }[]).map((pin) => ({
        from: String(pin.from),
        version: Number(pin.version),
        ...(pin.at === undefined ? {} : { at: Number(pin.at) }),
      })),
      through: String(item.through),
    };
  }

  async writePins(
    streamName: string,
    shardId: string,
    next: ShardPins,
    expectedThrough: string | undefined,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: streamPartition(streamName),
            sk: shardSortKey(shardId),
            entity: 'shardPins',
            pins: next.pins,
            through: next.through,
          },
          ...(expectedThrough === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#through = :through',
                ExpressionAttributeNames: { '#through': 'through' },
                ExpressionAttributeValues: { ':through': expectedThrough },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      rethrowStoreError(error);
    }
  }

  private async get(pk: string, sk: string): Promise<StreamProcessor | undefined> {
    const output = await this.client
      .send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }))
      .catch(rethrowStoreError);
    return output.Item ? fromItem(output.Item) : undefined;
  }
}
