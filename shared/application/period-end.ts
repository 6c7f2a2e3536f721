/**
 * Period end: close due periods, send every record waiting in a meter's outbox, and register
 * the next period end (DESIGN.md 2.3, 2.4, 2.5). The scheduled reset, the safety-net sweeper
 * and the prompt partial-push sender all run the same `flushMeter`; it is idempotent, so a
 * schedule that fires twice, late, or for a period already closed does no harm, and a crash
 * anywhere only means the same records (same recordIds) are sent again.
 */
import { PublishFailedError } from '../domain/errors.js';
import type { MeterType } from '../domain/meter.js';
import { periodEndFireAt } from '../domain/meter.js';
import type { CarryFields, MeterState } from '../domain/meter-usage.js';
import { closableAt, closePeriod } from '../domain/meter-usage.js';
import { canonicalMeteredRecord, type MeteredRecord } from '../domain/metered-record.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { PeriodEndScheduler } from '../ports/period-end-scheduler.js';
import type { PeriodEndStore } from '../ports/period-end-store.js';
import type { RecordHistoryWriter } from '../ports/record-history.js';
import type { MeteredRecordPublisher } from '../ports/record-publisher.js';
import { forEachLimited } from './concurrency.js';

export interface PeriodEndDeps {
  store: PeriodEndStore;
  publisher: MeteredRecordPublisher;
  /** Where every record is kept before it is sent (DESIGN.md 2.8). */
  history: RecordHistoryWriter;
  scheduler: PeriodEndScheduler;
  /** The meter type's current settings: a schedule or time-zone change applies from the next period. */
  meterType: (id: string) => Promise<MeterType | undefined>;
  /** Streams, for the carry fields of a meter key. */
  streams: readonly StreamConfig[];
  /**
   * The carry fields of a meter key's stream as its processor says now (stored processors);
   * the deployed `streams` when absent.
   */
  carryFields?: (meterKey: string) => Promise<CarryFields | undefined>;
  now: () => Date;
  /**
   * How long the sweeper leaves an overdue meter to its schedule before it takes it over: the
   * schedules' flexible window, so the sweeper does not undo the spreading. @default 0
   */
  sweepDelayMs?: number;
}

export interface FlushResult {
  status: 'flushed' | 'gone';
  periodsClosed: number;
  sent: number;
  deleted: boolean;
}

const MAX_ATTEMPTS = 10;

async function carryOf(deps: PeriodEndDeps, meterKey: string): Promise<CarryFields | undefined> {
  if (deps.carryFields) return deps.carryFields(meterKey);
  return deps.streams.find((stream) => stream.meterKey === meterKey);
}

/** Oldest period first, partial pushes before the final record of their period. */
function sendingOrder(a: MeteredRecord, b: MeteredRecord): number {
  if (a.periodStart !== b.periodStart) return a.periodStart < b.periodStart ? -1 : 1;
  if (a.recordType !== b.recordType) return a.recordType === 'partial' ? -1 : 1;
  return a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0;
}

/**
 * Flushes one meter.
 * 1. Read it (live, or deleted through the API and not yet flushed).
 * 2. While its period end plus grace has passed: close the period (due thresholds, then the
 *    final record, into the outbox) and open the next with the type's current schedule, in one
 *    version-conditioned write; on a conflict read again.
 * 3. Keep everything in the outbox in the history (one batch write, idempotent), then send
 *    it; remove what was sent. A crash after keeping re-keeps the same bytes and sends again.
 * 4. Register the end of the open period with the scheduler (idempotent).
 * 5. A meter deleted through the API, or with deleteOnReset, is removed once all is sent.
 * Throws PublishFailedError when something could not be sent (it stays in the outbox).
 */
export async function flushMeter(deps: PeriodEndDeps, meterId: string): Promise<FlushResult> {
  const now = deps.now();
  let meter = await deps.store.findById(meterId);
  if (!meter) return { status: 'gone', periodsClosed: 0, sent: 0, deleted: false };
  let periodsClosed = 0;
  for (let attempt = 1; now.getTime() >= closableAt(meter); attempt++) {
    if (attempt > MAX_ATTEMPTS)
      throw new Error(`meter ${meterId} kept changing while its period was closed`);
    const type = await deps.meterType(meter.meterTypeId);
    const rule = {
      resetSchedule: type?.resetSchedule ?? meter.meterType.resetSchedule,
      timezone: type?.timezone ?? meter.meterType.timezone,
    };
    const carry = await carryOf(deps, meter.meterKey);
    const closed: MeterState = closePeriod(meter, now, rule, carry).state;
    if (await deps.store.replaceMeter(closed, meter.version)) {
      meter = { ...closed, version: meter.version + 1 };
      periodsClosed++;
    } else {
      meter = await deps.store.findById(meterId);
      if (!meter) return { status: 'gone', periodsClosed, sent: 0, deleted: false };
    }
  }

  // Canonical, so the history and the destination get the same bytes on every retry.
  const records = Object.values(meter.outbox).map(canonicalMeteredRecord).sort(sendingOrder);
  let sent = 0;
  let failed: { recordId: string; error: string }[] = [];
  if (records.length > 0) {
    await deps.history.keep(records);
    const result = await deps.publisher.publish(records);
    sent = result.sent.length;
    failed = result.failed;
    meter = (await deps.store.removeFromOutbox(meter, result.sent, now)) ?? meter;
  }

  if (meter.endedAt === undefined) {
    await deps.scheduler.schedulePeriodEnd(
      { meterId, periodEnd: meter.periodEnd },
      periodEndFireAt(meter.periodEnd, meter.meterType.gracePeriodSeconds),
    );
  }

  let deleted = false;
  const removable = meter.retiredAt !== undefined || meter.deleteOnReset;
  if (
    meter.endedAt !== undefined &&
    removable &&
    Object.keys(meter.outbox).length === 0 &&
    failed.length === 0
  ) {
    deleted = await deps.store.deleteMeter(meter);
  }
  if (failed.length > 0) throw new PublishFailedError(meterId, failed);
  return { status: 'flushed', periodsClosed, sent, deleted };
}

export interface SweepResult {
  due: number;
  flushed: number;
  failed: { meterId: string; error: string }[];
}

/**
 * The safety net: flushes every meter whose period end plus grace has passed, or whose outbox
 * has waited a few minutes (each plus `sweepDelayMs`), so a lost schedule or a failed prompt
 * send delays a record but never loses it.
 */
export async function sweepDueMeters(
  deps: PeriodEndDeps,
  limit = 500,
  concurrency = 8,
): Promise<SweepResult> {
  const dueBy = new Date(deps.now().getTime() - (deps.sweepDelayMs ?? 0));
  const ids = await deps.store.dueMeterIds(dueBy, limit);
  const result: SweepResult = { due: ids.length, flushed: 0, failed: [] };
  await forEachLimited(ids, concurrency, async (meterId) => {
    try {
      await flushMeter(deps, meterId);
      result.flushed++;
    } catch (error) {
      result.failed.push({
        meterId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });
  return result;
}

/**
 * Sends, promptly, what ingestion just put into outboxes (partial pushes, periods closed on the
 * way). Failures are reported, not thrown: the records stay in the outbox for the sweeper.
 */
export async function flushAfterIngest(
  deps: PeriodEndDeps,
  meterIds: readonly string[],
  onError: (meterId: string, error: unknown) => void,
): Promise<void> {
  await forEachLimited([...new Set(meterIds)], 4, async (meterId) => {
    try {
      await flushMeter(deps, meterId);
    } catch (error) {
      onError(meterId, error);
    }
  });
}
