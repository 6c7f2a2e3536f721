/** One meter's share of a batch: pre-aggregated per period, beyond its position (no store). */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../shared/domain/ingest-decision.js';
import { sequenceKey } from '../../shared/domain/meter-usage.js';
import { shardShareOf, withShardShare } from '../../shared/domain/shard-share.js';
import { at, meterState, slotOf } from '../support/meter-states.js';

const SHARD = 'shardId-000000000000';
const entry = (seq: string, value: string, iso = '2025-01-15T00:00:00Z') => ({
  seq,
  record: { userId: 'u1', value, usageTime: at(iso), fields: {} },
});

describe('shardShareOf', () => {
  const meter = meterState({
    seq: { [SHARD]: sequenceKey('2') },
    usage: { shards: { [SHARD]: slotOf('sum', '10', 2) }, fired: [] },
  });
  const to = (placement: 'current' | 'next' | 'late'): Decision => ({
    kind: 'apply',
    targets: [{ meter, placement }],
  });

  it('skips records at or below the position and adds the rest to the shard’s slots', () => {
    const records = [
      entry('1', '100'),
      entry('2', '100'),
      entry('3', '1.5'),
      entry('4', '2'),
      entry('5', '7'),
    ];
    const decisions = [to('current'), to('current'), to('current'), to('late'), to('next')];
    const share = shardShareOf(meter, SHARD, records, decisions);
    expect(share?.newSeq).toBe(sequenceKey('5'));
    expect(share?.currentSlot).toMatchObject({ agg: { value: '13.5', count: 4 }, late: 1 });
    expect(share?.nextSlot).toMatchObject({ agg: { value: '7', count: 1 }, late: 0 });
  });

  it('is undefined when the meter takes nothing new: replayed, or not a target', () => {
    const corrected: Decision = { kind: 'correct', reason: 'NO_METER', message: 'no meter' };
    const other: Decision = {
      kind: 'apply',
      targets: [{ meter: meterState({ id: 'x' }), placement: 'current' }],
    };
    expect(
      shardShareOf(
        meter,
        SHARD,
        [entry('1', '1'), entry('2', '1')],
        [to('current'), to('current')],
      ),
    ).toBeUndefined();
    expect(
      shardShareOf(meter, SHARD, [entry('3', '1'), entry('4', '1')], [corrected, other]),
    ).toBeUndefined();
  });

  it('writes the share into a copy of the meter, with its new position', () => {
    const share = shardShareOf(meter, SHARD, [entry('3', '5')], [to('current')]);
    const now = new Date('2025-01-16T00:00:00Z');
    const written = withShardShare(meter, SHARD, share, now);
    expect(written.usage.shards[SHARD]?.agg.value).toBe('15');
    expect(written.seq[SHARD]).toBe(sequenceKey('3'));
    expect(written.updatedAt).toBe(now.toISOString());
    expect(meter.usage.shards[SHARD]?.agg.value).toBe('10');
    expect(withShardShare(meter, SHARD, undefined, now).seq).toBe(meter.seq);
  });
});
