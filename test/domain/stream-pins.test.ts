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

    it('routes every record still on the stream by its first version, over a year of saves', () => {
      // A save every 6 hours, a batch every hour, retries reaching back up to the retention.
      let stored: ReturnType<typeof planShardPins>['write'];
      const routed = new Map<number, { version: number; at: number }>();
      let version = 1;
      let maxPins = 0;
      for (let t = 0; t < 365 * 24; t++) {
        const now = t * hour;
        if (t % 6 === 0) version++;
        const fresh = [t * 10, t * 10 + 1];
        // A retry of records put up to the retention ago (a record put at hour r is 10r).
        const back = Math.max(0, t - ((t * 7) % 24));
        const batch = [back * 10, ...fresh];
        const plan = planShardPins(stored, batch.map(s), version, { now, retentionMs });
        if (plan.write) stored = plan.write;
        maxPins = Math.max(maxPins, stored?.pins.length ?? 0);
        for (const run of plan.runs) {
          for (const n of batch.slice(run.start, run.end)) {
            const first = routed.get(n);
            if (first) expect(run.version, `record ${n} at hour ${t}`).toBe(first.version);
            else routed.set(n, { version: run.version, at: now });
          }
        }
      }
      // One pin per save within the retention and the margin, plus the one before them.
      expect(maxPins).toBeLessThanOrEqual(Math.ceil((retentionMs + margin) / (6 * hour)) + 2);
      expect(stored?.pins.length).toBeGreaterThan(1);
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
