/** De-duplication rules around the event-id claims (no store). */
import { describe, expect, it } from 'vitest';
import {
  claimantsOf,
  claimExpiresAt,
  dedupKeyOf,
  holderWentNowhere,
} from '../../shared/domain/event-dedup.js';
import { ALREADY_METERED, type Decision } from '../../shared/domain/ingest-decision.js';
import { at, meterState } from '../support/meter-states.js';

const SHARD = 'shardId-000000000000';
const meter = meterState();
const apply: Decision = { kind: 'apply', targets: [{ meter, placement: 'current' }] };
const entry = (seq: string, eventId?: string, userId = 'u1') => ({
  seq,
  record: { userId, value: '1', usageTime: at('2025-01-15T00:00:00Z'), eventId, fields: {} },
});

describe('dedupKeyOf', () => {
  it('keys a record by user and event id, so two customers never cancel each other out', () => {
    expect(dedupKeyOf({ userId: 'u1', eventId: 'e1' })).toBe('["u1","e1"]');
    expect(dedupKeyOf({ userId: 'u2', eventId: 'e1' })).not.toBe(
      dedupKeyOf({ userId: 'u1', eventId: 'e1' }),
    );
    expect(dedupKeyOf({ userId: 'u1' })).toBeUndefined();
  });
});

describe('claimExpiresAt', () => {
  it('is the end of the stream’s window, in epoch seconds', () => {
    expect(claimExpiresAt(new Date('2025-01-01T00:00:00.500Z'), 24)).toBe(
      Date.parse('2025-01-02T00:00:00Z') / 1000,
    );
  });
});

describe('claimantsOf', () => {
  it('lets the first record of an event id claim it and marks the later ones duplicates', () => {
    const records = [
      entry('1', 'a'),
      entry('2', 'b'),
      entry('3', 'a'),
      entry('4'),
      entry('5', 'a', 'u2'),
    ];
    const decisions: Decision[] = records.map(() => apply);
    const { claimants, duplicates } = claimantsOf(records, decisions);
    expect(claimants).toEqual([0, 1, 4]);
    expect(duplicates).toBe(1);
    expect(decisions[2]).toBe(ALREADY_METERED);
    expect(decisions.filter((d) => d === apply)).toHaveLength(4);
  });

  it('ignores records that are not to be metered', () => {
    const records = [entry('1', 'a'), entry('2', 'a')];
    const decisions: Decision[] = [
      { kind: 'correct', reason: 'NO_METER', message: 'no meter' },
      apply,
    ];
    expect(claimantsOf(records, decisions)).toEqual({ claimants: [1], duplicates: 0 });
  });
});

describe('holderWentNowhere', () => {
  const claimant = { shardId: SHARD, sequenceNumber: '50' };
  const targets = [
    { meter: meterState({ seq: { [SHARD]: '30' } }), placement: 'current' as const },
  ];
  const none = new Set<string>();

  it('is false when a meter of the user that is not a target took the holder (routed by another version)', () => {
    const otherCategory = { meter: meterState({ seq: { [SHARD]: '45' } }) };
    expect(
      holderWentNowhere(
        { shardId: SHARD, sequenceNumber: '40' },
        claimant,
        '50',
        [...targets, otherCategory],
        none,
      ),
    ).toBe(false);
  });

  it('is true for an earlier record of the shard, outside the batch, that no meter of the user took', () => {
    expect(
      holderWentNowhere({ shardId: SHARD, sequenceNumber: '40' }, claimant, '50', targets, none),
    ).toBe(true);
  });

  it('is false when a target took the holder (its position is at or past it)', () => {
    expect(
      holderWentNowhere({ shardId: SHARD, sequenceNumber: '30' }, claimant, '50', targets, none),
    ).toBe(false);
    expect(
      holderWentNowhere({ shardId: SHARD, sequenceNumber: '20' }, claimant, '50', targets, none),
    ).toBe(false);
  });

  it('is false for a holder on another shard, in this batch, or later than the claimant', () => {
    expect(
      holderWentNowhere(
        { shardId: 'shardId-000000000001', sequenceNumber: '40' },
        claimant,
        '50',
        targets,
        none,
      ),
    ).toBe(false);
    expect(
      holderWentNowhere(
        { shardId: SHARD, sequenceNumber: '40' },
        claimant,
        '50',
        targets,
        new Set(['40']),
      ),
    ).toBe(false);
    expect(
      holderWentNowhere({ shardId: SHARD, sequenceNumber: '60' }, claimant, '50', targets, none),
    ).toBe(false);
  });
});
