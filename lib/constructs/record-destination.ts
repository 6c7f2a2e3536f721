/**
 * RecordDestination: where metered records go, an SQS queue or an SNS topic, standard or FIFO,
 * created here (encrypted, TLS-only, with a dead-letter queue) or passed in.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config/env-names.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { viaService } from './key-grants.js';

/** An SQS queue as the destination. */
export interface SqsDestinationOptions {
  readonly kind: 'sqs';
  /** A FIFO queue: `recordId` becomes the deduplication id. Ignored with `queue`. @default false */
  readonly fifo?: boolean;
  /** An existing queue to send to; default: a new queue. */
  readonly queue?: sqs.IQueue;
  /** Receives before a message of the new queue moves to its dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
}

/** An SNS topic as the destination; subscribers filter on recordType, meterTypeId, userId. */
export interface SnsDestinationOptions {
  readonly kind: 'sns';
  /** A FIFO topic: `recordId` becomes the deduplication id. Ignored with `topic`. @default false */
  readonly fifo?: boolean;
  /** An existing topic to publish to; default: a new topic. */
  readonly topic?: sns.ITopic;
}

export type DestinationOptions = SqsDestinationOptions | SnsDestinationOptions;

export interface RecordDestinationProps {
  /** @default a new standard SQS queue */
  readonly destination?: DestinationOptions;
  /** Customer managed key for a new queue or topic; default: SSE-SQS or `aws/sns`. */
  readonly encryptionKey?: kms.IKey;
  /** Retention of a new queue and its dead-letter queue. @default 14 days */
  readonly retentionPeriod?: Duration;
  /** Of a new queue and its dead-letter queue. @default RemovalPolicy.DESTROY (the SQS default) */
  readonly removalPolicy?: RemovalPolicy;
}

/** The destination of metered records and what the publishing Lambdas need to reach it. */
export class RecordDestination extends Construct {
  readonly kind: 'sqs' | 'sns';
  readonly queue?: sqs.IQueue;
  readonly topic?: sns.ITopic;
  /** The dead-letter queue of a queue created here. */
  readonly deadLetterQueue?: DeadLetterQueue;
  /** DESTINATION_KIND and DESTINATION_QUEUE_URL or DESTINATION_ARN. */
  readonly environment: Readonly<Record<string, string>>;
  readonly #customerKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: RecordDestinationProps = {}) {
    super(scope, id);
    const options: DestinationOptions = props.destination ?? { kind: 'sqs' };
    this.kind = options.kind;
    if (options.kind === 'sqs') {
      if (options.queue) {
        this.queue = options.queue;
        this.#customerKey = options.queue.encryptionMasterKey;
      } else {
        this.deadLetterQueue = this.#createDeadLetters(options, props);
        this.queue = this.#createQueue(options, props, this.deadLetterQueue);
        this.#customerKey = props.encryptionKey;
      }
      this.environment = {
        [ENV.destinationKind]: 'sqs',
        [ENV.destinationQueueUrl]: this.queue.queueUrl,
      };
    } else {
      this.topic = options.topic ?? this.#createTopic(options, props);
      this.#customerKey = options.topic ? options.topic.masterKey : props.encryptionKey;
      this.environment = {
        [ENV.destinationKind]: 'sns',
        [ENV.destinationArn]: this.topic.topicArn,
      };
    }
  }

  // The new queue's dead-letter queue: of the same kind (FIFO or not), with the same key.
  #createDeadLetters(
    options: SqsDestinationOptions,
    props: RecordDestinationProps,
  ): DeadLetterQueue {
    return new DeadLetterQueue(this, 'DeadLetters', {
      purpose: 'metered records the consumers of the destination queue could not process',
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
      fifo: options.fifo ?? false,
      removalPolicy: props.removalPolicy,
      encryptionKey: props.encryptionKey,
    });
  }

  #createQueue(
    options: SqsDestinationOptions,
    props: RecordDestinationProps,
    deadLetters: DeadLetterQueue,
  ): sqs.Queue {
    const fifo = options.fifo ?? false;
    return new sqs.Queue(this, 'Queue', {
      ...(props.encryptionKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
      deadLetterQueue: { queue: deadLetters.queue, maxReceiveCount: options.maxReceiveCount ?? 5 },
      ...(fifo
        ? {
            fifo: true,
            // The publisher sets MessageDeduplicationId = recordId and groups by meter.
            contentBasedDeduplication: false,
            deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
            fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
          }
        : {}),
    });
  }

  #createTopic(options: SnsDestinationOptions, props: RecordDestinationProps): sns.Topic {
    return new sns.Topic(this, 'Topic', {
      masterKey:
        props.encryptionKey ?? kms.Alias.fromAliasName(this, 'AwsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
      ...(options.fifo
        ? {
            fifo: true,
            contentBasedDeduplication: false,
            fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP,
          }
        : {}),
    });
  }

  /** What a publisher needs: sqs:SendMessage or sns:Publish, and the customer key if any. */
  grantPublish(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    if (this.queue) {
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
      );
    }
    if (this.topic) {
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
      );
    }
    if (this.#customerKey) {
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [this.#customerKey.keyArn],
          conditions: viaService(this, this.kind),
        }),
      );
    }
  }
}
