/** The default stack: every resource of the service, its IAM, event source and encryption. */
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MeteringFunction } from '../../lib/constructs/metering-function.js';
import { UsageMeteringStack } from '../../lib/usage-metering-stack.js';
import { createTableInput, TABLE_KEYS } from '../../shared/adapters/dynamodb/table.js';
import { ENV } from '../../shared/config/env-names.js';
import { readApiConfig, readPeriodEndConfig } from '../../shared/config/runtime-config.js';
import { DEFAULT_STREAMS, parseStreamsConfig } from '../../shared/config/streams.js';
import { ACCESS_LEVELS } from '../../shared/http/access-levels.js';
import {
  ALL_GATEWAY_ROUTES,
  ALL_ROUTE_KEYS,
  ALL_ROUTE_SPECS,
} from '../../shared/http/route-specs.js';
import { CORRECTION_REASONS } from '../../shared/ports/data-correction-store.js';
import {
  actionsOf,
  allStatements,
  environmentOf,
  idsOfType,
  resourcesOf,
  roleStatements,
  type Statement,
  type Synthesized,
  synthStack,
} from './support.js';

let synth: Synthesized;
const id = (construct: { node: { defaultChild?: unknown } }) =>
  synth.stack.getLogicalId(construct.node.defaultChild as CfnElement);
const getAtt = (logicalId: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attribute] });

beforeAll(() => {
  synth = synthStack();
});

function metering() {
  return synth.stack.metering;
}

function fnById(entry: string): MeteringFunction {
  const fn = metering().functions.find((f) => f.entry === entry);
  if (!fn) throw new Error(`no ${entry} function`);
  return fn;
}

/** A function's statements as `action -> resources` (every action of every Allow statement). */
function grantsOf(entry: string): Map<string, unknown[]> {
  const fn = fnById(entry);
  const grants = new Map<string, unknown[]>();
  for (const statement of roleStatements(synth.json, id(fn.role))) {
    expect(statement.Effect).toBe('Allow');
    for (const action of actionsOf(statement)) {
      grants.set(action, [...(grants.get(action) ?? []), ...resourcesOf(statement)]);
    }
  }
  return grants;
}

