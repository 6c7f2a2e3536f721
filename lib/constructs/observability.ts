/**
 * Observability: alarms on what loses or delays usage (ingest falling behind, errors and
 * throttles, dead letters, DynamoDB throttling, undeliverable period ends), sent to one SNS
 * topic, and a dashboard of the whole flow.
 */
import { Annotations, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CORRECTION_REASONS } from '../../shared/ports/data-correction-store.js';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import { METRICS_NAMESPACE, type MeteringFunction } from './metering-function.js';
import type { MeteringTable } from './metering-table.js';
import { acknowledgeRule } from './nag.js';
import type { UsageStream, UsageStreams } from './usage-streams.js';

/** Where alarms go and when the ingest alarm fires. */
export interface AlarmOptions {
  /** An existing topic for alarm notifications; default: a new encrypted topic. */
  readonly topic?: sns.ITopic;
  /** E-mail addresses subscribed to a new alarm topic (each must confirm). */
  readonly emailAddresses?: readonly string[];
  /** More actions on every alarm (e.g. an incident tool). */
  readonly actions?: readonly cw.IAlarmAction[];
  /** Ingest is behind when its oldest record is older than this. @default 5 minutes */
  readonly iteratorAgeThreshold?: Duration;
  /**
   * The destination queue's consumers are behind when its oldest message is older than this.
   * @default 1 hour
   */
  readonly destinationAgeThreshold?: Duration;
  /** Records put into data correction within 5 minutes that raise the alarm. @default 1 */
  readonly correctedRecordsThreshold?: number;
}

export interface ObservabilityProps extends AlarmOptions {
  readonly functions: readonly MeteringFunction[];
  readonly api: MeteringFunction;
  readonly ingest: MeteringFunction;
  readonly reset: MeteringFunction;
  readonly sweeper: MeteringFunction;
  /** The destination queue, when records go to SQS. */
  readonly destinationQueue?: sqs.IQueue;
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  readonly table: MeteringTable;
  readonly streams: UsageStreams;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly httpApi: apigw.IHttpApi;
  /** Customer managed key for a new alarm topic; default: a key created for it. */
  readonly encryptionKey?: kms.IKey;
  /** Of a key created for the alarm topic. */
  readonly removalPolicy?: RemovalPolicy;
}

// The table operations the Lambdas call (TransactWriteItems for creates and deletes).
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/** A count a Lambda publishes with Powertools (dimension `service`, plus `dimensions`), per 5 minutes. */
function countOf(
  fn: MeteringFunction,
  metricName: string,
  dimensions: Record<string, string> = {},
): cw.Metric {
  return new cw.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: fn.entry, ...dimensions },
    statistic: 'Sum',
    period: FIVE_MINUTES,
  });
}

/** Warning id when no one would hear the alarms. */
export const NO_ALARM_SUBSCRIBER_WARNING = 'usage-metering:no-alarm-subscriber';

