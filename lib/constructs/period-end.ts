/**
 * PeriodEnd: closing meter periods. One EventBridge Scheduler one-time schedule per meter
 * period invokes the reset Lambda at period end + grace; a sweeper on a one-minute rule
 * catches whatever a lost schedule or a failed send left behind.
 */
import { Aws, Duration, Fn, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../shared/adapters/dynamodb/table.js';
import { ENV } from '../../shared/config/env-names.js';
import { DEFAULT_HISTORY_RETENTION_DAYS } from '../../shared/domain/record-history.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { MeteringFunction } from './metering-function.js';
import type { ItemAction, MeteringTable } from './metering-table.js';
import { acknowledgeRule, acknowledgeWildcardResource } from './nag.js';
import type { RecordDestination } from './record-destination.js';
import type { UsageStreams } from './usage-streams.js';

const SCHEDULER_SERVICE = 'scheduler.amazonaws.com';

const SWEEP_RETRY_REASON =
  'A sweep carries no data: its event only says "look now". A failed sweep is retried by the next one a minute later, and repeated failures raise the sweep-failures and sweeper-errors alarms.';

/**
 * What flushing a meter does in the table (DynamoDbPeriodEndStore, DynamoDbMeterTypeStore,
 * DynamoDbRecordHistory): read the id pointer and the meter, replace the meter (Put), keep the
 * outbox's records in the history (BatchWrite of Puts), clear the outbox (Update), and delete
 * the meter on reset in a transaction (Delete + Update of the counters).
 */
export const PERIOD_END_ITEM_ACTIONS: readonly ItemAction[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

export interface PeriodEndProps {
  readonly table: MeteringTable;
  readonly streams: UsageStreams;
  readonly destination: RecordDestination;
  /** How often the sweeper looks for overdue meters. @default 1 minute */
  readonly sweepInterval?: Duration;
  readonly logRetention?: logs.RetentionDays;
  /** Of the schedule group, the dead-letter queues and the log groups. */
  readonly removalPolicy?: RemovalPolicy;
  /** Retention of the dead-letter queues. @default 14 days */
  readonly queueRetention?: Duration;
  /** Customer managed key for the dead-letter queues and log groups. */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long after period end + grace EventBridge Scheduler may run a period-end schedule (a
   * flexible time window): spreads a month end's resets instead of hitting the Scheduler's
   * invocation quota at once. The sweeper waits this long too before it takes a period over.
   * Duration.minutes(0) fires every schedule exactly at its time. @default 15 minutes
   */
  readonly flexibleWindow?: Duration;
  /**
   * Concurrent executions reserved for (and at most used by) the reset Lambda, so a month-end
   * burst cannot take the room of ingestion and the API. 0 reserves none. @default 20
   */
  readonly resetConcurrency?: number;
  /**
   * How long the history keeps each metered record after its period end (DynamoDB TTL on
   * `expiresAt`, which deletes within days after). @default 400 days
   */
  readonly historyRetention?: Duration;
}

/** The longest flexible time window EventBridge Scheduler accepts. */
export const MAX_FLEXIBLE_WINDOW = Duration.minutes(1440);

function validFlexibleWindow(window: Duration): Duration {
  if (window.toMinutes() > MAX_FLEXIBLE_WINDOW.toMinutes()) {
    throw new Error(
      `UsageMetering: the period-end flexible window (${window.toHumanString()}) is longer than EventBridge Scheduler's maximum of 1440 minutes`,
    );
  }
  return window;
}

function validHistoryRetention(retention: Duration | undefined): Duration {
  const days = retention?.toDays() ?? DEFAULT_HISTORY_RETENTION_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new Error(
      `UsageMetering: the history retention must be a whole number of days from 1 to 3650, not ${days}`,
    );
  }
  return Duration.days(days);
}

/** The schedule group, the scheduler's role, the reset and sweeper Lambdas and their queues. */
export class PeriodEnd extends Construct {
  /** HISTORY_RETENTION_DAYS for every Lambda that flushes meters (reset, sweeper, ingest). */
  readonly historyEnvironment: Readonly<Record<string, string>>;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The role EventBridge Scheduler assumes to invoke the reset Lambda. */
  readonly schedulerRole: iam.Role;
  /** Period ends the scheduler could not deliver after its retries. */
  readonly scheduleDeadLetters: DeadLetterQueue;
  /** Reset invocations that failed after Lambda's asynchronous retries. */
  readonly resetFailures: DeadLetterQueue;
  readonly reset: MeteringFunction;
  readonly sweeper: MeteringFunction;
  readonly sweepRule: events.Rule;
  /** The flexible time window of the period-end schedules. */
  readonly flexibleWindow: Duration;

  constructor(scope: Construct, id: string, props: PeriodEndProps) {
    super(scope, id);
    this.flexibleWindow = validFlexibleWindow(props.flexibleWindow ?? Duration.minutes(15));
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules', {
      // Unique to this stack's lifetime (its id), not derived from its name: a group retained
      // from a deleted stack never blocks deploying the same stack again.
      scheduleGroupName: `usage-metering-${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`,
      removalPolicy: props.removalPolicy,
    });
    const deadLetters = (id: string, purpose: string) =>
      new DeadLetterQueue(this, id, {
        purpose,
        retentionPeriod: props.queueRetention,
        removalPolicy: props.removalPolicy,
        encryptionKey: props.encryptionKey,
      });
    this.scheduleDeadLetters = deadLetters(
      'ScheduleDeadLetters',
      'period-end schedules EventBridge Scheduler could not deliver to the reset Lambda',
    );
    this.resetFailures = deadLetters(
      'ResetFailures',
      'reset invocations that failed after Lambda retried them; the sweeper retries too',
    );
    this.historyEnvironment = {
      [ENV.historyRetentionDays]: String(validHistoryRetention(props.historyRetention).toDays()),
    };
    const environment = {
      [ENV.tableName]: props.table.tableName,
      [ENV.streamsConfig]: props.streams.configJson,
      [ENV.scheduleGroupName]: this.scheduleGroup.scheduleGroupName,
      [ENV.scheduleDeadLetterQueueArn]: this.scheduleDeadLetters.queue.queueArn,
      [ENV.scheduleFlexibleWindowMinutes]: String(this.flexibleWindow.toMinutes()),
      ...this.historyEnvironment,
      ...props.destination.environment,
    };
    this.reset = this.#createReset(props, environment);
    this.schedulerRole = this.#createSchedulerRole();
    this.reset.addEnvironment(ENV.schedulerRoleArn, this.schedulerRole.roleArn);
    this.sweeper = this.#createSweeper(props, environment);
    this.sweepRule = this.#createSweepRule(props.sweepInterval ?? Duration.minutes(1));

    for (const fn of [this.reset, this.sweeper]) {
      props.table.grantItemActions(fn, PERIOD_END_ITEM_ACTIONS);
      props.destination.grantPublish(fn);
      this.grantScheduling(fn, { cancel: false });
    }
    props.table.grantQuery(this.sweeper, { indexes: [TABLE_KEYS.dueIndex] });
  }

  // The reset schedules its own next period with context.invokedFunctionArn: its own ARN in
  // its environment would be a circular reference.
  #createReset(props: PeriodEndProps, environment: Record<string, string>): MeteringFunction {
    return new MeteringFunction(this, 'Reset', {
      entry: 'reset',
      description: 'Closes a meter period at period end + grace and sends its records',
      timeout: Duration.seconds(30),
      environment,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      encryptionKey: props.encryptionKey,
      deadLetterQueue: this.resetFailures,
      reservedConcurrency: props.resetConcurrency ?? 20,
    });
  }

  // Only EventBridge Scheduler of this account, for this group, may assume it; it may invoke
  // the reset and put what it could not deliver on the schedule dead-letter queue.
  #createSchedulerRole(): iam.Role {
    const role = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to invoke the usage-metering reset Lambda',
      assumedBy: new iam.ServicePrincipal(SCHEDULER_SERVICE, {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.reset.function.functionArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [this.scheduleDeadLetters.queue.queueArn],
      }),
    );
    this.scheduleDeadLetters.grantKeyForSending(role);
    return role;
  }

  #createSweeper(props: PeriodEndProps, environment: Record<string, string>): MeteringFunction {
    const sweeper = new MeteringFunction(this, 'Sweeper', {
      entry: 'sweeper',
      description: 'Flushes meters whose period end or outbox is overdue (safety net)',
      timeout: Duration.seconds(55),
      environment: {
        ...environment,
        [ENV.schedulerRoleArn]: this.schedulerRole.roleArn,
        [ENV.resetFunctionArn]: this.reset.function.functionArn,
      },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      encryptionKey: props.encryptionKey,
      // The next sweep is the retry.
      retryAttempts: 0,
      // One sweep at a time: two would only flush the same meters twice.
      reservedConcurrency: 1,
      noDeadLetterQueueReason: SWEEP_RETRY_REASON,
    });
    acknowledgeRule(sweeper, 'LambdaAsyncFailureDestination', SWEEP_RETRY_REASON, 'Serverless');
    return sweeper;
  }

  #createSweepRule(interval: Duration): events.Rule {
    const rule = new events.Rule(this, 'SweepEveryMinute', {
      description: 'Runs the usage-metering sweeper',
      schedule: events.Schedule.rate(interval),
      targets: [
        new targets.LambdaFunction(this.sweeper.function, {
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });
    acknowledgeRule(rule, 'EventBusDLQ', SWEEP_RETRY_REASON, 'Serverless');
    return rule;
  }

  /** Settings a function needs to register period ends (besides the table and streams). */
  schedulingEnvironment(): Record<string, string> {
    return {
      [ENV.scheduleFlexibleWindowMinutes]: String(this.flexibleWindow.toMinutes()),
      [ENV.scheduleGroupName]: this.scheduleGroup.scheduleGroupName,
      [ENV.schedulerRoleArn]: this.schedulerRole.roleArn,
      [ENV.scheduleDeadLetterQueueArn]: this.scheduleDeadLetters.queue.queueArn,
      [ENV.resetFunctionArn]: this.reset.function.functionArn,
    };
  }

  /**
   * Lets a function create (and with `cancel`, delete) schedules in the group, and pass the
   * scheduler role to EventBridge Scheduler only.
   */
  grantScheduling(fn: MeteringFunction, options: { cancel: boolean }): void {
    const schedules = Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: options.cancel
          ? ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']
          : ['scheduler:CreateSchedule'],
        resources: [schedules],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
      }),
    );
    acknowledgeWildcardResource(
      fn.role,
      schedules,
      'One schedule per meter period, named at run time (pe-<meterId>-<periodEnd>): the grant is limited to the schedules of this service’s schedule group.',
    );
  }
}
