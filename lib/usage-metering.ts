/**
 * UsageMetering: the whole service as one construct. It reads like the architecture:
 *
 *   HTTPS clients ─► MeteringApi ─► MeteringTable ◄─ Ingestion ◄─ UsageStreams ◄─ producers
 *                        └────────► PeriodEnd (schedules ─► reset; sweeper) ─► RecordDestination
 *   Observability watches all of it.
 */
import { ArnFormat, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StreamsConfigInput } from '../shared/config/streams.js';
import { ApiSignIn, COGNITO_SCOPE_NAMES } from './constructs/api-sign-in.js';
import { ConsoleHosting, consoleAssets } from './constructs/console-hosting.js';
import { Ingestion, type IngestOptions } from './constructs/ingestion.js';
import { type ApiAuthorization, MeteringApi } from './constructs/metering-api.js';
import type { MeteringFunction } from './constructs/metering-function.js';
import { MeteringTable } from './constructs/metering-table.js';
import { type AlarmOptions, Observability } from './constructs/observability.js';
import { PeriodEnd } from './constructs/period-end.js';
import { type DestinationOptions, RecordDestination } from './constructs/record-destination.js';
import { type KinesisCapacity, UsageStreams } from './constructs/usage-streams.js';

/** How long things are kept. */
export interface RetentionOptions {
  /**
   * Records on the Kinesis streams (24 hours to 365 days): the longest ingestion outage that
   * loses nothing, since a failing shard waits. @default 7 days
   */
  readonly streams?: Duration;
  /** Messages on the queues created here (destination and dead letters). @default 14 days */
  readonly queues?: Duration;
  /** Lambda and API access logs. @default one month */
  readonly logs?: logs.RetentionDays;
}

/** Settings of {@link UsageMetering}; every one has a default that works for a first deploy. */
export interface UsageMeteringProps {
  /**
   * The streams (meter processors): an array as in shared/config/streams.ts, or its JSON. It is
   * validated at synth time; an invalid one fails the synth with the problems listed.
   * @default DEFAULT_STREAMS (one stream, `usage-events`)
   */
  readonly streams?: StreamsConfigInput | string;
  /** Where metered records go. @default a new standard SQS queue */
  readonly destination?: DestinationOptions;
  /**
   * Who may call the API. @default AWS IAM (SigV4); with `console`, a Cognito user pool
   * (`{ kind: 'cognito' }`)
   */
  readonly apiAuthorization?: ApiAuthorization;
  /**
   * Host the console (S3 and CloudFront, the API on the same origin) with sign-in through the
   * Cognito user pool; needs `apiAuthorization` `cognito` (the default with a console), since a
   * browser cannot sign IAM requests. @default no console
   */
  readonly console?: ConsoleOptions;
  /**
   * The API's stage throttle, shared by all callers; over it they get 429.
   * @default 100 requests per second, burst 200 (DEFAULT_API_THROTTLE)
   */
  readonly apiThrottle?: ThrottleSettings;
  /** @default on demand */
  readonly kinesisCapacity?: KinesisCapacity;
  /** Batch size, batching window, retries and record age of the ingest mapping. */
  readonly ingest?: IngestOptions;
  readonly retention?: RetentionOptions;
  /**
   * What happens to the table, streams, queues, logs and schedules when the stack is deleted.
   * With DESTROY, table deletion protection is off unless `deletionProtection` says otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** @default true, unless removalPolicy is DESTROY */
  readonly deletionProtection?: boolean;
  /**
   * A customer managed KMS key for the table, the streams, a new destination and a new alarm
   * topic. Default: AWS managed keys (aws/dynamodb, aws/kinesis, SSE-SQS, aws/sns) and a key
   * for the alarm topic only (CloudWatch cannot publish to a topic under aws/sns). A key
   * imported from elsewhere must let cloudwatch.amazonaws.com use it for the alarm topic.
   */
  readonly encryptionKey?: kms.IKey;
  /** Where alarms go. @default a new encrypted SNS topic */
  readonly alarms?: AlarmOptions;
  /**
   * Concurrent executions reserved for each Lambda, so that none can starve another: ingestion
   * always has room, and an API flood or a month-end burst of resets is capped. 0 reserves
   * none. The sweeper always has 1 (one sweep at a time). The account must keep 100
   * executions unreserved, so the defaults need an account concurrency of at least 221.
   * @default { ingest: 50, api: 50, reset: 20 }
   */
  readonly concurrency?: ConcurrencyOptions;
  /**
   * The flexible time window of period-end schedules: EventBridge Scheduler runs each reset
   * within this time after period end + grace, which spreads a month end under the invocation
   * quota. Duration.minutes(0) fires each at its exact time. @default 15 minutes
   */
  readonly periodEndWindow?: Duration;
  /**
   * How long the history keeps every metered record after its period end (`GET
   * /metered-records`; DynamoDB TTL deletes it within days after). @default Duration.days(400)
   */
  readonly historyRetention?: Duration;
}

/** See {@link UsageMeteringProps.console}. */
export interface ConsoleOptions {
  /** The built console (index.html at its root). @default 'console/dist' (npm run console:build) */
  readonly assetPath?: string;
}

/** Reserved concurrency per Lambda; see {@link UsageMeteringProps.concurrency}. */
export interface ConcurrencyOptions {
  readonly ingest?: number;
  readonly api?: number;
  readonly reset?: number;
}