/** The alarm topic, the alarms and the dashboard. */
export class Observability extends Construct {
  readonly alarmTopic: sns.ITopic;
  readonly alarms: cw.Alarm[] = [];
  readonly dashboard: cw.Dashboard;
  readonly #actions: cw.IAlarmAction[];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = props.topic ?? this.#createTopic(props);
    this.#actions = [new cwActions.SnsAction(this.alarmTopic), ...(props.actions ?? [])];
    this.#functionAlarms(props);
    this.#ingestAlarms(props);
    this.#periodEndAlarms(props);
    this.#storageAndApiAlarms(props);
    if (!props.topic && !props.emailAddresses?.length && !props.actions?.length) {
      Annotations.of(this).addWarningV2(
        NO_ALARM_SUBSCRIBER_WARNING,
        'No one is subscribed to the alarms: they go to a new SNS topic without subscribers. Pass alarms.emailAddresses (-c alarmEmail=ops@example.com), alarms.topic or alarms.actions, or subscribe to the AlarmTopicArn output after deploying.',
      );
    }
    this.dashboard = this.#createDashboard(props);
  }

  #functionAlarms(props: ObservabilityProps): void {
    for (const fn of props.functions) {
      this.#alarm(`${fn.entry}-errors`, {
        metric: fn.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        description: `The ${fn.entry} Lambda failed (unhandled error or timeout). Its logs say why.`,
      });
      this.#alarm(`${fn.entry}-throttles`, {
        metric: fn.function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        description: `The ${fn.entry} Lambda was throttled: raise the account's concurrency quota or reserve concurrency.`,
      });
    }
  }

  // What fails or stalls ingestion: records that failed (their shard waits), records put into
  // data correction, producers throttled, a shard that nobody reads any more, ingest behind.
  #ingestAlarms(props: ObservabilityProps): void {
    const iteratorAge = props.iteratorAgeThreshold ?? FIVE_MINUTES;
    for (const usageStream of props.streams.streams) {
      this.#streamAlarms(props, usageStream, iteratorAge);
    }
    this.#alarm('ingest-iterator-age', {
      metric: props.ingest.function.metric('IteratorAge', {
        period: ONE_MINUTE,
        statistic: 'Maximum',
      }),
      threshold: iteratorAge.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      description: `Ingest is more than ${iteratorAge.toHumanString()} behind the streams: usage shows late (a shard waiting on a failing batch, or more traffic than ingest keeps up with).`,
    });
    this.#alarm('prompt-send-failures', {
      metric: countOf(props.ingest, 'PromptSendFailures'),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description:
        'Partial pushes could not be sent right after ingestion (destination unreachable or denied); they wait in the outbox and the sweeper retries.',
    });
  }

  #streamAlarms(
    props: ObservabilityProps,
    { config, stream }: UsageStream,
    iteratorAge: Duration,
  ): void {
    const dimensions = { stream: config.name };
    this.#alarm(`records-failed-${config.name}`, {
      metric: countOf(props.ingest, 'RecordsFailed', dimensions),
      threshold: 1,
      description: `Records of stream ${config.name} failed on an infrastructure fault (the ingest logs name the cause): their shard waits and retries until it is mended, nothing is lost while the stream keeps them.`,
    });
    this.#alarm(`records-corrected-${config.name}`, {
      metric: new cw.MathExpression({
        expression: CORRECTION_REASONS.map((_, i) => `FILL(r${i}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(
          CORRECTION_REASONS.map((reason, i) => [
            `r${i}`,
            countOf(props.ingest, 'RecordsCorrected', { ...dimensions, reason }),
          ]),
        ),
        label: `RecordsCorrected ${config.name}`,
        period: FIVE_MINUTES,
      }),
      threshold: props.correctedRecordsThreshold ?? 1,
      description: `Records of stream ${config.name} went to data correction (GET /corrections lists them with their reason): fix the producer or create the missing meter, then reprocess.`,
    });
    this.#alarm(`stream-write-throttles-${config.name}`, {
      metric: stream.metricWriteProvisionedThroughputExceeded({
        period: FIVE_MINUTES,
        statistic: 'Sum',
      }),
      threshold: 1,
      description: `Kinesis throttled producers writing to stream ${config.name}: they must retry; add shards or use on-demand capacity.`,
    });
    this.#alarm(`ingest-stalled-${config.name}`, {
      metric: stream.metricGetRecordsIteratorAgeMilliseconds({
        period: ONE_MINUTE,
        statistic: 'Maximum',
      }),
      threshold: iteratorAge.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      // No reads at all is the worst case: a disabled or broken event source mapping.
      treatMissingData: cw.TreatMissingData.BREACHING,
      description: `Stream ${config.name} is not being read, or its oldest unread record is over ${iteratorAge.toHumanString()} old: the event source mapping is disabled or a shard waits on a failing batch. See docs/operations.md.`,
    });
  }

  // Period ends that could not be delivered or sent, and records that wait at the destination.
  #periodEndAlarms(props: ObservabilityProps): void {
    this.#scheduleAlarms(props.scheduleGroup);
    this.#alarm('flush-failures', {
      metric: countOf(props.reset, 'FlushFailures'),
      threshold: 1,
      description:
        'A reset could not close or send a period (its logs say why); the records stay in the outbox, Lambda and the sweeper retry.',
    });
    this.#alarm('sweep-failures', {
      metric: countOf(props.sweeper, 'SweepFailed'),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description:
        'The sweeper could not flush overdue meters several times running: periods stay open or records unsent until the cause (in its logs) is fixed.',
    });
    if (props.destinationQueue) {
      const age = props.destinationAgeThreshold ?? Duration.hours(1);
      this.#alarm('destination-oldest-message', {
        metric: props.destinationQueue.metricApproximateAgeOfOldestMessage({
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        threshold: age.toSeconds(),
        description: `A metered record has waited over ${age.toHumanString()} on the destination queue: billing is not consuming it.`,
      });
    }
  }

  #scheduleAlarms(scheduleGroup: scheduler.IScheduleGroup): void {
    this.#alarm('schedules-dropped', {
      metric: scheduleGroup.metricDropped({ period: FIVE_MINUTES }),
      threshold: 1,
      description:
        'EventBridge Scheduler dropped period-end invocations after its retries; the sweeper closes those periods, later.',
    });
    this.#alarm('schedules-not-dead-lettered', {
      metric: scheduleGroup.metricFailedToBeSentToDLQ(undefined, { period: FIVE_MINUTES }),
      threshold: 1,
      description:
        'EventBridge Scheduler could not put failed period-end invocations on the dead-letter queue (check the queue and the scheduler role).',
    });
    this.#alarm('schedule-target-errors', {
      metric: scheduleGroup.metricTargetErrors({ period: FIVE_MINUTES }),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description:
        'Invoking the reset Lambda from EventBridge Scheduler fails (permissions, throttling); the scheduler retries.',
    });
  }

  // Dead letters, the table, and the API.
  #storageAndApiAlarms(props: ObservabilityProps): void {
    for (const dlq of props.deadLetterQueues) {
      this.#alarm(`dead-letters-${dlq.node.id}`, {
        metric: dlq.queue.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        threshold: 1,
        description: `Messages wait in a dead-letter queue: ${dlq.purpose}.`,
      });
    }
    this.#alarm('table-throttles', {
      metric: props.table.table.metricThrottledRequestsForOperations({
        operations: TABLE_OPERATIONS,
        period: FIVE_MINUTES,
      }),
      threshold: 1,
      description:
        'DynamoDB throttled requests to the metering table (a hot partition or the on-demand maximum): ingest retries, the API answers 503.',
    });
    this.#alarm('api-5xx', {
      metric: props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 5,
      description: 'The API answered 5xx (503 when DynamoDB or the scheduler is throttled).',
    });
    this.#alarm('api-server-errors', {
      metric: countOf(props.api, 'ServerErrors'),
      threshold: 1,
      description:
        'The API Lambda caught an infrastructure error: a 5xx answer, or a clean-up that failed after a refused request (a schedule or claim left behind). Its logs say which, with the cause.',
    });
  }

  #createTopic(props: ObservabilityProps): sns.Topic {
    // CloudWatch cannot publish to a topic under the AWS managed aws/sns key: a customer
    // managed key whose policy lets CloudWatch use it.
    const key =
      props.encryptionKey ??
      new kms.Key(this, 'AlarmTopicKey', {
        description: 'Encrypts the usage-metering alarm topic',
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy,
      });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Usage metering alarms',
      masterKey: key,
      enforceSSL: true,
    });
    for (const address of props.emailAddresses ?? []) {
      topic.addSubscription(new subscriptions.EmailSubscription(address));
    }
    acknowledgeRule(
      topic,
      'SNSRedrivePolicy',
      'Alarm e-mails: an undelivered notification leaves nothing to replay, since the alarm itself stays in ALARM on the dashboard and in CloudWatch, and a dead-letter queue for notifications would need an alarm of its own.',
      'Serverless',
    );
    return topic;
  }

  #alarm(
    name: string,
    options: {
      metric: cw.IMetric;
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
      treatMissingData?: cw.TreatMissingData;
    },
  ): cw.Alarm {
    const alarm = new cw.Alarm(this, `Alarm-${name}`, {
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm,
      treatMissingData: options.treatMissingData ?? cw.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Usage metering: ${options.description}`,
    });
    alarm.addAlarmAction(...this.#actions);
    alarm.addOkAction(...this.#actions);
    this.alarms.push(alarm);
    return alarm;
  }

  #createDashboard(props: ObservabilityProps): cw.Dashboard {
    const dashboard = new cw.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const ingest = props.ingest.function;
    const perStream = (metricName: string) =>
      props.streams.streams.map(
        ({ config }) =>
          new cw.Metric({
            namespace: METRICS_NAMESPACE,
            metricName,
            dimensionsMap: { service: props.ingest.entry, stream: config.name },
            statistic: 'Sum',
            period: Duration.minutes(1),
            label: `${metricName} ${config.name}`,
          }),
      );
    dashboard.addWidgets(
      new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'API requests and errors',
        left: [props.httpApi.metricCount({ statistic: 'Sum' })],
        right: [
          props.httpApi.metricClientError({ statistic: 'Sum' }),
          props.httpApi.metricServerError({ statistic: 'Sum' }),
        ],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'API latency (p99)',
        left: [props.httpApi.metricLatency({ statistic: 'p99' })],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Ingest iterator age (max, ms)',
        left: [ingest.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) })],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Usage records per stream',
        left: [...perStream('RecordsReceived'), ...perStream('RecordsMetered')],
        right: [...perStream('DuplicatesSkipped'), ...perStream('RecordsFailed')],
        width: 12,
      }),
      new cw.GraphWidget({
        title: 'Records in data correction, by reason',
        left: [
          new cw.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},reason,service,stream} MetricName="RecordsCorrected"', 'Sum', 300)`,
            label: '',
            period: FIVE_MINUTES,
          }),
        ],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Lambda invocations',
        left: props.functions.map((fn) =>
          fn.function.metricInvocations({ statistic: 'Sum', label: fn.entry }),
        ),
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Lambda errors and throttles',
        left: props.functions.map((fn) =>
          fn.function.metricErrors({ statistic: 'Sum', label: `${fn.entry} errors` }),
        ),
        right: props.functions.map((fn) =>
          fn.function.metricThrottles({ statistic: 'Sum', label: `${fn.entry} throttles` }),
        ),
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Lambda duration (p99)',
        left: props.functions.map((fn) =>
          fn.function.metricDuration({ statistic: 'p99', label: fn.entry }),
        ),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Period-end schedules',
        left: [
          props.scheduleGroup.metricAttempts({ label: 'invocation attempts' }),
          props.scheduleGroup.metricTargetErrors({ label: 'target errors' }),
          props.scheduleGroup.metricDropped({ label: 'dropped' }),
          props.scheduleGroup.metricSentToDLQ({ label: 'sent to DLQ' }),
        ],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Metering table',
        left: [
          props.table.table.metricConsumedWriteCapacityUnits({ statistic: 'Sum' }),
          props.table.table.metricConsumedReadCapacityUnits({ statistic: 'Sum' }),
        ],
        right: [
          props.table.table.metricThrottledRequestsForOperations({
            operations: TABLE_OPERATIONS,
          }),
        ],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Dead-letter queues (messages waiting)',
        left: props.deadLetterQueues.map((dlq) =>
          dlq.queue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            label: dlq.node.id,
          }),
        ),
        width: 8,
      }),
    );
    return dashboard;
  }
}
