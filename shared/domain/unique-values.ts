/**
 * Unique counts (DOMAIN.md "Aggregations beyond UE"): a `unique` meter counts the distinct values
 * of one record field per period, and per group when the guiding rule groups. Each distinct value
 * of a period (and of a group in it) is claimed once, in the same all-or-nothing write that adds
 * it to the meter, so a claim exists exactly when its value is counted: a crash can never leave
 * one without the other, and a value seen again in any batch, on any shard, after any retry,
 * finds its claim and adds nothing. This module: the value a record brings, the claim keys, when
 * claims lapse, which records of a batch bring new values (within the type's `maxDistinct`), and
 * what each record adds. Pure.
 */
import { groupKey } from './aggregation.js';
import type { Decision, Refusal, SequencedRecord } from './ingest-decision.js';
import { placementIn } from './ingest-decision.js';
import { DEFAULT_MAX_DISTINCT } from './meter-type-schemas.js';
import type { MeterState, PeriodPlacement } from './meter-usage.js';
import { appliedSequence, compareSequence, epochMillis, periodTotals } from './meter-usage.js';
import { uniqueValueOf } from './unique-field.js';

/** Claims one all-or-nothing write may add besides the meter (DynamoDB: 100 items a transaction). */
export const MAX_CLAIMS_PER_WRITE = 99;

/** How long after the last moment its period can take a record a claim is kept. */
const CLAIM_MARGIN_SECONDS = 7 * 86_400;
/** Claims of the next period (its end is not known yet) are kept this much longer. */
const NEXT_PERIOD_ALLOWANCE_SECONDS = 400 * 86_400;

/** A claim on one distinct value of one period of a meter (the period's, or one group's). */
export interface UniqueClaim {
  /** Deterministic: the same value of the same period and group always has the same key. */
  key: string;
  meterId: string;
  periodStart: string;
  /** Epoch seconds after which the store may delete the claim. */
  expiresAt: number;
}

/** The key of the claim on a value in a period of a meter, and in one group when given. */
export function uniqueClaimKey(
  meterId: string,
  periodStart: string,
  valueKey: string,
  group?: string,
): string {
  return JSON.stringify(
    group === undefined
      ? [meterId, periodStart, valueKey]
      : [meterId, periodStart, valueKey, group],
  );
}

/** The start of the period a placement counts in: the open one, or (for `next`) the one after. */
function periodStartOf(meter: MeterState, placement: PeriodPlacement): string {
  return placement === 'next' ? meter.periodEnd : meter.periodStart;
}

/**
 * When a claim lapses, in epoch seconds: a week after its period can take no more records (end
 * plus grace). A claim of the next period, whose end is not known yet, is kept 400 days longer.
 */
export function uniqueClaimExpiry(meter: MeterState, placement: PeriodPlacement): number {
  const closable =
    Math.ceil(epochMillis(meter.periodEnd) / 1000) + meter.meterType.gracePeriodSeconds;
  const allowance = placement === 'next' ? NEXT_PERIOD_ALLOWANCE_SECONDS : 0;
  return closable + CLAIM_MARGIN_SECONDS + allowance;
}

/** Whether a record adds a new value to its period's count, and to its group's. */
export interface UniqueNovelty {
  total: boolean;
  group: boolean;
}

/** For one unique meter: by record index, the records that bring a new value (absent: none). */
export type UniqueNews = ReadonlyMap<number, UniqueNovelty>;

/** What record `index` adds to a unique meter: to the period's count, and to its group's. */
export function uniqueContribution(
  news: UniqueNews | undefined,
  index: number,
): { value: string; groupValue: string } {
  const novelty = news?.get(index);
  return { value: novelty?.total ? '1' : '0', groupValue: novelty?.group ? '1' : '0' };
}

/** A record of the batch that a unique meter takes, with the claims it would make. */
export interface UniqueCandidate {
  index: number;
  placement: PeriodPlacement;
  total: UniqueClaim;
  group?: UniqueClaim;
}

/**
 * The records of the batch the unique meter takes beyond its position for the shard, in sequence
 * order, each with the claims its value would make. Their keys are what to look up.
 */