/** The serverless usage-metering service: API, streams, ingestion, period ends, records out. */
export class UsageMetering extends Construct {
  readonly table: MeteringTable;
  readonly streams: UsageStreams;
  readonly destination: RecordDestination;
  readonly periodEnd: PeriodEnd;
  readonly ingestion: Ingestion;
  readonly api: MeteringApi;
  readonly observability: Observability;
  /** The Cognito user pool issuing the API's tokens, with `apiAuthorization` `cognito`. */
  readonly signIn?: ApiSignIn;
  /** The console's hosting, with `console`. */
  readonly console?: ConsoleHosting;
  /** The four Lambdas: api, ingest, reset, sweeper. */
  readonly functions: readonly MeteringFunction[];

  constructor(scope: Construct, id: string, props: UsageMeteringProps = {}) {
    super(scope, id);
    // Settings that cannot work fail before any Lambda is bundled.
    if (props.console) consoleAssets(props.console.assetPath);
    const authorization = authorizationOf(this, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const common = {
      logRetention: props.retention?.logs,
      removalPolicy,
      encryptionKey: props.encryptionKey,
    };
    if (props.encryptionKey) allowLogsToUse(props.encryptionKey);
    this.table = new MeteringTable(this, 'Table', {
      encryptionKey: props.encryptionKey,
      removalPolicy,
      deletionProtection: props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY,
    });
    this.streams = new UsageStreams(this, 'Streams', {
      streams: props.streams,
      capacity: props.kinesisCapacity,
      retentionPeriod: props.retention?.streams,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
    this.destination = new RecordDestination(this, 'Destination', {
      destination: props.destination,
      encryptionKey: props.encryptionKey,
      retentionPeriod: props.retention?.queues,
      removalPolicy,
    });
    this.periodEnd = new PeriodEnd(this, 'PeriodEnd', {
      table: this.table,
      streams: this.streams,
      destination: this.destination,
      queueRetention: props.retention?.queues,
      flexibleWindow: props.periodEndWindow,
      resetConcurrency: props.concurrency?.reset,
      historyRetention: props.historyRetention,
      ...common,
    });
    this.ingestion = new Ingestion(this, 'Ingestion', {
      ...props.ingest,
      table: this.table,
      streams: this.streams,
      periodEnd: this.periodEnd,
      destination: this.destination,
      reservedConcurrency: props.concurrency?.ingest,
      ...common,
    });
    const front = this.#front(props, authorization, common);
    this.api = front.api;
    this.signIn = front.signIn;
    this.console = front.console;
    const { reset, sweeper } = this.periodEnd;
    this.functions = [this.api.handler, this.ingestion.ingest, reset, sweeper];
    this.observability = this.#watch(props, removalPolicy);
  }

  // The API; with `cognito`, the user pool that issues its tokens; with `console`, its hosting.
  #front(
    props: UsageMeteringProps,
    authorization: ApiAuthorization,
    common: {
      logRetention?: logs.RetentionDays;
      removalPolicy: RemovalPolicy;
      encryptionKey?: kms.IKey;
    },
  ): { api: MeteringApi; signIn?: ApiSignIn; console?: ConsoleHosting } {
    const signIn =
      authorization.kind === 'cognito'
        ? new ApiSignIn(this, 'SignIn', {
            domainPrefix: authorization.domainPrefix,
            clientIds: authorization.clientIds,
            removalPolicy: common.removalPolicy,
          })
        : undefined;
    const api = new MeteringApi(this, 'Api', {
      table: this.table,
      streams: this.streams,
      periodEnd: this.periodEnd,
      destination: this.destination,
      authorization: signIn
        ? {
            kind: 'jwt',
            issuer: signIn.issuer,
            audience: signIn.audience,
            scopes: COGNITO_SCOPE_NAMES,
          }
        : authorization,
      throttle: props.apiThrottle,
      reservedConcurrency: props.concurrency?.api,
      ...common,
    });
    const hosting =
      props.console && signIn
        ? new ConsoleHosting(this, 'Console', {
            ...props.console,
            httpApi: api.httpApi,
            signIn,
            removalPolicy: common.removalPolicy,
          })
        : undefined;
    return { api, signIn, console: hosting };
  }

  // Alarms and the dashboard over every part of the service.
  #watch(props: UsageMeteringProps, removalPolicy: RemovalPolicy): Observability {
    return new Observability(this, 'Observability', {
      ...props.alarms,
      functions: this.functions,
      api: this.api.handler,
      ingest: this.ingestion.ingest,
      reset: this.periodEnd.reset,
      sweeper: this.periodEnd.sweeper,
      destinationQueue: this.destination.queue,
      deadLetterQueues: [
        this.periodEnd.scheduleDeadLetters,
        this.periodEnd.resetFailures,
        ...(this.destination.deadLetterQueue ? [this.destination.deadLetterQueue] : []),
      ],
      table: this.table,
      streams: this.streams,
      scheduleGroup: this.periodEnd.scheduleGroup,
      httpApi: this.api.httpApi,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
  }
}

/** The API's authorization: as given, Cognito by default with a console, else IAM. */
function authorizationOf(scope: Construct, props: UsageMeteringProps): ApiAuthorization {
  const given = props.apiAuthorization;
  if (!props.console) return given ?? { kind: 'iam' };
  if (given && given.kind !== 'cognito') {
    throw new Error(
      `${scope.node.path}: the console needs apiAuthorization { kind: 'cognito' } (-c auth=cognito), not '${given.kind}': ${given.kind === 'iam' ? 'a browser cannot sign IAM requests' : 'people sign in with the user pool this stack creates'}`,
    );
  }
  return given ?? { kind: 'cognito' };
}

/**
 * Lets CloudWatch Logs of this account and Region use the key for the service's log groups
 * only. A key imported from elsewhere keeps its own policy: it must allow this itself.
 */
function allowLogsToUse(key: kms.IKey): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
      actions: [
        'kms:Encrypt*',
        'kms:Decrypt*',
        'kms:ReEncrypt*',
        'kms:GenerateDataKey*',
        'kms:Describe*',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}
