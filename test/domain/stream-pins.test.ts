import { describe, expect, it } from 'vitest';
import {
  PIN_CLOCK_MARGIN_MS,
  pinnedVersion,
  planShardPins,
} from '../../shared/domain/stream-pins.js';

// Sequence numbers of different lengths: they compare as numbers, not as text.
const s = (n: number) => String(n);

describe('planShardPins', () => {
  it('pins the first batch of a shard to the current version from its first record', () => {
    expect(planShardPins(undefined, [s(95), s(100), s(120)], 1)).toEqual({
      write: { pins: [{ from: '95', version: 1 }], through: '120' },
      runs: [{ version: 1, start: 0, end: 3 }],
    });
  });

  it('keeps the pin that covers records at or below through, and pins the rest to a newer version', () => {
    const stored = { pins: [{ from: '95', version: 1 }], through: '120' };
    expect(planShardPins(stored, [s(100), s(120), s(130), s(1000)], 2)).toEqual({
      write: {
        pins: [
          { from: '95', version: 1 },
          { from: '130', version: 2 },
        ],
        through: '1000',
      },
      runs: [
        { version: 1, start: 0, end: 2 },
        { version: 2, start: 2, end: 4 },
      ],
    });
  });

  it('writes nothing for a batch entirely at or below through (a retry), whatever the current version', () => {
    const stored = { pins: [{ from: '95', version: 1 }], through: '120' };
    expect(planShardPins(stored, [s(100), s(120)], 7)).toEqual({
      runs: [{ version: 1, start: 0, end: 2 }],
    });
  });

  it('raises through without a new pin when the version is unchanged, or older than the latest pin', () => {
    const stored = { pins: [{ from: '95', version: 3 }], through: '120' };
    for (const current of [3, 2]) {
      expect(planShardPins(stored, [s(121)], current)).toEqual({
        write: { pins: [{ from: '95', version: 3 }], through: '121' },
        runs: [{ version: 3, start: 0, end: 1 }],
      });
    }
  });

  describe('pruning, when a pin is added', () => {
    const hour = 3_600_000;
    const retentionMs = 24 * hour;
    const margin = PIN_CLOCK_MARGIN_MS;

    it('stamps the new pin and drops the pins whose records the stream no longer holds', () => {
      const now = 100 * hour;
      // Pin 1 was followed by pin 2 more than the retention and the margin ago: no record it
      // covers can come again. Pin 2 was followed by pin 3 within them: it stays.
      const stored = {
        pins: [
          { from: '10', version: 1, at: 0 },
          { from: '20', version: 2, at: now - retentionMs - margin - 1 },
          { from: '30', version: 3, at: now - retentionMs - margin + 1 },
        ],
        through: '35',
      };
      expect(planShardPins(stored, [s(40)], 4, { now, retentionMs }).write).toEqual({
        pins: [
          { from: '20', version: 2, at: now - retentionMs - margin - 1 },
          { from: '30', version: 3, at: now - retentionMs - margin + 1 },
          { from: '40', version: 4, at: now },
        ],
        through: '40',
      });
    });

    it('keeps the latest pin however old, and prunes nothing when no pin is added', () => {
      const now = 1_000 * hour;
      const stored = {
        pins: [
          { from: '10', version: 1, at: 0 },
          { from: '20', version: 2, at: 1 },
        ],
        through: '25',
      };
      expect(planShardPins(stored, [s(30)], 2, { now, retentionMs }).write?.pins).toEqual(
        stored.pins,
      );
      expect(planShardPins(stored, [s(30)], 3, { now, retentionMs }).write?.pins).toEqual([
        { from: '20', version: 2, at: 1 },
        { from: '30', version: 3, at: now },
      ]);
    });

    it('bounds pins stored without a time by the next pin that has one', () => {
      const now = 1_000 * hour;
      const stored = {
        pins: [
          { from: '10', version: 1 },
          { from: '20', version: 2 },
          { from: '30', version: 3, at: 500 * hour },
          { from: '40', version: 4, at: now - hour },
        ],
        through: '45',
      };
      // Pins 1 and 2 were added before pin 3, which is older than the retention: both go.
      // Pin 3 stays (pin 4, after it, is recent).
      expect(
        planShardPins(stored, [s(50)], 5, { now, retentionMs }).write?.pins.map((p) => p.version),
      ).toEqual([3, 4, 5]);
      // Without a time after them, old pins stay.
      const legacy = {
        pins: [
          { from: '10', version: 1 },
          { from: '20', version: 2 },
        ],
        through: '25',
      };
      expect(
        planShardPins(legacy, [s(30)], 3, { now, retentionMs }).write?.pins.map((p) => p.version),
      ).toEqual([1, 2, 3]);
    });

    it('keeps a pin that routes a record of the batch, even when the retention says it expired', () => {
      // The stream keeps records 14 days, but ingestion was told 7 (retention changed outside
      // the stack): record 150, routed by version 1, comes again in a retry after 8 days.
      const stored = {
        pins: [
          { from: '100', version: 1, at: 0 },
          { from: '200', version: 2, at: hour },
        ],
        through: '300',
      };
      const plan = planShardPins(stored, [s(150), s(400)], 3, {
        now: 8 * 24 * hour,
        retentionMs: 7 * 24 * hour,
      });
      expect(plan.runs).toEqual([
        { version: 1, start: 0, end: 1 },
        { version: 3, start: 1, end: 2 },
      ]);
      expect(plan.write?.pins.map((p) => p.version)).toEqual([1, 2, 3]);
      // Without that record in the batch, pin 1 goes (pin 2 came more than 7 days + 1 h ago).
      const later = planShardPins(stored, [s(400)], 3, {
        now: 8 * 24 * hour,
        retentionMs: 7 * 24 * hour,
      });
      expect(later.write?.pins.map((p) => p.version)).toEqual([2, 3]);
    });

    it('keeps, over a year of irregular saves, the pin of every record the stream still holds', () => {
      // A seeded generator: the same year every run.
      let seed = 20261129;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const put: { seq: number; at: number }[] = [];
      const first = new Map<number, number>();
      let stored: ReturnType<typeof planShardPins>['write'];
      let version = 1;
      let maxPins = 0;
      let saves = 0;
      let seq = 1_000;
      for (let now = 0; now < 365 * 24 * hour; now += (10 + random() * 110) * 60_000) {
        // Saves come in bursts and lulls: every gap from minutes to days.
        if (random() < 0.15) {
          version++;
          saves++;
        }
        const fresh = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
          seq += 1 + Math.floor(random() * 5);
          put.push({ seq, at: now });
          return seq;
        });
        const batch = [...fresh];
        const live = put.filter((r) => now - r.at <= retentionMs && r.seq < (fresh[0] ?? 0));
        // A retry reaching back to a record the stream still holds, the oldest ones included.
        if (live.length > 0 && random() < 0.3) {
          const back = live[random() < 0.5 ? 0 : Math.floor(random() * live.length)];
          if (back) batch.unshift(back.seq);
        }
        const plan = planShardPins(stored, batch.map(s), version, { now, retentionMs });
        if (plan.write) stored = plan.write;
        maxPins = Math.max(maxPins, stored?.pins.length ?? 0);
        for (const run of plan.runs) {
          for (const n of batch.slice(run.start, run.end)) {
            expect(run.version, `record ${n}`).toBe(first.get(n) ?? run.version);
            first.set(n, run.version);
          }
        }
        // Any record still on the stream would be routed as it first was, were it delivered now.
        for (const record of live) {
          const routed = first.get(record.seq);
          if (routed === undefined) continue;
          expect(pinnedVersion(stored?.pins ?? [], s(record.seq)), `record ${record.seq}`).toBe(
            routed,
          );
        }
      }
      expect(saves).toBeGreaterThan(1_000);
      // Bounded by the saves within the retention and the margin, not by the year's saves.
      expect(maxPins).toBeLessThan(60);
    });
  });

  it('chooses the pin with the greatest from at or below a sequence number, numerically', () => {
    const pins = [
      { from: '9', version: 1 },
      { from: '10', version: 2 },
      { from: '100', version: 5 },
    ];
    expect([s(9), s(10), s(99), s(100), s(12345)].map((q) => pinnedVersion(pins, q))).toEqual([
      1, 2, 2, 5, 5,
    ]);
  });

  it('routes every attempt at a record by the same version, whatever the versions saved in between', () => {
    // Attempts over a stream of 1..60, retried from random points, with the version moving on.
    let stored: ReturnType<typeof planShardPins>['write'];
    const routed = new Map<number, number>();
    let version = 1;
    let position = 1;
    for (let step = 0; step < 200 && position <= 60; step++) {
      const batch = Array.from({ length: 5 }, (_, i) => position + i).filter((n) => n <= 60);
      const plan = planShardPins(stored, batch.map(s), version);
      if (plan.write) stored = plan.write;
      for (const run of plan.runs) {
        for (const n of batch.slice(run.start, run.end)) {
          if (routed.has(n)) expect(run.version, `record ${n}`).toBe(routed.get(n));
          routed.set(n, run.version);
        }
      }
      if (step % 3 === 0) version++;
      // Every other batch fails half-way and is retried from its middle.
      position = step % 2 === 0 ? position + 2 : position + 5;
    }
    expect(routed.size).toBe(60);
  });
});
