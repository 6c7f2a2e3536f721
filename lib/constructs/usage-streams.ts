/**
 * UsageStreams: one Kinesis data stream per configured stream (meter processor). The stream
 * configuration is validated here, at synth time, with the same zod schema the Lambdas use.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  DEFAULT_STREAMS,
  parseStreamsConfig,
  type StreamsConfigInput,
} from '../../shared/config/streams.js';
import type { StreamConfig } from '../../shared/domain/schemas.js';
import { acknowledgeRule } from './nag.js';

/** How Kinesis capacity is bought: on demand (default), or a fixed number of shards. */
export type KinesisCapacity =
  | { readonly mode: 'on-demand' }
  /** `shardCount` applies to every stream; without it, each stream's own `shardCount`. */
  | { readonly mode: 'provisioned'; readonly shardCount?: number };

export interface UsageStreamsProps {
  /** The stream configuration, as an object or its JSON text. @default DEFAULT_STREAMS */
  readonly streams?: StreamsConfigInput | string;
  /** @default on demand */
  readonly capacity?: KinesisCapacity;
  /** How long records stay on a stream (24 hours to 365 days). @default 24 hours */
  readonly retentionPeriod?: Duration;
  /** Customer managed key; default: the AWS managed key `aws/kinesis`. */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Raised at synth time when the stream configuration is invalid. */
export class InvalidStreamsPropError extends Error {
  override readonly name = 'InvalidStreamsPropError';
}

/** One configured stream and its Kinesis data stream. */
export interface UsageStream {
  readonly config: StreamConfig;
  readonly stream: kinesis.Stream;
}

/** The Kinesis data streams, named as configured (the ingest Lambda finds its config by name). */
export class UsageStreams extends Construct {
  /** The validated configuration, defaults applied. */
  readonly config: readonly StreamConfig[];
  /** The configuration as compact JSON, for the STREAMS_CONFIG variable. */
  readonly configJson: string;
  readonly streams: readonly UsageStream[];
  readonly retentionPeriod: Duration;
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: UsageStreamsProps = {}) {
    super(scope, id);
    const input = props.streams ?? DEFAULT_STREAMS;
    try {
      this.config = parseStreamsConfig(input);
    } catch (error) {
      throw new InvalidStreamsPropError(
        `UsageMetering: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    // What the user wrote, compact: the Lambdas apply the same defaults when they parse it.
    this.configJson = JSON.stringify(typeof input === 'string' ? JSON.parse(input) : input);
    this.retentionPeriod = props.retentionPeriod ?? Duration.hours(24);
    this.encryptionKey = props.encryptionKey;
    const capacity = props.capacity ?? { mode: 'on-demand' };

    this.streams = this.config.map((config) => {
      const stream = new kinesis.Stream(this, `Stream-${config.name}`, {
        streamName: config.name,
        retentionPeriod: this.retentionPeriod,
        ...(capacity.mode === 'on-demand'
          ? { streamMode: kinesis.StreamMode.ON_DEMAND }
          : {
              streamMode: kinesis.StreamMode.PROVISIONED,
              shardCount: capacity.shardCount ?? config.shardCount,
            }),
        ...(props.encryptionKey
          ? { encryption: kinesis.StreamEncryption.KMS, encryptionKey: props.encryptionKey }
          : { encryption: kinesis.StreamEncryption.MANAGED }),
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      if (props.encryptionKey) {
        acknowledgeRule(
          stream,
          'KDS3',
          'The deployer chose a customer managed key (UsageMetering encryptionKey) for all data at rest; aws/kinesis is the default otherwise.',
        );
      }
      return { config, stream };
    });
  }

  /** `kinesis:PutRecord` on every stream (re-sending data corrections), and the key if any. */
  grantPutRecord(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kinesis:PutRecord'],
        resources: this.streams.map(({ stream }) => stream.streamArn),
      }),
    );
    if (this.encryptionKey) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
        }),
      );
    }
  }
}
