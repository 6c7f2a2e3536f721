/**
 * What IAM requires of each recorded SDK call: the actions, the resources they act on, and the
 * request context the conditions see. Only calls this module knows are mapped; any other call
 * is returned as unmapped, and a test treats that as a failure, so a new kind of call cannot
 * slip past the grant check.
 */
import type { RequiredPermission } from './iam-evaluation.js';
import type { RecordedCall } from './recording-aws-proxy.js';

export interface Account {
  /** The account the resources are in (the function's own). */
  account: string;
  partition?: string;
}

export type CallPermissions =
  | { mapped: true; permissions: RequiredPermission[] }
  | { mapped: false; reason: string };

type Mapper = (call: RecordedCall, where: Required<Account>) => RequiredPermission[];

const tableArn = (call: RecordedCall, where: Required<Account>, table: unknown): string => {
  if (typeof table !== 'string' || table === '') throw new Error('no table name');
  return table.startsWith('arn:')
    ? table
    : `arn:${where.partition}:dynamodb:${call.region}:${where.account}:table/${table}`;
};

/** An item action on the table the input names. */
const onTable =
  (action: string): Mapper =>
  (call, where) => [{ action, resource: tableArn(call, where, call.input.TableName) }];

/** Query and Scan act on the table, or on `<table>/index/<IndexName>`. */
const onTableOrIndex =
  (action: string): Mapper =>
  (call, where) => {
    const table = tableArn(call, where, call.input.TableName);
    const index = call.input.IndexName as string | undefined;
    return [{ action, resource: index ? `${table}/index/${index}` : table }];
  };

/** BatchGetItem / BatchWriteItem: the batch action on each table in RequestItems. */
const perRequestItemsTable =
  (action: string): Mapper =>
  (call, where) =>
    Object.keys(call.input.RequestItems ?? {}).map((table) => ({
      action,
      resource: tableArn(call, where, table),
    }));

// There is no IAM action named TransactWriteItems or TransactGetItems: each item needs the
// action of its kind on its own table.
const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

const perTransactItem: Mapper = (call, where) => {
  const items = (call.input.TransactItems ?? []) as Record<string, { TableName?: string }>[];
  if (items.length === 0) throw new Error('a transaction without items');
  return items.flatMap((item) =>
    Object.entries(item).map(([kind, operation]) => {
      const action = TRANSACT_ITEM_ACTIONS[kind];
      if (!action) throw new Error(`unknown transaction item kind ${kind}`);
      return { action, resource: tableArn(call, where, operation.TableName) };
    }),
  );
};

/** The queue ARN of a queue URL `<scheme>://<host>/<account>/<name>`. */
const queueArn = (call: RecordedCall, where: Required<Account>, url: unknown): string => {
  if (typeof url !== 'string') throw new Error('no QueueUrl');
  const [account, name] = new URL(url).pathname.split('/').filter(Boolean);
  if (!account || !name) throw new Error(`QueueUrl ${url} is not <host>/<account>/<name>`);
  return `arn:${where.partition}:sqs:${call.region}:${account}:${name}`;
};

const onQueue =
  (action: string): Mapper =>
  (call, where) => [{ action, resource: queueArn(call, where, call.input.QueueUrl) }];

const onTopic =
  (action: string): Mapper =>
  (call) => {
    const topic = call.input.TopicArn;
    if (typeof topic !== 'string') throw new Error('no TopicArn');
    return [{ action, resource: topic }];
  };

const streamArn = (call: RecordedCall, where: Required<Account>): string => {
  if (typeof call.input.StreamARN === 'string') return call.input.StreamARN;
  const name = call.input.StreamName;
  if (typeof name !== 'string') throw new Error('no StreamName or StreamARN');
  return `arn:${where.partition}:kinesis:${call.region}:${where.account}:stream/${name}`;
};

const onStream =
  (action: string): Mapper =>
  (call, where) => [{ action, resource: streamArn(call, where) }];

const scheduleArn = (call: RecordedCall, where: Required<Account>): string => {
  const group = (call.input.GroupName as string | undefined) ?? 'default';
  const name = call.input.Name;
  if (typeof name !== 'string') throw new Error('no schedule Name');
  return `arn:${where.partition}:scheduler:${call.region}:${where.account}:schedule/${group}/${name}`;
};

/** Creating or changing a schedule passes its target's role to EventBridge Scheduler. */
const onScheduleWithRole =
  (action: string): Mapper =>
  (call, where) => {
    const schedule = scheduleArn(call, where);
    const role = call.input.Target?.RoleArn;
    if (typeof role !== 'string') throw new Error('a schedule without Target.RoleArn');
    return [
      { action, resource: schedule },
      {
        action: 'iam:PassRole',
        resource: role,
        context: {
          'iam:PassedToService': 'scheduler.amazonaws.com',
          'iam:AssociatedResourceArn': schedule,
        },
      },
    ];
  };

const onSchedule =
  (action: string): Mapper =>
  (call, where) => [{ action, resource: scheduleArn(call, where) }];

/** service (SigV4 signing name) → operation → what IAM requires. */
const MAPPERS: Record<string, Record<string, Mapper>> = {
  dynamodb: {
    GetItem: onTable('dynamodb:GetItem'),
    PutItem: onTable('dynamodb:PutItem'),
    UpdateItem: onTable('dynamodb:UpdateItem'),
    DeleteItem: onTable('dynamodb:DeleteItem'),
    Query: onTableOrIndex('dynamodb:Query'),
    Scan: onTableOrIndex('dynamodb:Scan'),
    BatchGetItem: perRequestItemsTable('dynamodb:BatchGetItem'),
    BatchWriteItem: perRequestItemsTable('dynamodb:BatchWriteItem'),
    TransactWriteItems: perTransactItem,
    TransactGetItems: perTransactItem,
  },
  sqs: {
    SendMessage: onQueue('sqs:SendMessage'),
    // A batch needs the same action as one message.
    SendMessageBatch: onQueue('sqs:SendMessage'),
  },
  sns: {
    Publish: onTopic('sns:Publish'),
    // PublishBatch is authorized as sns:Publish.
    PublishBatch: onTopic('sns:Publish'),
  },
  kinesis: {
    PutRecord: onStream('kinesis:PutRecord'),
    PutRecords: onStream('kinesis:PutRecords'),
  },
  scheduler: {
    CreateSchedule: onScheduleWithRole('scheduler:CreateSchedule'),
    UpdateSchedule: onScheduleWithRole('scheduler:UpdateSchedule'),
    DeleteSchedule: onSchedule('scheduler:DeleteSchedule'),
    GetSchedule: onSchedule('scheduler:GetSchedule'),
  },
};

/** The permissions one recorded call needs, or why it could not be mapped. */
export function permissionsFor(call: RecordedCall, account: Account): CallPermissions {
  const mapper = MAPPERS[call.service]?.[call.operation];
  if (!mapper) {
    return { mapped: false, reason: `no mapping for ${call.service} ${call.operation}` };
  }
  try {
    return {
      mapped: true,
      permissions: mapper(call, { partition: 'aws', ...account }),
    };
  } catch (error) {
    return {
      mapped: false,
      reason: `${call.service} ${call.operation}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
