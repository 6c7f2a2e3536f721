/** UsageMeteringStack: one UsageMetering, optionally with its own customer managed key. */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { UsageMetering, type UsageMeteringProps } from './usage-metering.js';

export interface UsageMeteringStackProps extends StackProps {
  /** Settings of the service. */
  readonly metering?: UsageMeteringProps;
  /**
   * Create a customer managed KMS key (with rotation) for all data at rest, instead of AWS
   * managed keys. Ignored when `metering.encryptionKey` is given. @default false
   */
  readonly customerManagedKey?: boolean;
}

/** The usage-metering service in a stack of its own, with its endpoints as outputs. */
export class UsageMeteringStack extends Stack {
  readonly metering: UsageMetering;

  constructor(scope: Construct, id: string, props: UsageMeteringStackProps = {}) {
    super(scope, id, {
      description:
        'Serverless usage metering: meter types, meters, Kinesis ingestion, period records',
      ...props,
    });
    const meteringProps = props.metering ?? {};
    const encryptionKey =
      meteringProps.encryptionKey ??
      (props.customerManagedKey
        ? new kms.Key(this, 'DataKey', {
            description: 'Encrypts the usage-metering table, streams, queues and topics',
            enableKeyRotation: true,
            removalPolicy: meteringProps.removalPolicy ?? RemovalPolicy.RETAIN,
          })
        : undefined);
    this.metering = new UsageMetering(this, 'UsageMetering', { ...meteringProps, encryptionKey });

    const { metering } = this;
    new CfnOutput(this, 'TableName', { value: metering.table.tableName });
    new CfnOutput(this, 'StreamNames', {
      value: metering.streams.streams
        .map(({ config, stream }) => `${config.name}=${stream.streamName}`)
        .join(','),
      description:
        'Put usage records on these Kinesis streams: configured-name=kinesis-stream-name pairs',
    });
    if (metering.destination.queue) {
      new CfnOutput(this, 'DestinationQueueUrl', {
        value: metering.destination.queue.queueUrl,
        description: 'Metered records arrive on this queue',
      });
    }
    if (metering.destination.topic) {
      new CfnOutput(this, 'DestinationTopicArn', {
        value: metering.destination.topic.topicArn,
        description: 'Metered records are published to this topic',
      });
    }
    this.#signInOutputs();
    new CfnOutput(this, 'AlarmTopicArn', { value: metering.observability.alarmTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: metering.observability.dashboard.dashboardName });
  }

  // Where people and programs get tokens, and the console's address.
  #signInOutputs(): void {
    const { signIn, console: hosting } = this.metering;
    if (!signIn) return;
    new CfnOutput(this, 'UserPoolId', {
      value: signIn.userPool.userPoolId,
      description: 'Cognito user pool of the API: people (console) and machine clients',
    });
    new CfnOutput(this, 'TokenEndpoint', {
      value: signIn.tokenEndpoint,
      description: 'OAuth2 token endpoint (client credentials for programs)',
    });
    new CfnOutput(this, 'MachineClientId', {
      value: signIn.machineClient.userPoolClientId,
      description:
        'Client-credentials app client; its secret: aws cognito-idp describe-user-pool-client',
    });
    if (!hosting) return;
    new CfnOutput(this, 'ConsoleUrl', { value: `${hosting.url}/` });
    new CfnOutput(this, 'ConsoleClientId', {
      value: signIn.consoleClient?.userPoolClientId ?? '',
      description: 'Public app client of the console (authorization code with PKCE)',
    });
    new CfnOutput(this, 'ConsoleConfigUrl', {
      value: `${hosting.url}/config.json`,
      description: 'What the console reads to find the API and its sign-in (docs/console.md)',
    });
  }
}
