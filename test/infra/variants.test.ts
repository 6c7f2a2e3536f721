/** The construct's options: SNS / FIFO / existing destinations, JWT, shards, keys, teardown. */
import { App, type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../shared/config/env-names.js';
import { ALL_ROUTE_KEYS, ALL_ROUTE_SPECS, routeKeyOf } from '../../shared/http/route-specs.js';
import {
  actionsOf,
  environmentOf,
  resourcesOf,
  roleStatements,
  type Synthesized,
  synthStack,
} from './support.js';

/** Each API route's `AuthorizationScopes`, by route key. */
function scopesByRouteKey(synth: Synthesized): Record<string, string[]> {
  return Object.fromEntries(
    Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route')).map((route) => [
      route.Properties.RouteKey,
      route.Properties.AuthorizationScopes,
    ]),
  );
}

const idIn = (synth: Synthesized) => (construct: { node: { defaultChild?: unknown } }) =>
  synth.stack.getLogicalId(construct.node.defaultChild as CfnElement);

describe('SNS FIFO destination, JWT authorizer, shards and a customer managed key', () => {
  let synth: Synthesized;
  let id: ReturnType<typeof idIn>;
  beforeAll(() => {
    synth = synthStack({
      customerManagedKey: true,
      metering: {
        destination: { kind: 'sns', fifo: true },
        apiAuthorization: {
          kind: 'jwt',
          issuer: 'https://auth.example.com/',
          audience: ['usage-metering'],
          scopes: { read: 'metering/read', write: 'metering/write', admin: 'metering/admin' },
        },
        apiThrottle: { rateLimit: 25, burstLimit: 50 },
        kinesisCapacity: { mode: 'provisioned', shardCount: 4 },
        ingest: { batchSize: 1000, maxBatchingWindow: Duration.seconds(10) },
        retention: { streams: Duration.days(7) },
      },
    });
    id = idIn(synth);
  });

  it('creates an encrypted FIFO topic and points the publishers at it', () => {
    const metering = synth.stack.metering;
    const topic = synth.json.Resources[id(metering.destination.topic as never)]!;
    expect(topic.Properties).toMatchObject({
      FifoTopic: true,
      ContentBasedDeduplication: false,
    });
    expect(topic.Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [expect.stringContaining('DataKey'), 'Arn'],
    });
    // Schedule and reset dead letters: an SNS topic has no queue of its own.
    synth.template.resourceCountIs('AWS::SQS::Queue', 2);
    for (const fn of [
      metering.ingestion.ingest,
      metering.periodEnd.reset,
      metering.periodEnd.sweeper,
    ]) {
      const env = environmentOf(synth.json, id(fn.function));
      expect(env[ENV.destinationKind]).toBe('sns');
      expect(env[ENV.destinationArn]).toEqual({ Ref: id(metering.destination.topic as never) });
      const publish = roleStatements(synth.json, id(fn.role)).filter((s) =>
        actionsOf(s).includes('sns:Publish'),
      );
      expect(publish).toEqual([
        {
          Effect: 'Allow',
          Action: 'sns:Publish',
          Resource: { Ref: id(metering.destination.topic as never) },
        },
      ]);
      const keyUse = roleStatements(synth.json, id(fn.role)).filter((s) =>
        actionsOf(s).includes('kms:GenerateDataKey'),
      );
      expect(keyUse.length).toBeGreaterThan(0);
    }
  });

  it('encrypts the table and the streams with the customer managed key', () => {
    const key = synth.stack.node.findChild('DataKey') as kms.Key;
    const keyArn = { 'Fn::GetAtt': [id(key), 'Arn'] };
    synth.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    synth.template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: keyArn },
      ShardCount: 4,
      RetentionPeriodHours: 168,
    });
    // The ingest Lambda decrypts what it reads; the API encrypts what it re-sends.
    const ingest = synth.stack.metering.ingestion.ingest;
    const decrypt = roleStatements(synth.json, id(ingest.role)).filter((s) =>
      actionsOf(s).includes('kms:Decrypt'),
    );
    expect(decrypt.flatMap(resourcesOf)).toContainEqual(keyArn);
  });

  it('puts the dead-letter queues and every log group under the customer managed key', () => {
    const key = synth.stack.node.findChild('DataKey') as kms.Key;
    const keyArn = { 'Fn::GetAtt': [id(key), 'Arn'] };
    const queues = Object.values(synth.template.findResources('AWS::SQS::Queue'));
    expect(queues.length).toBeGreaterThan(0);
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn);
    const logGroups = Object.values(synth.template.findResources('AWS::Logs::LogGroup'));
    // Four function log groups and the API's access logs.
    expect(logGroups).toHaveLength(5);
    for (const group of logGroups) expect(group.Properties.KmsKeyId).toEqual(keyArn);
    // CloudWatch Logs may use the key, for log groups of this account and Region only.
    const policy = synth.json.Resources[id(key)]!.Properties.KeyPolicy.Statement as {
      Principal?: { Service?: unknown };
      Condition?: Record<string, Record<string, unknown>>;
    }[];
    const logs = policy.find((s) => JSON.stringify(s.Principal ?? {}).includes('logs.'));
    expect(JSON.stringify(logs?.Condition?.ArnLike)).toContain(
      'kms:EncryptionContext:aws:logs:arn',
    );
  });

  it('lets every function and the scheduler use the key only through the service that needs it', () => {
    const roles = [
      ...synth.stack.metering.functions.map((fn) => fn.role),
      synth.stack.metering.periodEnd.schedulerRole,
    ];
    let kmsStatements = 0;
    for (const role of roles) {
      for (const statement of roleStatements(synth.json, id(role))) {
        if (!actionsOf(statement).some((action) => action.startsWith('kms:'))) continue;
        kmsStatements++;
        const via = JSON.stringify(statement.Condition?.StringEquals?.['kms:ViaService']);
        expect(via, JSON.stringify(statement)).toMatch(/"(dynamodb|kinesis|sqs|sns)\./);
      }
    }
    // Table (4 functions), streams (ingest, api), destination topic (3), dead letters (reset,
    // scheduler): the count proves the check ran over the real grants.
    expect(kmsStatements).toBeGreaterThanOrEqual(11);
  });

  it('uses the JWT authorizer on every route, with the scope names given', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://auth.example.com/', Audience: ['usage-metering'] },
      IdentitySource: ['$request.header.Authorization'],
    });
    const scopes = scopesByRouteKey(synth);
    expect(Object.keys(scopes).sort()).toEqual([...ALL_ROUTE_KEYS].sort());
    const byLevel = {
      read: ['metering/read', 'metering/write', 'metering/admin'],
      write: ['metering/write', 'metering/admin'],
      admin: ['metering/admin'],
    };
    for (const route of ALL_ROUTE_SPECS) {
      expect(scopes[routeKeyOf(route)], routeKeyOf(route)).toEqual(byLevel[route.access]);
    }
    expect(scopes['POST /usage-metering/v1/corrections/{id}/reprocess']).toEqual([
      'metering/admin',
    ]);
  });

  it('throttles the stage with the limits given', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 },
    });
  });

  it('uses the batch settings given', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 10,
    });
  });
});

