/**
 * The worked month-end model (docs/benchmarks.md): N meters whose periods end at the same instant,
 * one EventBridge Scheduler one-time schedule per meter period, each firing one reset
 * invocation (one `flushMeter`). Pure arithmetic on the measured flush rate.
 */
import { int, markdownTable } from './report.js';

/** Default quotas to plan against (AWS documentation, EventBridge Scheduler and Lambda quotas). */
export const QUOTAS = {
  schedulerInvocationsPerSecond: 1_000,
  schedulesPerRegion: 10_000_000,
  lambdaConcurrency: 1_000,
  flexibleWindowMaxMinutes: 1_440,
};

export interface MonthEndInput {
  /** Measured: flushes per second of one flush at a time (one Lambda concurrency unit). */
  flushesPerSecondPerUnit: number;
  /** Measured: flushes per second of one sweeper run (sweepDueMeters) and its settings. */
  sweepFlushesPerSecond: number;
  sweepLimit: number;
  sweepConcurrency: number;
  /** Measured: write capacity units per flush by table and index name. */
  unitsPerFlush?: Record<string, number>;
}

export function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 2 * 3600) return `${(seconds / 60).toFixed(0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function millions(n: number): string {
  return `${int(n / 1e6)} million`;
}

export function monthEndRows(input: MonthEndInput, sizes = [1e6, 1e7, 1e8]) {
  const rate = QUOTAS.schedulerInvocationsPerSecond;
  const unit = input.flushesPerSecondPerUnit;
  return sizes.map((n) => {
    const atDefault = n / rate;
    const within1h = n / 3600;
    const within24h = n / (QUOTAS.flexibleWindowMaxMinutes * 60);
    return {
      n,
      cells: [
        millions(n),
        duration(atDefault),
        `${int(Math.ceil(rate / unit))}`,
        `${int(within1h)}/s → ${within1h <= rate ? 'fits the default' : `raise to ≥ ${int(Math.ceil(within1h))}/s`}; ${int(Math.ceil(within1h / unit))} concurrency`,
        `${int(within24h)}/s → ${within24h <= rate ? 'fits the default' : `raise to ≥ ${int(Math.ceil(within24h))}/s`}`,
        n > QUOTAS.schedulesPerRegion
          ? `${int(n / 1e6)}M schedules > 10M per Region: raise the quota`
          : 'within 10M schedules',
      ],
    };
  });
}

function dynamoBullet(units: Record<string, number> | undefined): string {
  const table = units?.table ?? 0;
  const due = units?.gsi2 ?? 0;
  const list = units?.gsi1 ?? 0;
  const measured = units
    ? `measured ${table.toFixed(1)} WCU on the table, ${list.toFixed(1)} on the list index (gsi1) and ${due.toFixed(1)} on the due index (gsi2) per flush`
    : 'write units per flush not measured';
  const dueLimit = due > 0 ? `about ${int((16 * 1000) / due)} flushes/s` : 'n/a';
  const listLimit = list > 0 ? `about ${int(1000 / list)} flushes/s` : 'n/a';
  return `- **DynamoDB**: each flush rewrites the meter item twice (close the period, then remove the sent record from the outbox): ${measured}. The due index has 16 partition keys, so at 1,000 WCU/s per partition it takes ${dueLimit} before those keys throttle; ${list > 0 ? `the list index (one partition key, \`M\`) takes a copy of every meter write and caps at ${listLimit} until DynamoDB splits that key for heat` : 'the list index carries only keys and filter attributes, which a flush does not change, so flushes never write it'} (estimates from the key design and the measured units, not measured throttling). Budget the table's on-demand write quota at the invocation rate × the units above.`;
}

/** The markdown block: the model table and what to raise or spread. */
export function monthEndBlock(input: MonthEndInput): string {
  const unit = input.flushesPerSecondPerUnit;
  const msPerFlush = 1000 / unit;
  const table = markdownTable(
    [
      'meters ending at once',
      'time to flush all at 1,000 invocations/s (default)',
      'Lambda concurrency for 1,000/s',
      'to finish within 1 h (flexible window 60 min)',
      'spread over the maximum flexible window (24 h)',
      'schedules quota',
    ],
    monthEndRows(input).map((row) => row.cells),
  );
  const sweepRun = input.sweepLimit / input.sweepFlushesPerSecond;
  return [
    '**Month-end model.** Every meter period has one EventBridge Scheduler one-time schedule, and each firing is one reset invocation that flushes one meter (close the period, send the final record, register the next schedule). When N meters end at the same instant (monthly on the 1st at 00:00 in one time zone), the Scheduler invocation quota (default 1,000 per second per Region, adjustable) sets the pace: N / 1,000 seconds.',
    '',
    table,
    '',
    `- **Measured flush cost** (section 4, DynamoDB Local on this machine): ${int(unit)} flushes/s for one flush at a time (${msPerFlush.toFixed(1)} ms each), so one Lambda concurrency unit keeps up with ${int(unit)} invocations/s and 1,000 invocations/s need about ${int(Math.ceil(1000 / unit))} concurrent executions (concurrency = rate × duration). In AWS a flush also calls SQS/SNS and CreateSchedule for the next period, which the bench replaces with in-memory stand-ins; at an assumed 80 ms per flush, 1,000/s needs about 80 concurrent executions, still well inside the default 1,000 Lambda concurrency.`,
    '- **Spread**: the period-end schedules have a flexible time window, 15 minutes by default (`periodEndWindow`, `-c periodEndWindowMinutes=`, 0–1,440), and the sweeper waits as long before it takes an overdue meter over. Counting does not depend on when the reset fires: record time decides the period, and ingestion closes an overdue period on the way, so a later firing only sends the final record later.',
    '- **Raise**: the Scheduler invocations quota (for 10 million meters within an hour ≥ 2,778/s; for 100 million even a 24 h window needs ≥ 1,158/s), the schedules-per-Region quota (10 million by default; 100 million meters need 100 million live schedules), the CreateSchedule request quota (each flush creates the next schedule, so it runs at the invocation rate), and Lambda concurrency when the invocation rate × flush duration nears 1,000.',
    `- **Sweeper**: one run flushes at most \`limit\` meters (${int(input.sweepLimit)}) with ${input.sweepConcurrency} at a time: measured ${int(input.sweepFlushesPerSecond)} flushes/s, so a run takes about ${sweepRun.toFixed(1)} s locally. As a safety net it would take ${duration((1e6 / input.sweepLimit) * 60)} to clear 1 million overdue meters at one run per minute; raise its limit and concurrency, or run one sweeper per due-index partition (16), if it is ever meant to carry a month end.`,
    dynamoBullet(input.unitsPerFlush),
  ].join('\n');
}
