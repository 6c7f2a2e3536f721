import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { scheduleNameFor } from '../../shared/adapters/eventbridge-schedule-name.js';
import {
  atExpression,
  EventBridgePeriodEndScheduler,
} from '../../shared/adapters/eventbridge-scheduler.js';
import { SchedulerUnavailableError } from '../../shared/domain/errors.js';

const schedulerMock = mockClient(SchedulerClient);
const meterId = '3f1c2b8e-8d4a-4c1e-9f57-2a6b1d0e7c93';
const trigger = { meterId, periodEnd: '2024-02-01T00:00:00.000Z' };
const base = {
  groupName: 'metering-period-ends',
  targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:reset',
  roleArn: 'arn:aws:iam::123456789012:role/scheduler-invoke-reset',
};
const meta = { $metadata: {} };

function scheduler(deadLetterQueueArn?: string): EventBridgePeriodEndScheduler {
  return new EventBridgePeriodEndScheduler({
    client: new SchedulerClient({ region: 'eu-west-1' }),
    ...base,
    ...(deadLetterQueueArn === undefined ? {} : { deadLetterQueueArn }),
  });
}

beforeEach(() => {
  schedulerMock.reset();
});

describe('EventBridgePeriodEndScheduler.schedulePeriodEnd', () => {
  it('creates a one-time, self-deleting UTC schedule with the exact input', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    await scheduler('arn:aws:sqs:eu-west-1:123456789012:scheduler-dlq').schedulePeriodEnd(
      trigger,
      new Date('2024-02-01T00:05:00.000Z'),
    );

    const calls = schedulerMock.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Name: `pe-${meterId}-20240201T000000000Z`,
      GroupName: 'metering-period-ends',
      ScheduleExpression: 'at(2024-02-01T00:05:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: base.targetArn,
        RoleArn: base.roleArn,
        Input: JSON.stringify({ meterId, periodEnd: '2024-02-01T00:00:00.000Z' }),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:scheduler-dlq' },
      },
    });
  });

  it('gives the schedule a flexible window when one is configured, to spread a month end', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    const spread = new EventBridgePeriodEndScheduler({
      client: new SchedulerClient({ region: 'eu-west-1' }),
      ...base,
      flexibleWindowMinutes: 15,
    });
    await spread.schedulePeriodEnd(trigger, new Date('2024-02-01T00:05:00.000Z'));
    const input = schedulerMock.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.FlexibleTimeWindow).toEqual({ Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 });
    // The window starts at the period end + grace: never earlier.
    expect(input?.ScheduleExpression).toBe('at(2024-02-01T00:05:00)');
  });

  it('omits the dead-letter config when none is given', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});
    await scheduler().schedulePeriodEnd(trigger, new Date('2024-02-01T00:05:00.000Z'));
    const target = schedulerMock.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target;
    expect(target).toBeDefined();
    expect(target).not.toHaveProperty('DeadLetterConfig');
  });

  it('rounds fireAt up to the next whole second, never down', async () => {
    schedulerMock.on(CreateScheduleCommand).resolves({});
    await scheduler().schedulePeriodEnd(trigger, new Date('2024-02-29T23:59:59.001Z'));
    expect(
      schedulerMock.commandCalls(CreateScheduleCommand)[0]?.args[0].input.ScheduleExpression,
    ).toBe('at(2024-03-01T00:00:00)');
  });

  it('treats ConflictException (schedule exists) as success', async () => {
    schedulerMock
      .on(CreateScheduleCommand)
      .rejects(
        new ConflictException({ message: 'Schedule already exists.', Message: 'exists', ...meta }),
      );
    await expect(
      scheduler().schedulePeriodEnd(trigger, new Date('2024-02-01T00:05:00.000Z')),
    ).resolves.toBeUndefined();
  });

  it('wraps other errors in SchedulerUnavailableError with the cause', async () => {
    const cause = new ThrottlingException({
      message: 'Rate exceeded',
      Message: 'Rate exceeded',
      ...meta,
    });
    schedulerMock.on(CreateScheduleCommand).rejects(cause);

    const error = await scheduler()
      .schedulePeriodEnd(trigger, new Date('2024-02-01T00:05:00.000Z'))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SchedulerUnavailableError);
    expect(error).toMatchObject({
      name: 'SchedulerUnavailableError',
      operation: 'schedule',
      scheduleName: scheduleNameFor(trigger),
      cause,
    });
  });

  it('does not take ResourceNotFoundException on create (missing group) for success', async () => {
    schedulerMock
      .on(CreateScheduleCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'Group not found', Message: 'x', ...meta }),
      );
    await expect(
      scheduler().schedulePeriodEnd(trigger, new Date('2024-02-01T00:05:00.000Z')),
    ).rejects.toBeInstanceOf(SchedulerUnavailableError);
  });
});

describe('EventBridgePeriodEndScheduler.cancelPeriodEnd', () => {
  it('deletes the schedule by its deterministic name in the group', async () => {
    schedulerMock.on(DeleteScheduleCommand).resolves({});
    await scheduler().cancelPeriodEnd(trigger);
    expect(schedulerMock.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({
      Name: scheduleNameFor(trigger),
      GroupName: 'metering-period-ends',
    });
  });

  it('treats ResourceNotFoundException as success', async () => {
    schedulerMock
      .on(DeleteScheduleCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'not found', Message: 'not found', ...meta }),
      );
    await expect(scheduler().cancelPeriodEnd(trigger)).resolves.toBeUndefined();
  });

  it('wraps other errors in SchedulerUnavailableError', async () => {
    const cause = new ValidationException({ message: 'bad', Message: 'bad', ...meta });
    schedulerMock.on(DeleteScheduleCommand).rejects(cause);
    await expect(scheduler().cancelPeriodEnd(trigger)).rejects.toMatchObject({
      name: 'SchedulerUnavailableError',
      operation: 'cancel',
      cause,
    });
  });
});

describe('atExpression', () => {
  it('keeps whole seconds and rounds fractions up', () => {
    expect(atExpression(new Date('2024-12-31T23:59:59.000Z'))).toBe('at(2024-12-31T23:59:59)');
    expect(atExpression(new Date('2024-12-31T23:59:59.999Z'))).toBe('at(2025-01-01T00:00:00)');
  });
});

describe('scheduleNameFor', () => {
  const valid = /^[0-9a-zA-Z_.-]{1,64}$/;

  it('is deterministic, valid and normalises the instant', () => {
    const name = scheduleNameFor(trigger);
    expect(name).toMatch(valid);
    expect(scheduleNameFor({ meterId, periodEnd: '2024-02-01T01:00:00+01:00' })).toBe(name);
  });

  it('differs per meter and per period end', () => {
    const names = new Set([
      scheduleNameFor(trigger),
      scheduleNameFor({ meterId, periodEnd: '2024-03-01T00:00:00.000Z' }),
      scheduleNameFor({ meterId, periodEnd: '2024-02-01T00:00:00.001Z' }),
      scheduleNameFor({
        meterId: '00000000-0000-4000-8000-000000000000',
        periodEnd: trigger.periodEnd,
      }),
    ]);
    expect(names.size).toBe(4);
  });

  it('hashes meter ids that would make an invalid name', () => {
    const long = scheduleNameFor({
      meterId: `${meterId}/${meterId}`,
      periodEnd: trigger.periodEnd,
    });
    expect(long).toMatch(valid);
    expect(long.startsWith('peh-')).toBe(true);
  });

  it('rejects a periodEnd that is not a date-time', () => {
    expect(() => scheduleNameFor({ meterId, periodEnd: 'tomorrow' })).toThrow(RangeError);
  });
});
