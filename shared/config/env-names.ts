/**
 * Names of the environment variables the Lambdas read. The CDK code sets them and the
 * runtime parses them from this one list, so the two cannot drift.
 */
export const ENV = {
  tableName: 'METERING_TABLE_NAME',
  streamsConfig: 'STREAMS_CONFIG',
  streamNames: 'STREAM_NAMES',
  scheduleFlexibleWindowMinutes: 'SCHEDULE_FLEXIBLE_WINDOW_MINUTES',
  scheduleGroupName: 'SCHEDULE_GROUP_NAME',
  resetFunctionArn: 'RESET_FUNCTION_ARN',
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  scheduleDeadLetterQueueArn: 'SCHEDULE_DLQ_ARN',
  destinationKind: 'DESTINATION_KIND',
  destinationArn: 'DESTINATION_ARN',
  destinationQueueUrl: 'DESTINATION_QUEUE_URL',
  historyRetentionDays: 'HISTORY_RETENTION_DAYS',
  streamRetentionHours: 'STREAM_RETENTION_HOURS',
} as const;
