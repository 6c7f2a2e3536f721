/**
 * Which version of a stream's meter processor routes which record (DOMAIN.md "Streams"): the
 * version is pinned to the stream position, per shard, so every attempt at a record (first try,
 * Lambda retry after a partial failure, replay after a crash) routes it by the same version. Were
 * a retry to route by a newer version, records that some meters already applied could reach
 * meters of another category and be counted twice; per-meter shard positions cannot see that.
 * Pure.
 */
import { bareSequence, compareSequence } from './meter-usage.js';

/** From sequence number `from` on (until the next pin), records are routed by `version`. */
export interface ShardPin {
  from: string;
  version: number;
  /** When the pin was added, epoch ms (absent on pins stored before pins were pruned). */
  at?: number;
}

/** The pins of one shard and the highest sequence number any attempt has routed on it. */
export interface ShardPins {
  pins: ShardPin[];
  through: string;
}

/** A run of a batch's records (indexes `start` to `end - 1`) that one version routes. */
export interface VersionRun {
  version: number;
  start: number;
  end: number;
}

/**
 * How long after the stream's retention a pin is kept, for the difference between Kinesis's
 * clock and the Lambda's.
 */
export const PIN_CLOCK_MARGIN_MS = 60 * 60 * 1000;

/** The stream's retention and the time now, to prune pins no record can reach any more. */
export interface PinClock {
  now: number;
  /** How long the stream keeps a record, ms. */
  retentionMs: number;
}

/** What a batch needs before anything of it is applied. */
export interface PinPlan {
  /** The shard's pins to store first (conditional on the `through` read); none when unchanged. */
  write?: ShardPins;
  /** The batch's records in runs of one version each, in batch order. */
  runs: VersionRun[];
}

function compare(a: string, b: string): number {
  return compareSequence(bareSequence(a), bareSequence(b));
}

/**
 * The version that routes a record: the pin with the greatest `from` at or below its sequence
 * number (the first pin for a record before every pin, which a shard's history does not hold).
 */
export function pinnedVersion(pins: readonly ShardPin[], sequenceNumber: string): number {
  let chosen = pins[0];
  for (const pin of pins) {
    if (compare(pin.from, sequenceNumber) <= 0) chosen = pin;
    else break;
  }
  if (!chosen) throw new Error('a shard without pins routes nothing');
  return chosen.version;
}

/**
 * Plans a batch of one shard (its sequence numbers, in batch order) against the stored pins:
 * records at or below `through` keep the pin that covers them; records above it go by the latest
 * pin, or, when the current version is newer than the latest pin, by a new pin of the current
 * version from the first of them. The pins are written (raising `through`) whenever the batch
 * has records above `through`, so a later attempt at them finds their version.
 */
export function planShardPins(
  stored: ShardPins | undefined,
  sequenceNumbers: readonly string[],
  currentVersion: number,
  clock?: PinClock,
): PinPlan {
  const pins = stored?.pins ?? [];
  const through = stored?.through;
  let firstAbove: string | undefined;
  let highest: string | undefined;
  for (const seq of sequenceNumbers) {
    if (through !== undefined && compare(seq, through) <= 0) continue;
    if (firstAbove === undefined || compare(seq, firstAbove) < 0) firstAbove = seq;
    if (highest === undefined || compare(seq, highest) > 0) highest = seq;
  }
  let write: ShardPins | undefined;
  let next = pins;
  if (firstAbove !== undefined && highest !== undefined) {
    const latest = pins[pins.length - 1];
    if (!latest || currentVersion > latest.version) {
      const pin = { from: firstAbove, version: currentVersion };
      next = clock
        ? [...reachable(pins, clock, lowestOf(sequenceNumbers)), { ...pin, at: clock.now }]
        : [...pins, pin];
    }
    write = { pins: next, through: highest };
  }
  return write
    ? { write, runs: runsOf(next, sequenceNumbers) }
    : { runs: runsOf(next, sequenceNumbers) };
}

/**
 * The pins a record still on the stream may need. A pin covers the records from its `from` up
 * to the next pin's; each of those was on the stream before the next pin was added (that pin
 * starts at the first record above `through` of a batch read then). Once the stream's
 * retention (and a margin for the clocks) has passed since the next pin was added, none of
 * them can be delivered again, so the pin goes. Pins are added in time order, so the ones that
 * go are a prefix; the latest pin always stays. Pruning happens only when a pin is added, so it
 * costs no write of its own, and a shard keeps one pin per version saved within the retention.
 * Whatever the retention says, a pin that routes a record of the batch being planned (`lowest`
 * is its lowest sequence number) stays: a retry is made of records the stream still holds, so
 * a retention set too short (changed outside the stack) cannot misroute a retry.
 */
function reachable(
  pins: readonly ShardPin[],
  clock: PinClock,
  lowest: string | undefined,
): readonly ShardPin[] {
  // From the end: `added` is when the nearest later pin that knows its time was added (pins
  // stored before pins were pruned know none, and were added before it).
  let added: number | undefined;
  for (let next = pins.length - 1; next > 0; next--) {
    const pin = pins[next] as ShardPin;
    added = pin.at ?? added;
    const expired =
      added !== undefined && clock.now - added > clock.retentionMs + PIN_CLOCK_MARGIN_MS;
    // Cutting here drops the pins before `next`: none of them may route a record of the batch.
    if (expired && (lowest === undefined || compare(lowest, pin.from) >= 0)) {
      return pins.slice(next);
    }
  }
  return pins;
}

/** The lowest of a batch's sequence numbers (only needed when a pin is added, rarely). */
function lowestOf(sequenceNumbers: readonly string[]): string | undefined {
  let lowest: string | undefined;
  for (const seq of sequenceNumbers) {
    if (lowest === undefined || compare(seq, lowest) < 0) lowest = seq;
  }
  return lowest;
}

/** The batch cut into runs of consecutive records that one version routes. */
function runsOf(pins: readonly ShardPin[], sequenceNumbers: readonly string[]): VersionRun[] {
  const runs: VersionRun[] = [];
  sequenceNumbers.forEach((seq, index) => {
    const version = pinnedVersion(pins, seq);
    const last = runs[runs.length - 1];
    if (last && last.version === version) last.end = index + 1;
    else runs.push({ version, start: index, end: index + 1 });
  });
  return runs;
}
