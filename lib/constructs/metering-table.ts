/**
 * MeteringTable: the service's one DynamoDB table, built from the same CreateTable input the
 * local stack and the tests use (shared/adapters/dynamodb/table.ts), so the two cannot drift.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { createTableInput, TABLE_KEYS } from '../../shared/adapters/dynamodb/table.js';
import { viaService } from './key-grants.js';

export interface MeteringTableProps {
  /** Customer managed key; default: the AWS managed key `aws/dynamodb`. */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default true */
  readonly deletionProtection?: boolean;
}

/** Item-level DynamoDB actions a function may be granted (never `dynamodb:*`). */
export type ItemAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem';

/** Where a function may run `dynamodb:Query`: the table itself and/or some of its indexes. */
export interface QueryScope {
  readonly table?: boolean;
  readonly indexes?: readonly string[];
}

// What a principal needs of a customer managed table key to read and write items.
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

function keySchemaOf(
  keySchema: NonNullable<ReturnType<typeof createTableInput>['KeySchema']>,
  attributeType: (name: string) => dynamodb.AttributeType,
): { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute } {
  const nameOf = (keyType: 'HASH' | 'RANGE') =>
    keySchema.find((k) => k.KeyType === keyType)?.AttributeName;
  const hash = nameOf('HASH');
  const range = nameOf('RANGE');
  if (!hash) throw new Error('the table definition has no partition key');
  return {
    partitionKey: { name: hash, type: attributeType(hash) },
    ...(range ? { sortKey: { name: range, type: attributeType(range) } } : {}),
  };
}

/** On-demand, point-in-time recovery, encrypted, TTL on `expiresAt`, deletion protection. */
export class MeteringTable extends Construct {
  readonly table: dynamodb.Table;
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: MeteringTableProps = {}) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const input = createTableInput('schema-only');
    const attributeType = (name: string): dynamodb.AttributeType => {
      const type = input.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
      if (type === 'S') return dynamodb.AttributeType.STRING;
      if (type === 'N') return dynamodb.AttributeType.NUMBER;
      if (type === 'B') return dynamodb.AttributeType.BINARY;
      throw new Error(`the table definition has no type for attribute ${name}`);
    };
    if (input.BillingMode !== 'PAY_PER_REQUEST') {
      throw new Error('the table definition is expected to be on-demand (PAY_PER_REQUEST)');
    }

    this.table = new dynamodb.Table(this, 'Table', {
      ...keySchemaOf(input.KeySchema ?? [], attributeType),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? {
            encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryptionKey: props.encryptionKey,
          }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      timeToLiveAttribute: TABLE_KEYS.timeToLive,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of input.GlobalSecondaryIndexes ?? []) {
      if (!index.IndexName) throw new Error('an index of the table definition has no name');
      const projection = index.Projection?.ProjectionType;
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        ...keySchemaOf(index.KeySchema ?? [], attributeType),
        ...(projection === 'INCLUDE'
          ? {
              projectionType: dynamodb.ProjectionType.INCLUDE,
              nonKeyAttributes: index.Projection?.NonKeyAttributes ?? [],
            }
          : projection === 'KEYS_ONLY'
            ? { projectionType: dynamodb.ProjectionType.KEYS_ONLY }
            : { projectionType: dynamodb.ProjectionType.ALL }),
      });
    }
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** The ARN of one index, e.g. for a Query grant. */
  indexArn(indexName: string): string {
    return `${this.table.tableArn}/index/${indexName}`;
  }

  /** Grants exactly these item actions on the table (not its indexes), and the key if any. */
  grantItemActions(grantee: iam.IGrantable, actions: readonly ItemAction[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...actions], resources: [this.table.tableArn] }),
    );
    this.#grantKey(grantee);
  }

  /** Grants `dynamodb:Query` on the table and/or the named indexes. */
  grantQuery(grantee: iam.IGrantable, scope: QueryScope): void {
    const resources = [
      ...(scope.table ? [this.table.tableArn] : []),
      ...(scope.indexes ?? []).map((name) => this.indexArn(name)),
    ];
    if (resources.length === 0) throw new Error('grantQuery needs the table or an index');
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources }),
    );
    this.#grantKey(grantee);
  }

  #grantKey(grantee: iam.IGrantable): void {
    if (!this.encryptionKey) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: TABLE_KEY_ACTIONS,
        resources: [this.encryptionKey.keyArn],
        conditions: viaService(this, 'dynamodb'),
      }),
    );
  }
}
