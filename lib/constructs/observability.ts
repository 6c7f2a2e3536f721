/**
 * Observability: alarms on what loses or delays usage (ingest falling behind, errors and
 * throttles, dead letters, DynamoDB throttling, undeliverable period ends), sent to one SNS
 * topic, and a dashboard of the whole flow.
 */
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import { METRICS_NAMESPACE, type MeteringFunction } from './metering-function.js';
import type { MeteringTable } from './metering-table.js';
import type { UsageStreams } from './usage-streams.js';

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
}

export interface ObservabilityProps extends AlarmOptions {
  readonly functions: readonly MeteringFunction[];
  readonly ingest: MeteringFunction;
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
    const iteratorAge = props.iteratorAgeThreshold ?? FIVE_MINUTES;
    this.#alarm('ingest-iterator-age', {
      metric: props.ingest.function.metric('IteratorAge', {
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: iteratorAge.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      description: `Ingest is more than ${iteratorAge.toHumanString()} behind the streams: usage shows late and records near the stream retention may be given up.`,
    });
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
    this.#alarm('schedules-dropped', {
      metric: props.scheduleGroup.metricDropped({ period: FIVE_MINUTES }),
      threshold: 1,
      description:
        'EventBridge Scheduler dropped period-end invocations after its retries; the sweeper closes those periods, later.',
    });
    this.#alarm('schedules-not-dead-lettered', {
      metric: props.scheduleGroup.metricFailedToBeSentToDLQ(undefined, { period: FIVE_MINUTES }),
      threshold: 1,
      description:
        'EventBridge Scheduler could not put failed period-end invocations on the dead-letter queue (check the queue and the scheduler role).',
    });
    this.#alarm('schedule-target-errors', {
      metric: props.scheduleGroup.metricTargetErrors({ period: FIVE_MINUTES }),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description:
        'Invoking the reset Lambda from EventBridge Scheduler fails (permissions, throttling); the scheduler retries.',
    });
    this.#alarm('api-5xx', {
      metric: props.httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 5,
      description: 'The API answered 5xx (503 when DynamoDB or the scheduler is throttled).',
    });

    this.dashboard = this.#createDashboard(props);
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
    },
  ): cw.Alarm {
    const alarm = new cw.Alarm(this, `Alarm-${name}`, {
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
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
        right: perStream('DuplicatesSkipped'),
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
