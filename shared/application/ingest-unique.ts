/**
 * Unique meters in ingestion (domain/unique-values.ts): before anything of an attempt is written,
 * look up which of the batch's values each unique meter already counts, refuse new values past
 * the type's `maxDistinct`, and say which records bring new values; then write each unique meter
 * by version in runs whose claims fit one all-or-nothing write. A run that meets a conflict
 * starts the attempt over; runs written before it are skipped by the meter's shard position.
 */
import type { Decision } from '../domain/ingest-decision.js';
import type { MeterState } from '../domain/meter-usage.js';
import { shardShareOf, withShardShare } from '../domain/shard-share.js';
import {
  claimRuns,
  planUnique,
  type UniqueClaim,
  type UniquePlan,
  uniqueCandidates,
} from '../domain/unique-values.js';
import type { UniqueValueClaims } from '../ports/unique-claims.js';
import type { Entry } from './ingest-decode.js';

/** No unique meter, no plans. */
export const NO_PLANS: ReadonlyMap<string, UniquePlan> = new Map();

const isUnique = (meter: MeterState) => meter.meterType.aggregation.type === 'unique';

/**
 * The plan of every unique meter among `meters` for this attempt, by meter id. A record refused
 * by one meter's `maxDistinct` has its decision turned into that refusal, and the others are
 * planned again without it; a record a meter `taken` in an earlier attempt is never refused.
 */
export async function planUniqueMeters(
  claims: UniqueValueClaims,
  meters: readonly MeterState[],
  shardId: string,
  entries: readonly Entry[],
  decisions: Decision[],
  taken?: (index: number) => boolean,
): Promise<ReadonlyMap<string, UniquePlan>> {
  if (!meters.some(isUnique)) return NO_PLANS;
  const unique = meters.filter(isUnique);
  const candidatesOf = () =>
    unique.map((meter) => uniqueCandidates(meter, shardId, entries, decisions));
  let candidates = candidatesOf();
  const keys = new Set<string>();
  for (const list of candidates) {
    for (const candidate of list) {
      keys.add(candidate.total.key);
      if (candidate.group) keys.add(candidate.group.key);
    }
  }
  const held = await claims.heldUniqueClaims([...keys]);
  for (;;) {
    const plans = new Map<string, UniquePlan>();
    let refused = false;
    unique.forEach((meter, m) => {
      const plan = planUnique(meter, candidates[m] ?? [], held, taken);
      plans.set(meter.id, plan);
      for (const [index, refusal] of plan.over) {
        if (decisions[index]?.kind !== 'apply') continue;
        decisions[index] = refusal;
        refused = true;
      }
    });
    // Refusals only ever grow, so this ends; a refused record may have been new to another meter.
    if (!refused) return plans;
    candidates = candidatesOf();
  }
}

/** A unique meter written (`wrote`: something changed), or a conflict (after some runs: `conflict`). */
export type UniqueWriteResult =
  | 'conflict'
  | { wrote: boolean; state: MeterState; conflict?: boolean };

/**
 * Writes a unique meter's share of the batch with its claims, by version (`version`: the meter's
 * as read), in as many runs as its claims need. `closed`: the meter was closed in memory and is
 * written even without a share.
 */
export async function writeUniqueMeter(
  writer: UniqueValueClaims,
  meter: MeterState,
  version: number,
  closed: boolean,
  batch: { shardId: string; entries: readonly Entry[]; decisions: readonly Decision[] },
  plan: UniquePlan | undefined,
  now: Date,
): Promise<UniqueWriteResult> {
  const { shardId, entries, decisions } = batch;
  const claims = plan?.claims ?? new Map<number, UniqueClaim[]>();
  let state: MeterState = meter;
  let start = 0;
  for (const [run, end] of claimRuns(claims, entries.length).entries()) {
    const share = shardShareOf(meter, shardId, entries.slice(0, end), decisions, plan?.news);
    if (share === undefined && !closed) return { wrote: false, state: meter };
    const next = withShardShare(meter, shardId, share, now);
    const runClaims: UniqueClaim[] = [];
    for (const [index, list] of claims) if (index >= start && index < end) runClaims.push(...list);
    if (!(await writer.replaceMeterClaiming(next, version + run, runClaims))) {
      return run === 0 ? 'conflict' : { wrote: true, state, conflict: true };
    }
    state = { ...next, version: version + run + 1 };
    start = end;
  }
  return { wrote: true, state };
}