describe('JWT authorizer with the default scope names, and a rate limit alone', () => {
  let synth: Synthesized;
  let scopes: Record<string, string[]>;
  beforeAll(() => {
    synth = synthStack({
      metering: {
        apiAuthorization: { kind: 'jwt', issuer: 'https://auth.example.com/', audience: ['a'] },
        apiThrottle: { rateLimit: 10 },
      },
    });
    scopes = scopesByRouteKey(synth);
  });
  const [read, write, admin] = ['read', 'write', 'admin'].map((l) => `usage-metering/${l}`);

  it('lets read, write and admin tokens call every GET route', () => {
    const gets = ALL_ROUTE_SPECS.filter((route) => route.method === 'GET');
    expect(gets.length).toBeGreaterThan(5);
    for (const route of gets) expect(scopes[routeKeyOf(route)]).toEqual([read, write, admin]);
  });

  it('lets write and admin tokens create and change', () => {
    for (const key of [
      'POST /usage-metering/v1/meter-types',
      'PATCH /usage-metering/v1/meter-types/{id}',
      'POST /usage-metering/v1/meters',
      'PATCH /usage-metering/v1/meters/{id}',
    ]) {
      expect(scopes[key], key).toEqual([write, admin]);
    }
  });

  it('lets only admin tokens delete and re-send data corrections', () => {
    const deletes = ALL_ROUTE_SPECS.filter((route) => route.method === 'DELETE');
    expect(deletes.map(routeKeyOf)).toEqual([
      'DELETE /usage-metering/v1/meter-types/{id}',
      'DELETE /usage-metering/v1/meters/{id}',
      'DELETE /usage-metering/v1/corrections/{id}',
    ]);
    for (const route of deletes) expect(scopes[routeKeyOf(route)]).toEqual([admin]);
    expect(scopes['POST /usage-metering/v1/corrections/{id}/reprocess']).toEqual([admin]);
    expect(scopes['POST /usage-metering/v1/corrections/reprocess']).toEqual([admin]);
    expect(scopes['POST /usage-metering/v1/corrections/delete']).toEqual([admin]);
  });

  it('throttles at the rate given, with the default burst', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 200 },
    });
  });

  it('refuses scope names that are not OAuth scopes or that two levels share', () => {
    const jwt = (scopes: Record<string, string>) => () =>
      synthStack({
        metering: {
          apiAuthorization: {
            kind: 'jwt',
            issuer: 'https://i.example.com/',
            audience: ['a'],
            scopes,
          },
        },
      });
    expect(jwt({ admin: 'usage-metering/read' })).toThrow(/three different names/);
    expect(jwt({ write: 'metering write' })).toThrow(
      /write 'metering write' is not an OAuth scope/,
    );
  });

  it('refuses throttle limits that are not positive, or a burst that is not whole', () => {
    for (const apiThrottle of [{ rateLimit: 0 }, { burstLimit: 0 }, { burstLimit: 1.5 }]) {
      expect(() => synthStack({ metering: { apiThrottle } }), JSON.stringify(apiThrottle)).toThrow(
        /throttle: rateLimit must be above 0/,
      );
    }
  });
});

