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
    new CfnOutput(this, 'AlarmTopicArn', { value: metering.observability.alarmTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: metering.observability.dashboard.dashboardName });
  }
}