function statementWith(entry: string, action: string): Statement {
  const fn = fnById(entry);
  const found = roleStatements(synth.json, id(fn.role)).filter((s) =>
    actionsOf(s).includes(action),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('resources', () => {
  it('has the resources of the architecture, once each', () => {
    const t = synth.template;
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.resourceCountIs('AWS::Kinesis::Stream', DEFAULT_STREAMS.length);
    t.resourceCountIs('AWS::Lambda::Function', 4);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', DEFAULT_STREAMS.length);
    t.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Route', ALL_ROUTE_KEYS.length);
    t.resourceCountIs('AWS::Events::Rule', 1);
    // Destination, its DLQ, schedule DLQ, reset failures (ingest gives nothing up: no queue).
    t.resourceCountIs('AWS::SQS::Queue', 4);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // Four function roles and the scheduler's role; no custom-resource helpers.
    t.resourceCountIs('AWS::IAM::Role', 5);
  });

  it('mirrors the table definition the local stack uses, key for key', () => {
    const input = createTableInput('x');
    const table = synth.json.Resources[id(metering().table.table)]!;
    const p = table.Properties;
    expect(p.KeySchema).toEqual(input.KeySchema);
    expect(new Set(p.AttributeDefinitions.map((a: object) => JSON.stringify(a)))).toEqual(
      new Set(input.AttributeDefinitions?.map((a) => JSON.stringify(a))),
    );
    expect(p.GlobalSecondaryIndexes).toEqual(input.GlobalSecondaryIndexes);
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.TimeToLiveSpecification).toEqual({
      AttributeName: TABLE_KEYS.timeToLive,
      Enabled: true,
    });
    // The history's indexes carry the record's JSON and the filter attributes, nothing else.
    const history = p.GlobalSecondaryIndexes.filter((index: { IndexName: string }) =>
      [
        TABLE_KEYS.historyByUserIndex,
        TABLE_KEYS.historyByMeterIndex,
        TABLE_KEYS.historyByTypeIndex,
      ].includes(index.IndexName as never),
    );
    expect(history).toHaveLength(3);
    for (const index of history) {
      expect(index.Projection).toEqual({
        ProjectionType: 'INCLUDE',
        NonKeyAttributes: ['record', 'userId', 'meterId', 'meterKey', 'meterTypeId', 'recordType'],
      });
    }
    expect(p.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('creates one on-demand stream per configured stream, keeping records 7 days', () => {
    const streams = Object.values(synth.template.findResources('AWS::Kinesis::Stream'));
    expect(streams).toHaveLength(DEFAULT_STREAMS.length);
    for (const stream of streams) {
      expect(stream.Properties).toMatchObject({
        RetentionPeriodHours: 7 * 24,
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      });
      // CloudFormation names it: no fixed name to collide with another stage or a retained stream.
      expect(stream.Properties.Name).toBeUndefined();
    }
  });

  it('tells the Lambdas which Kinesis stream is which configured stream', () => {
    for (const entry of ['api', 'ingest']) {
      const env = environmentOf(synth.json, id(fnById(entry).function));
      const rendered = JSON.stringify(env[ENV.streamNames]);
      for (const { stream, config } of metering().streams.streams) {
        expect(rendered).toContain(`\\"${config.name}\\":\\"`);
        expect(rendered).toContain(JSON.stringify({ Ref: id(stream) }));
      }
    }
  });

  it('reserves concurrency so ingestion always has room and bursts are capped', () => {
    const reserved = (entry: string) =>
      synth.json.Resources[id(fnById(entry).function)]!.Properties.ReservedConcurrentExecutions;
    expect(reserved('ingest')).toBe(50);
    expect(reserved('api')).toBe(50);
    expect(reserved('reset')).toBe(20);
    expect(reserved('sweeper')).toBe(1);
  });

  it('runs every function on nodejs22.x, arm64, traced, with Powertools settings', () => {
    for (const fn of metering().functions) {
      const props = synth.json.Resources[id(fn.function)]!.Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: id(fn.logGroup) } },
      });
      expect(props.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: fn.entry,
        POWERTOOLS_METRICS_NAMESPACE: 'UsageMetering',
      });
    }
  });

  it('keeps the function logs for a month', () => {
    for (const fn of metering().functions) {
      expect(synth.json.Resources[id(fn.logGroup)]!.Properties.RetentionInDays).toBe(30);
    }
  });

  it('sweeps on a one-minute rule that targets the sweeper', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: getAtt(id(fnById('sweeper').function)) })],
    });
  });
});

describe('environment', () => {
  const placeholder = (name: string, value: unknown): string => {
    if (typeof value === 'string') return value;
    if (name === ENV.destinationQueueUrl) return 'https://sqs.eu-west-1.amazonaws.com/1/q';
    return `resolved-${name}`;
  };
  const envOf = (entry: string) =>
    Object.fromEntries(
      Object.entries(environmentOf(synth.json, id(fnById(entry).function))).map(([k, v]) => [
        k,
        placeholder(k, v),
      ]),
    );

  it('sets only variables named in ENV (and the Node.js / Powertools ones)', () => {
    const allowed = new Set<string>([
      ...Object.values(ENV),
      'NODE_OPTIONS',
      'POWERTOOLS_SERVICE_NAME',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_LOG_LEVEL',
    ]);
    for (const fn of metering().functions) {
      for (const name of Object.keys(envOf(fn.entry))) expect(allowed).toContain(name);
    }
  });

  it('gives each Lambda what its runtime configuration requires', () => {
    expect(() => readApiConfig(envOf('api'))).not.toThrow();
    for (const entry of ['ingest', 'reset', 'sweeper']) {
      expect(() => readPeriodEndConfig(envOf(entry))).not.toThrow();
    }
    // Ingest and sweeper schedule the reset by ARN; the reset uses its invocation context.
    expect(envOf('ingest')[ENV.resetFunctionArn]).toBeDefined();
    expect(envOf('sweeper')[ENV.resetFunctionArn]).toBeDefined();
    expect(envOf('reset')[ENV.resetFunctionArn]).toBeUndefined();
  });

  it('passes the stream configuration as JSON the runtime parses to the same streams', () => {
    for (const fn of metering().functions) {
      const json = envOf(fn.entry)[ENV.streamsConfig];
      expect(parseStreamsConfig(json)).toEqual(parseStreamsConfig(DEFAULT_STREAMS));
    }
  });

  it('points at the table, the schedule group and the scheduler role', () => {
    const env = environmentOf(synth.json, id(fnById('ingest').function));
    expect(env[ENV.tableName]).toEqual({ Ref: id(metering().table.table) });
    expect(env[ENV.schedulerRoleArn]).toEqual(getAtt(id(metering().periodEnd.schedulerRole)));
    const group = synth.json.Resources[id(metering().periodEnd.scheduleGroup)]!;
    expect(env[ENV.scheduleGroupName]).toEqual(group.Properties.Name);
    expect(env[ENV.scheduleDeadLetterQueueArn]).toEqual(
      getAtt(id(metering().periodEnd.scheduleDeadLetters.queue)),
    );
    expect(env[ENV.destinationKind]).toBe('sqs');
    expect(env[ENV.destinationQueueUrl]).toEqual({
      Ref: id(metering().destination.queue as never),
    });
  });
});