describe('SQS FIFO destination', () => {
  it('creates FIFO queues that de-duplicate by the record id per meter', () => {
    const synth = synthStack({ metering: { destination: { kind: 'sqs', fifo: true } } });
    const queue = synth.stack.metering.destination.queue as sqs.Queue;
    const props = synth.json.Resources[idIn(synth)(queue)]!.Properties;
    expect(props).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      SqsManagedSseEnabled: true,
    });
    const dlq = synth.stack.metering.destination.deadLetterQueue!.queue;
    expect(synth.json.Resources[idIn(synth)(dlq)]!.Properties.FifoQueue).toBe(true);
  });
});

describe('existing destination', () => {
  it('sends to a queue passed in, and creates none', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const shared = new Stack(app, 'Shared');
    const queue = sqs.Queue.fromQueueArn(
      shared,
      'Billing',
      'arn:aws:sqs:eu-west-1:123456789012:billing-records',
    );
    const synth = synthStack({ metering: { destination: { kind: 'sqs', queue } } });
    synth.template.resourceCountIs('AWS::SQS::Queue', 2);
    const reset = synth.stack.metering.periodEnd.reset;
    const env = environmentOf(synth.json, idIn(synth)(reset.function));
    // The URL of an imported queue is built from its ARN (the URL suffix is a token).
    expect(env[ENV.destinationQueueUrl]).toEqual({
      'Fn::Join': [
        '',
        ['https://sqs.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/123456789012/billing-records'],
      ],
    });
    const send = roleStatements(synth.json, idIn(synth)(reset.role)).filter((s) =>
      actionsOf(s).includes('sqs:SendMessage'),
    );
    expect(send.flatMap(resourcesOf)).toContain(
      'arn:aws:sqs:eu-west-1:123456789012:billing-records',
    );
  });

  it('publishes to a topic passed in', () => {
    const app = new App();
    const shared = new Stack(app, 'Shared');
    const topic = sns.Topic.fromTopicArn(
      shared,
      'Billing',
      'arn:aws:sns:eu-west-1:123456789012:billing-records',
    );
    const synth = synthStack({ metering: { destination: { kind: 'sns', topic } } });
    synth.template.resourceCountIs('AWS::SNS::Topic', 1); // the alarm topic only
    const env = environmentOf(
      synth.json,
      idIn(synth)(synth.stack.metering.ingestion.ingest.function),
    );
    expect(env[ENV.destinationArn]).toBe('arn:aws:sns:eu-west-1:123456789012:billing-records');
  });
});

describe('teardown and alarm routing', () => {
  it('deletes everything on stack deletion when asked to, without deletion protection', () => {
    const synth = synthStack({ metering: { removalPolicy: RemovalPolicy.DESTROY } });
    const table = Object.values(synth.template.findResources('AWS::DynamoDB::Table'))[0]!;
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    for (const type of ['AWS::Kinesis::Stream', 'AWS::Logs::LogGroup', 'AWS::SQS::Queue']) {
      for (const resource of Object.values(synth.template.findResources(type))) {
        expect(resource.DeletionPolicy, type).toBe('Delete');
      }
    }
  });

  it('sends alarms to a topic passed in, with e-mail subscriptions on a new one', () => {
    const withEmail = synthStack({ metering: { alarms: { emailAddresses: ['ops@example.com'] } } });
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });

    const app = new App();
    const shared = new Stack(app, 'Shared');
    const topic = sns.Topic.fromTopicArn(shared, 'Ops', 'arn:aws:sns:eu-west-1:123456789012:ops');
    const synth = synthStack({ metering: { alarms: { topic } } });
    synth.template.resourceCountIs('AWS::SNS::Topic', 0);
    synth.template.resourceCountIs('AWS::KMS::Key', 0);
    for (const alarm of Object.values(synth.template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:ops']);
    }
  });
});
