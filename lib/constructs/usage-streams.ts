/**
 * UsageStreams: one Kinesis data stream per configured stream (meter processor). The stream
 * configuration is validated here, at synth time, with the same zod schema the Lambdas use.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config/env-names.js';
import {
  DEFAULT_STREAMS,
  parseStreamsConfig,
  type StreamsConfigInput,
} from '../../shared/config/streams.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import { viaService } from './key-grants.js';
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
  /**
   * How long records stay on a stream (24 hours to 365 days): the longest outage ingestion can
   * wait out without losing usage, since a failing shard waits. @default 7 days
   */
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

/**
 * The Kinesis data streams. CloudFormation names them (no fixed names, so two stages share an
 * account and Region, and a retained stream never blocks a redeploy); the Lambdas learn which
 * stream is which configured stream from STREAM_NAMES.
 */
export class UsageStreams extends Construct {
  /** The validated configuration, defaults applied. */
  readonly config: readonly StreamConfig[];
  /** The configuration as compact JSON, for the STREAMS_CONFIG variable. */
  readonly configJson: string;
  readonly streams: readonly UsageStream[];
  readonly retentionPeriod: Duration;
  readonly encryptionKey?: kms.IKey;
  /** STREAM_NAMES: the configured name of each stream to its Kinesis stream name. */
  readonly environment: Readonly<Record<string, string>>;

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
    this.retentionPeriod = props.retentionPeriod ?? Duration.days(7);
    this.encryptionKey = props.encryptionKey;
    const capacity = props.capacity ?? { mode: 'on-demand' };

    this.streams = this.config.map((config) => {
      const stream = new kinesis.Stream(this, `Stream-${config.name}`, {
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
    this.environment = {
      [ENV.streamNames]: Stack.of(this).toJsonString(
        Object.fromEntries(
          this.streams.map(({ config, stream }) => [config.name, stream.streamName]),
        ),
      ),
    };
  }

  /** What the ingest event source mappings read with: the streams, and the key if any. */
  grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'kinesis:DescribeStream',
          'kinesis:DescribeStreamSummary',
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
          'kinesis:ListShards',
          'kinesis:ListStreams',
          'kinesis:SubscribeToShard',
        ],
        resources: this.streams.map(({ stream }) => stream.streamArn),
      }),
    );
    this.#grantKey(grantee, ['kms:Decrypt']);
  }

  /**
   * `kinesis:PutRecord` (re-sending data corrections) and `kinesis:PutRecords` (HTTP
   * ingestion) on the configured streams only, and the key if any.
   */
  grantPutRecord(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kinesis:PutRecord', 'kinesis:PutRecords'],
        resources: this.streams.map(({ stream }) => stream.streamArn),
      }),
    );
    this.#grantKey(grantee, ['kms:GenerateDataKey']);
  }

  // The key only through Kinesis: the grantee cannot decrypt anything else with it.
  #grantKey(grantee: iam.IGrantable, actions: string[]): void {
    if (!this.encryptionKey) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.encryptionKey.keyArn],
        conditions: viaService(this, 'kinesis'),
      }),
    );
  }
}
