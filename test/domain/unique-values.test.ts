/** The rules of unique counts without a store: values, claim keys, plans, runs and expiry. */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../shared/domain/ingest-decision.js';
import { sequenceKey } from '../../shared/domain/meter-usage.js';
import { shardShareOf } from '../../shared/domain/shard-share.js';
import { uniqueValueOf } from '../../shared/domain/unique-field.js';
import {
  claimRuns,
  MAX_CLAIMS_PER_WRITE,
  planUnique,
  type UniqueClaim,
  uniqueCandidates,
  uniqueClaimExpiry,
  uniqueClaimKey,
} from '../../shared/domain/unique-values.js';
import { at, meterState, slotOf } from '../support/meter-states.js';

const SHARD = 'shardId-000000000000';
const unique = (maxDistinct = 100) =>
  meterState({
    seq: { [SHARD]: sequenceKey('1') },
    meterType: { aggregation: { type: 'unique', field: 'device.id', maxDistinct } },
  });
const entry = (seq: string, device: unknown, iso = '2025-01-15T00:00:00Z') => ({
  seq,
  record: { userId: 'u1', usageTime: at(iso), fields: { device: { id: device } } },
});

describe('uniqueValueOf', () => {
  it('keeps the type of a value and refuses what is not a scalar, naming the field', () => {
    expect(uniqueValueOf('d', { d: '7' })).toEqual({ ok: true, key: '"7"' });
    expect(uniqueValueOf('d', { d: 7 })).toEqual({ ok: true, key: '7' });
    expect(uniqueValueOf('d', { d: -0 })).toEqual({ ok: true, key: '0' });
    expect(uniqueValueOf('d', { d: false })).toEqual({ ok: true, key: 'false' });
    for (const bad of [undefined, null, {}, [], Number.NaN]) {
      const result = uniqueValueOf('d', { d: bad });
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.message).toMatch(/^d: /);
    }
  });
});

describe('planUnique', () => {
  const to = (
    meter: ReturnType<typeof unique>,
    placement: 'current' | 'next' | 'late',
  ): Decision => ({
    kind: 'apply',
    targets: [{ meter, placement }],
  });

  it('takes a value once per period, skips what was applied or is held, and counts toward maxDistinct', () => {
    const meter = unique(3);
    const records = [
      entry('1', 'applied-before'),
      entry('2', 'a'),
      entry('3', 'a'),
      entry('4', 'held'),
      entry('5', 'b'),
      entry('6', 'c'),
      entry('7', 'd'),
      entry('8', 'a', '2025-02-01T00:10:00Z'),
    ];
    const decisions = records.map((_, i) => to(meter, i === 7 ? 'next' : 'current'));
    const candidates = uniqueCandidates(meter, SHARD, records, decisions);
    expect(candidates.map((c) => c.index)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const held = new Set([uniqueClaimKey('m1', meter.periodStart, '"held"')]);
    const plan = planUnique(meter, candidates, held);
    // a, b, c are new in January; d is past maxDistinct 3; a again in February is new there.
    expect([...plan.news.keys()]).toEqual([1, 4, 5, 7]);
    expect([...plan.over.keys()]).toEqual([6]);
    expect(plan.over.get(6)).toMatchObject({ reason: 'UNIQUE_LIMIT_EXCEEDED', meterIds: ['m1'] });
    expect(plan.claims.get(7)?.[0]?.periodStart).toBe(meter.periodEnd);

    const share = shardShareOf(meter, SHARD, records, decisions, plan.news);
    expect(share?.currentSlot?.agg).toMatchObject({ value: '3', count: 6 });
    expect(share?.nextSlot?.agg).toMatchObject({ value: '1', count: 1 });
  });

  it('counts against what the period already holds', () => {
    const meter = {
      ...unique(2),
      usage: { shards: { other: slotOf('unique', '2', 5) }, fired: [] },
    };
    const records = [entry('2', 'new')];
    const plan = planUnique(
      meter,
      uniqueCandidates(meter, SHARD, records, [to(meter, 'current')]),
      new Set(),
    );
    expect([...plan.over.keys()]).toEqual([0]);
  });

  it('claims a value per group as well as per period', () => {
    const meter = unique();
    const grouped = (region: string): Decision => ({
      kind: 'apply',
      targets: [{ meter, placement: 'current' }],
      groupValues: { region },
    });
    const records = [entry('2', 'a'), entry('3', 'a'), entry('4', 'a')];
    const decisions = [grouped('eu'), grouped('us'), grouped('eu')];
    const plan = planUnique(meter, uniqueCandidates(meter, SHARD, records, decisions), new Set());
    expect(plan.news.get(0)).toEqual({ total: true, group: true });
    expect(plan.news.get(1)).toEqual({ total: false, group: true });
    expect(plan.news.has(2)).toBe(false);
    const share = shardShareOf(meter, SHARD, records, decisions, plan.news);
    expect(share?.currentSlot?.agg.value).toBe('1');
    expect(Object.values(share?.currentSlot?.agg.groups ?? {}).map((g) => g.value)).toEqual([
      '1',
      '1',
    ]);
  });
});

describe('claimRuns', () => {
  const claim = (key: string): UniqueClaim => ({
    key,
    meterId: 'm',
    periodStart: 'p',
    expiresAt: 1,
  });

  it('cuts runs at record boundaries so no run holds more than 99 claims', () => {
    const claims = new Map<number, UniqueClaim[]>();
    for (let i = 0; i < 250; i++) claims.set(i * 2, [claim(`t${i}`), claim(`g${i}`)]);
    const ends = claimRuns(claims, 600);
    expect(ends.at(-1)).toBe(600);
    let start = 0;
    for (const end of ends) {
      const inRun = [...claims].filter(([i]) => i >= start && i < end).flatMap(([, c]) => c);
      expect(inRun.length).toBeLessThanOrEqual(MAX_CLAIMS_PER_WRITE);
      start = end;
    }
    expect(ends).toHaveLength(Math.ceil(500 / 98));
  });

  it('is one run when there are no claims', () => {
    expect(claimRuns(new Map(), 7)).toEqual([7]);
  });
});

describe('uniqueClaimExpiry', () => {
  it('keeps a claim a week past end plus grace, and a next-period claim 3,000 days longer', () => {
    const meter = unique();
    const end = Date.parse(meter.periodEnd) / 1000 + meter.meterType.gracePeriodSeconds;
    expect(uniqueClaimExpiry(meter, 'current')).toBe(end + 7 * 86_400);
    expect(uniqueClaimExpiry(meter, 'late')).toBe(end + 7 * 86_400);
    expect(uniqueClaimExpiry(meter, 'next')).toBe(end + 3_007 * 86_400);
  });
});
