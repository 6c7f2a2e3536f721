/** DeadLetterQueue: where failed work waits, encrypted, TLS-only, kept as long as SQS allows. */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { viaService } from './key-grants.js';
import { acknowledgeRule } from './nag.js';

export interface DeadLetterQueueProps {
  /** What ends up here, for the queue's description in alarms and in the nag acknowledgement. */
  readonly purpose: string;
  /** @default 14 days, the SQS maximum */
  readonly retentionPeriod?: Duration;
  /** A FIFO queue (the dead-letter queue of a FIFO queue must be FIFO too). @default false */
  readonly fifo?: boolean;
  /** @default RemovalPolicy.DESTROY (the SQS default) */
  readonly removalPolicy?: RemovalPolicy;
  /** Customer managed key; default: SSE-SQS. */
  readonly encryptionKey?: kms.IKey;
}

/** An SQS queue used only as a dead-letter queue or failure destination. */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly purpose: string;
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.purpose = props.purpose;
    this.encryptionKey = props.encryptionKey;
    this.queue = new sqs.Queue(this, 'Queue', {
      ...(props.encryptionKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
      ...(props.fifo ? { fifo: true } : {}),
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
    });
    const reason = `This queue is itself a dead-letter queue (${props.purpose}); a DLQ behind it would only move the messages, and its depth alarm is the signal.`;
    acknowledgeRule(this.queue, 'SQS3', reason);
    acknowledgeRule(this.queue, 'SQSRedrivePolicy', reason, 'Serverless');
  }

  /** What a sender needs of a customer managed key, through SQS only (nothing without one). */
  grantKeyForSending(grantee: iam.IGrantable): void {
    if (!this.encryptionKey) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: viaService(this, 'sqs'),
      }),
    );
  }
}
