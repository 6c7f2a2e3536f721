import { describe, expect, it } from 'vitest';
import { pinnedVersion, planShardPins } from '../../shared/domain/stream-pins.js';

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
