/** The construct's options: SNS / FIFO / existing destinations, JWT, shards, keys, teardown. */
import { App, type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../shared/config/env-names.js';
import {
  actionsOf,
  environmentOf,
  resourcesOf,
  roleStatements,
  type Synthesized,
  synthStack,
} from './support.js';

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
          scopes: ['metering/write'],
        },
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
    // Ingest failures, schedule and reset dead letters: an SNS topic has no queue of its own.
    synth.template.resourceCountIs('AWS::SQS::Queue', 3);
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

  it('uses the JWT authorizer, with scopes, on every route', () => {
    synth.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://auth.example.com/', Audience: ['usage-metering'] },
      IdentitySource: ['$request.header.Authorization'],
    });
    for (const route of Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route'))) {
      expect(route.Properties.AuthorizationType).toBe('JWT');
      expect(route.Properties.AuthorizationScopes).toEqual(['metering/write']);
    }
  });

  it('uses the batch settings given', () => {
    synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 10,
    });
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
    synth.template.resourceCountIs('AWS::SQS::Queue', 3);
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
