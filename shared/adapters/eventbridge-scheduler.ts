import {
  type ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SchedulerUnavailableError } from '../domain/errors.js';
import type { PeriodEndScheduler, PeriodEndTrigger } from '../ports/period-end-scheduler.js';
import { scheduleNameFor } from './eventbridge-schedule-name.js';

/** Settings of {@link EventBridgePeriodEndScheduler}. */
export interface EventBridgePeriodEndSchedulerOptions {
  client: SchedulerClient;
  /** Schedule group that holds the period-end schedules. */
  groupName: string;
  /** ARN of the reset Lambda. */
  targetArn: string;
  /** Role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  /** SQS queue that receives invocations that exhausted their retries. */
  deadLetterQueueArn?: string;
  /**
   * Minutes after its time within which the scheduler may run a schedule (a flexible time
   * window, 1–1440), spreading many period ends; 0 or absent: exactly at its time.
   */
  flexibleWindowMinutes?: number;
}

// Compared by name rather than instanceof, so a second copy of the SDK in a bundle still
// matches; the annotations make the compiler check the names against the SDK's classes.
const CONFLICT: ConflictException['name'] = 'ConflictException';
const NOT_FOUND: ResourceNotFoundException['name'] = 'ResourceNotFoundException';

// The service maxima: 185 retries, 24 hours of event age.
const RETRY_POLICY = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 };

/** Period-end schedules as one-time EventBridge Scheduler schedules that delete themselves. */
export class EventBridgePeriodEndScheduler implements PeriodEndScheduler {
  readonly #options: EventBridgePeriodEndSchedulerOptions;

  constructor(options: EventBridgePeriodEndSchedulerOptions) {
    this.#options = options;
  }

  /** Creates the schedule; an existing schedule of the same name counts as success. */
  async schedulePeriodEnd(trigger: PeriodEndTrigger, fireAt: Date): Promise<void> {
    const name = scheduleNameFor(trigger);
    const input: CreateScheduleCommandInput = {
      Name: name,
      GroupName: this.#options.groupName,
      ScheduleExpression: atExpression(fireAt),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: this.#options.flexibleWindowMinutes
        ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: this.#options.flexibleWindowMinutes }
        : { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: this.#options.targetArn,
        RoleArn: this.#options.roleArn,
        Input: JSON.stringify({ meterId: trigger.meterId, periodEnd: trigger.periodEnd }),
        RetryPolicy: RETRY_POLICY,
        ...(this.#options.deadLetterQueueArn === undefined
          ? {}
          : { DeadLetterConfig: { Arn: this.#options.deadLetterQueueArn } }),
      },
    };
    try {
      await this.#options.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (errorName(error) === CONFLICT) return;
      throw new SchedulerUnavailableError(`Could not create schedule ${name}`, {
        scheduleName: name,
        operation: 'schedule',
        cause: error,
      });
    }
  }

  /** Deletes the schedule; a schedule that is already gone counts as success. */
  async cancelPeriodEnd(trigger: PeriodEndTrigger): Promise<void> {
    const name = scheduleNameFor(trigger);
    try {
      await this.#options.client.send(
        new DeleteScheduleCommand({ Name: name, GroupName: this.#options.groupName }),
      );
    } catch (error) {
      if (errorName(error) === NOT_FOUND) return;
      throw new SchedulerUnavailableError(`Could not delete schedule ${name}`, {
        scheduleName: name,
        operation: 'cancel',
        cause: error,
      });
    }
  }
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the whole second so it never fires early. */
export function atExpression(fireAt: Date): string {
  const ms = fireAt.getTime();
  if (Number.isNaN(ms)) throw new RangeError('fireAt is an invalid Date');
  const wholeSecond = new Date(Math.ceil(ms / 1000) * 1000);
  return `at(${wholeSecond.toISOString().slice(0, 19)})`;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