export function uniqueCandidates(
  meter: MeterState,
  shardId: string,
  records: readonly SequencedRecord[],
  decisions: readonly Decision[],
): UniqueCandidate[] {
  const field = meter.meterType.aggregation.field;
  if (meter.meterType.aggregation.type !== 'unique' || field === undefined) return [];
  const applied = appliedSequence(meter, shardId);
  const candidates: UniqueCandidate[] = [];
  for (let i = 0; i < records.length; i++) {
    const decision = decisions[i];
    if (decision?.kind !== 'apply') continue;
    const placement = placementIn(decision.targets, meter.id);
    const { record, seq } = records[i] as SequencedRecord;
    if (placement === undefined || compareSequence(seq, applied) <= 0) continue;
    const value = uniqueValueOf(field, record.fields);
    // `decide` refused records without a usable value; a record here always has one.
    if (!value.ok) continue;
    const periodStart = periodStartOf(meter, placement);
    const claim = (group?: string): UniqueClaim => ({
      key: uniqueClaimKey(meter.id, periodStart, value.key, group),
      meterId: meter.id,
      periodStart,
      expiresAt: uniqueClaimExpiry(meter, placement),
    });
    candidates.push({
      index: i,
      placement,
      total: claim(),
      group: decision.groupValues ? claim(groupKey(decision.groupValues)) : undefined,
    });
  }
  return candidates;
}

/** Which records bring new values, the claims they make (by record index), and who is over the limit. */
export interface UniquePlan {
  news: Map<number, UniqueNovelty>;
  claims: Map<number, UniqueClaim[]>;
  /** Records whose new value the period has no room for, and why. */
  over: Map<number, Refusal>;
}

/**
 * Decides, in sequence order, which candidates bring a value new to their period (no claim
 * `held`, none earlier in the batch) and to their group. A new value beyond the type's
 * `maxDistinct` for its period is refused (the record goes to data correction); a value already
 * counted is always taken, since it adds nothing. So is a record another meter already took in
 * an attempt that then met a conflict (`taken`, by index): refusing it now would count it in
 * that meter and correct it too, so the period goes past maxDistinct instead.
 */
export function planUnique(
  meter: MeterState,
  candidates: readonly UniqueCandidate[],
  held: ReadonlySet<string>,
  taken: ReadonlySet<number> = new Set(),
): UniquePlan {
  const plan: UniquePlan = { news: new Map(), claims: new Map(), over: new Map() };
  const max = meter.meterType.aggregation.maxDistinct ?? DEFAULT_MAX_DISTINCT;
  const type = meter.meterType.aggregation.type;
  const counted = {
    current: Number(periodTotals(type, meter.usage).agg.value ?? '0'),
    next: Number(periodTotals(type, meter.next).agg.value ?? '0'),
  };
  const seen = new Set<string>();
  const isNew = (claim: UniqueClaim | undefined) =>
    claim !== undefined && !held.has(claim.key) && !seen.has(claim.key);
  for (const { index, placement, total, group } of candidates) {
    const period = placement === 'next' ? 'next' : 'current';
    const newTotal = isNew(total);
    if (newTotal && counted[period] >= max && !taken.has(index)) {
      plan.over.set(index, {
        kind: 'correct',
        reason: 'UNIQUE_LIMIT_EXCEEDED',
        message: `meter ${meter.id} already counts ${max} distinct values (maxDistinct) in the period of this record`,
        meterIds: [meter.id],
      });
      continue;
    }
    const newGroup = isNew(group);
    const claims: UniqueClaim[] = [];
    if (newTotal) {
      counted[period]++;
      seen.add(total.key);
      claims.push(total);
    }
    if (newGroup && group) {
      seen.add(group.key);
      claims.push(group);
    }
    if (claims.length > 0) {
      plan.news.set(index, { total: newTotal, group: newGroup });
      plan.claims.set(index, claims);
    }
  }
  return plan;
}

/**
 * Splits the records up to `end` into consecutive runs whose claims fit one write each: the
 * exclusive end index of each run, the last being `end`. A run never splits a record's claims.
 */
export function claimRuns(
  claims: ReadonlyMap<number, readonly UniqueClaim[]>,
  end: number,
): number[] {
  const ends: number[] = [];
  let inRun = 0;
  const indices = [...claims.keys()].sort((a, b) => a - b);
  for (const index of indices) {
    const count = claims.get(index)?.length ?? 0;
    if (inRun + count > MAX_CLAIMS_PER_WRITE) {
      ends.push(index);
      inRun = 0;
    }
    inRun += count;
  }
  ends.push(end);
  return ends;
}