describe('IAM', () => {
  const tableArn = () => getAtt(id(metering().table.table));
  const indexArn = (name: string) => ({ 'Fn::Join': ['', [tableArn(), `/index/${name}`]] });
  const streamArn = () => getAtt(id(metering().streams.streams[0]!.stream));
  const queueArn = (queue: unknown) => getAtt(id(queue as never));
  const KINESIS_READ = [
    'kinesis:DescribeStream',
    'kinesis:DescribeStreamSummary',
    'kinesis:GetRecords',
    'kinesis:GetShardIterator',
    'kinesis:ListShards',
    'kinesis:ListStreams',
    'kinesis:SubscribeToShard',
  ];
  const COMMON = [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'xray:PutTelemetryRecords',
    'xray:PutTraceSegments',
  ];
  const FLUSH = [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ];

  it('grants each function exactly the actions it uses', () => {
    const sorted = (entry: string) => [...grantsOf(entry).keys()].sort();
    expect(sorted('api')).toEqual(
      [
        ...COMMON,
        'dynamodb:BatchGetItem',
        ...FLUSH,
        'dynamodb:Query',
        'iam:PassRole',
        'kinesis:PutRecord',
        'kinesis:PutRecords',
        'scheduler:CreateSchedule',
        'scheduler:DeleteSchedule',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(sorted('ingest')).toEqual(
      [
        ...COMMON,
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        ...FLUSH,
        'dynamodb:Query',
        'iam:PassRole',
        ...KINESIS_READ,
        'scheduler:CreateSchedule',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(sorted('reset')).toEqual(
      [
        ...COMMON,
        'dynamodb:BatchWriteItem',
        ...FLUSH,
        'iam:PassRole',
        'scheduler:CreateSchedule',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(sorted('sweeper')).toEqual(
      [
        ...COMMON,
        'dynamodb:BatchWriteItem',
        ...FLUSH,
        'dynamodb:Query',
        'iam:PassRole',
        'scheduler:CreateSchedule',
        'sqs:SendMessage',
      ].sort(),
    );
  });

  it('scopes DynamoDB to the table and only the indexes each function queries', () => {
    for (const entry of ['api', 'ingest', 'reset', 'sweeper']) {
      for (const [action, resources] of grantsOf(entry)) {
        if (!action.startsWith('dynamodb:') || action === 'dynamodb:Query') continue;
        expect(resources).toEqual([tableArn()]);
      }
    }
    // The history is read through its indexes, a user's meters (usage, dry runs) by key: no
    // function may Scan.
    expect(grantsOf('api').get('dynamodb:Query')).toEqual([
      tableArn(),
      indexArn(TABLE_KEYS.listIndex),
      indexArn(TABLE_KEYS.historyByUserIndex),
      indexArn(TABLE_KEYS.historyByMeterIndex),
      indexArn(TABLE_KEYS.historyByTypeIndex),
    ]);
    for (const entry of ['api', 'ingest', 'reset', 'sweeper']) {
      expect(grantsOf(entry).has('dynamodb:Scan'), entry).toBe(false);
    }
    expect(grantsOf('ingest').get('dynamodb:Query')).toEqual([tableArn()]);
    expect(grantsOf('sweeper').get('dynamodb:Query')).toEqual([indexArn(TABLE_KEYS.dueIndex)]);
  });

  it('lets only the publishing functions (and the API, re-sending) send records, to the destination only', () => {
    const destination = queueArn(metering().destination.queue);
    for (const entry of ['ingest', 'reset', 'sweeper']) {
      expect(grantsOf(entry).get('sqs:SendMessage')).toContainEqual(destination);
    }
    // The API re-sends kept metered records, to the destination only.
    expect(grantsOf('api').get('sqs:SendMessage')).toEqual([destination]);
    expect(grantsOf('api').has('sns:Publish')).toBe(false);
    // Besides the destination: the reset's own dead letters; ingest sends nothing else.
    expect(grantsOf('ingest').get('sqs:SendMessage')).toEqual([destination]);
    expect(grantsOf('reset').get('sqs:SendMessage')).toEqual(
      expect.arrayContaining([queueArn(metering().periodEnd.resetFailures.queue)]),
    );
  });

  it('lets only the API put records on the streams (re-sending corrections, HTTP ingestion)', () => {
    expect(grantsOf('api').get('kinesis:PutRecord')).toEqual([streamArn()]);
    expect(grantsOf('api').get('kinesis:PutRecords')).toEqual([streamArn()]);
    for (const entry of ['ingest', 'reset', 'sweeper']) {
      expect(grantsOf(entry).has('kinesis:PutRecord')).toBe(false);
      expect(grantsOf(entry).has('kinesis:PutRecords')).toBe(false);
    }
    for (const action of KINESIS_READ) {
      expect(grantsOf('ingest').get(action)).toEqual([streamArn()]);
    }
  });

  it('limits schedule management to the group, and deletion to the API', () => {
    const group = synth.json.Resources[id(metering().periodEnd.scheduleGroup)]!;
    // Named after the stack's id, not its name: unique to this stack's lifetime.
    const stackUuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
    expect(group.Properties.Name).toEqual({ 'Fn::Join': ['', ['usage-metering-', stackUuid]] });
    for (const entry of ['api', 'ingest', 'reset', 'sweeper']) {
      const statement = statementWith(entry, 'scheduler:CreateSchedule');
      expect(statement.Resource).toEqual({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':scheduler:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':schedule/usage-metering-',
            stackUuid,
            '/*',
          ],
        ],
      });
    }
    expect(actionsOf(statementWith('api', 'scheduler:CreateSchedule'))).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
    ]);
    for (const entry of ['ingest', 'reset', 'sweeper']) {
      expect(grantsOf(entry).has('scheduler:DeleteSchedule')).toBe(false);
    }
  });

  it('lets the schedule creators pass the scheduler role, to EventBridge Scheduler only', () => {
    const role = getAtt(id(metering().periodEnd.schedulerRole));
    for (const entry of ['api', 'ingest', 'reset', 'sweeper']) {
      expect(statementWith(entry, 'iam:PassRole')).toEqual({
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: role,
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      });
    }
  });

  it('has a scheduler role that only the scheduler of this account and group can assume', () => {
    const periodEnd = metering().periodEnd;
    const role = synth.json.Resources[id(periodEnd.schedulerRole)]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: { 'aws:SourceArn': getAtt(id(periodEnd.scheduleGroup)) },
        },
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(roleStatements(synth.json, id(periodEnd.schedulerRole))).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: getAtt(id(periodEnd.reset.function)),
      },
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: queueArn(periodEnd.scheduleDeadLetters.queue),
      },
    ]);
  });

  it('allows no wildcard action in any identity policy, and `*` as action nowhere', () => {
    for (const { resource, statement } of allStatements(synth.json)) {
      for (const action of actionsOf(statement)) {
        expect(action, `${resource}`).not.toBe('*');
        const identityPolicy =
          synth.json.Resources[resource]!.Type === 'AWS::IAM::Policy' ||
          synth.json.Resources[resource]!.Type === 'AWS::IAM::Role';
        if (identityPolicy) expect(action, `${resource}`).not.toContain('*');
        // Elsewhere only the TLS-only denies and the key's account-root statement use one.
        else if (action.includes('*')) {
          const rootKeyStatement =
            synth.json.Resources[resource]!.Type === 'AWS::KMS::Key' && action === 'kms:*';
          expect(statement.Effect === 'Deny' || rootKeyStatement, `${resource} ${action}`).toBe(
            true,
          );
        }
      }
    }
  });

  it('uses a wildcard resource only for X-Ray and the schedules of the group', () => {
    for (const fn of metering().functions) {
      for (const statement of roleStatements(synth.json, id(fn.role))) {
        for (const resource of resourcesOf(statement)) {
          if (!JSON.stringify(resource).includes('*')) continue;
          const xray = resource === '*' && actionsOf(statement).every((a) => a.startsWith('xray:'));
          const schedules = actionsOf(statement).every((a) => a.startsWith('scheduler:'));
          expect(xray || schedules, `${fn.entry}: ${JSON.stringify(statement)}`).toBe(true);
        }
      }
    }
  });

  it('attaches no AWS managed policy to any role', () => {
    for (const roleId of idsOfType(synth.json, 'AWS::IAM::Role')) {
      expect(synth.json.Resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('ingest event source mapping', () => {
  it('reports partial failures, bisects, and retries without limit: nothing is given up', () => {
    const ingest = fnById('ingest');
    const mappings = Object.values(synth.template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(DEFAULT_STREAMS.length);
    expect(mappings[0]!.Properties).toEqual({
      FunctionName: { Ref: id(ingest.function) },
      EventSourceArn: getAtt(id(metering().streams.streams[0]!.stream)),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      // -1: unlimited. No retry limit and no record age may discard usage; no destination.
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: -1,
      ParallelizationFactor: 1,
    });
  });
});

describe('encryption', () => {
  it('encrypts the table with the AWS managed KMS key', () => {
    // SSEEnabled without a key: KMS encryption under aws/dynamodb.
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('encrypts every stream', () => {
    const streams = synth.template.findResources('AWS::Kinesis::Stream');
    for (const stream of Object.values(streams)) {
      expect(stream.Properties.StreamEncryption).toEqual({
        EncryptionType: 'KMS',
        KeyId: 'alias/aws/kinesis',
      });
    }
  });

  it('encrypts every queue and makes it refuse requests without TLS', () => {
    const queues = idsOfType(synth.json, 'AWS::SQS::Queue');
    for (const queueId of queues) {
      const p = synth.json.Resources[queueId]!.Properties;
      expect(p.SqsManagedSseEnabled === true || p.KmsMasterKeyId !== undefined, queueId).toBe(true);
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('keeps messages 14 days and gives the destination a dead-letter queue', () => {
    const destination = synth.json.Resources[id(metering().destination.queue as never)]!;
    expect(destination.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(destination.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: getAtt(id(metering().destination.deadLetterQueue!.queue)),
      maxReceiveCount: 5,
    });
  });

  it('encrypts every topic with a key', () => {
    for (const topic of Object.values(synth.template.findResources('AWS::SNS::Topic'))) {
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    }
  });
});

describe('API', () => {
  it('routes every route the API Lambda serves, each behind AWS IAM', () => {
    const routes = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([...ALL_ROUTE_KEYS].sort());
    const keys = routes.map((r) => r.Properties.RouteKey);
    // HEAD beside every GET, and ANY per path so a wrong method reaches the Lambda's 405 + Allow.
    expect(keys).toContain('HEAD /usage-metering/v1/meters/{id}');
    expect(keys).toContain('ANY /usage-metering/v1/meters/{id}');
    const paths = new Set(ALL_ROUTE_SPECS.map((r) => r.path));
    expect(keys.filter((k: string) => k.startsWith('ANY '))).toHaveLength(paths.size);
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('integrates the API Lambda with payload format 2.0', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: getAtt(id(fnById('api').function)),
    });
  });

  it('logs every request as JSON to a log group', () => {
    const stage = synth.template.findResources('AWS::ApiGatewayV2::Stage');
    const [props] = Object.values(stage).map((s) => s.Properties);
    expect(props.StageName).toBe('$default');
    expect(props.AutoDeploy).toBe(true);
    expect(props.AccessLogSettings.DestinationArn).toEqual(getAtt(id(metering().api.accessLogs)));
    const format = JSON.parse(props.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  it('throttles the stage by default: 100 requests per second, burst 200', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });

  it("requires no JWT scopes with IAM: the callers' policies decide", () => {
    for (const route of Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route'))) {
      expect(route.Properties.AuthorizationScopes).toBeUndefined();
    }
  });

  it('grants IAM callers the routes of their access level and the levels below', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new UsageMeteringStack(app, 'UsageMetering');
    const roles = ACCESS_LEVELS.map((level) => {
      const role = new iam.Role(stack, `${level}Caller`, {
        assumedBy: new iam.AccountRootPrincipal(),
      });
      stack.metering.api.grantInvoke(role, level);
      return role;
    });
    const json = Template.fromStack(stack).toJSON() as Synthesized['json'];
    // Each level's routes as `METHOD path`, from the ARNs `arn:...:apiId/*/METHOD/path`.
    const [read, write, admin] = roles.map((role) => {
      const statements = roleStatements(
        json,
        stack.getLogicalId(role.node.defaultChild as CfnElement),
      );
      expect(statements.map(actionsOf)).toEqual([['execute-api:Invoke']]);
      return statements.flatMap(resourcesOf).map((arn) => {
        const [, method, path] = JSON.stringify(arn).match(/\/\*\/([A-Z]+)(\/[^"]+)"/) ?? [];
        return `${method} ${path}`;
      });
    });
    const v1 = '/usage-metering/v1';
    // Every GET, and the dry run of a stream (a POST that writes nothing).
    const reads = ALL_ROUTE_SPECS.filter((route) => route.access === 'read');
    expect(reads.filter((route) => route.method !== 'GET').map((route) => route.path)).toEqual([
      '/streams/{name}/dry-run',
    ]);
    // HEAD beside each GET; never ANY (IAM checks the request's own method).
    const readKeys = ALL_GATEWAY_ROUTES.filter((r) => r.access === 'read' && r.method !== 'ANY');
    expect(readKeys.filter((r) => r.method === 'HEAD')).toHaveLength(
      reads.filter((r) => r.method === 'GET').length,
    );
    expect(read).toEqual(
      readKeys.map((route) => `${route.method} ${v1}${route.path.replace(/\{\w+\}/g, '*')}`),
    );
    expect([...(write ?? [])].sort()).toEqual(
      [
        ...(read ?? []),
        `POST ${v1}/meter-types`,
        `PATCH ${v1}/meter-types/*`,
        `POST ${v1}/meters`,
        `PATCH ${v1}/meters/*`,
        `POST ${v1}/usage-records`,
        `POST ${v1}/streams/*/records`,
      ].sort(),
    );
    expect(admin).toHaveLength(
      ALL_ROUTE_SPECS.length + ALL_ROUTE_SPECS.filter((r) => r.method === 'GET').length,
    );
    expect(admin).toContain(`POST ${v1}/corrections/*/reprocess`);
    expect(admin).toContain(`DELETE ${v1}/meters/*`);
  });
});

describe('alarms', () => {
  const alarms = () => Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'));
  const topicRef = () => ({ Ref: id(metering().observability.alarmTopic as never) });

  it('alarms when ingest falls behind the streams', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: id(fnById('ingest').function) } }],
      Threshold: 300_000,
    });
  });

  it('alarms on errors and throttles of every function', () => {
    for (const fn of metering().functions) {
      for (const metric of ['Errors', 'Throttles']) {
        synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: id(fn.function) } }],
        });
      }
    }
  });

  it('alarms when any dead-letter queue holds a message', () => {
    const dlqs = [
      metering().periodEnd.scheduleDeadLetters,
      metering().periodEnd.resetFailures,
      metering().destination.deadLetterQueue!,
    ];
    for (const dlq of dlqs) {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(id(dlq.queue), 'QueueName') }],
        Threshold: 1,
      });
    }
  });

  it('alarms on records that failed, per stream, from the RecordsFailed metric', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'UsageMetering',
      MetricName: 'RecordsFailed',
      Dimensions: Match.arrayEquals([
        { Name: 'service', Value: 'ingest' },
        { Name: 'stream', Value: DEFAULT_STREAMS[0]!.name },
      ]),
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on records put into data correction, whatever the reason', () => {
    const corrected = alarms().filter((a) =>
      JSON.stringify(a.Properties.Metrics ?? []).includes('RecordsCorrected'),
    );
    expect(corrected).toHaveLength(DEFAULT_STREAMS.length);
    const metrics: { Id: string; Expression?: string; MetricStat?: any }[] =
      corrected[0]!.Properties.Metrics;
    const reasons = metrics.flatMap((m) =>
      (m.MetricStat?.Metric.Dimensions ?? [])
        .filter((d: { Name: string }) => d.Name === 'reason')
        .map((d: { Value: string }) => d.Value),
    );
    expect(reasons.sort()).toEqual([...CORRECTION_REASONS].sort());
    const expression = metrics.find((m) => m.Expression)?.Expression ?? '';
    for (const m of metrics.filter((m) => m.MetricStat)) expect(expression).toContain(m.Id);
    expect(corrected[0]!.Properties.Threshold).toBe(1);
  });

  it('pages when a stream is not read at all: missing data breaches', () => {
    const stalled = alarms().filter(
      (a) => a.Properties.MetricName === 'GetRecords.IteratorAgeMilliseconds',
    );
    expect(stalled).toHaveLength(DEFAULT_STREAMS.length);
    expect(stalled[0]!.Properties).toMatchObject({
      Namespace: 'AWS/Kinesis',
      Dimensions: [
        { Name: 'StreamName', Value: { Ref: id(metering().streams.streams[0]!.stream) } },
      ],
      Statistic: 'Maximum',
      Threshold: 300_000,
      TreatMissingData: 'breaching',
    });
    // Every other alarm stays quiet without data (no traffic is not a fault).
    const others = alarms().filter((a) => !stalled.includes(a));
    for (const alarm of others) expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
  });

  it('alarms when producers are throttled on a stream', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Kinesis',
      MetricName: 'WriteProvisionedThroughputExceeded',
      Dimensions: [
        { Name: 'StreamName', Value: { Ref: id(metering().streams.streams[0]!.stream) } },
      ],
      Threshold: 1,
    });
  });

  it('alarms on errors the API caught, failed prompt sends, resets and sweeps', () => {
    for (const [service, metricName] of [
      ['api', 'ServerErrors'],
      ['ingest', 'PromptSendFailures'],
      ['reset', 'FlushFailures'],
      ['sweeper', 'SweepFailed'],
    ]) {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'UsageMetering',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: service }],
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
  });

  it('alarms when records wait on the destination queue for an hour', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: getAtt(id(metering().destination.queue as never), 'QueueName'),
        },
      ],
      Statistic: 'Maximum',
      Threshold: 3600,
    });
  });

  it('alarms on DynamoDB throttling of the table', () => {
    const throttles = alarms().filter((a) =>
      JSON.stringify(a.Properties.Metrics ?? []).includes('ThrottledRequests'),
    );
    expect(throttles).toHaveLength(1);
    expect(JSON.stringify(throttles[0]!.Properties.Metrics)).toContain(
      JSON.stringify({ Ref: id(metering().table.table) }),
    );
  });

  it('alarms on period ends the scheduler fails to deliver', () => {
    for (const metric of [
      'InvocationDroppedCount',
      'InvocationsFailedToBeSentToDeadLetterCount',
      'TargetErrorCount',
    ]) {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Scheduler',
        MetricName: metric,
        Dimensions: [
          {
            Name: 'ScheduleGroup',
            Value: synth.json.Resources[id(metering().periodEnd.scheduleGroup)]!.Properties.Name,
          },
        ],
      });
    }
  });

  it('sends every alarm to the alarm topic, which is encrypted with a rotated key', () => {
    for (const alarm of alarms()) {
      expect(alarm.Properties.AlarmActions).toContainEqual(topicRef());
    }
    const topic = synth.json.Resources[topicRef().Ref]!;
    const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const key = synth.json.Resources[keyId]!;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
    );
  });
});
