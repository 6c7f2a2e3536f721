/**
 * Conservation (DESIGN.md 2.1) for a record that a unique meter and another meter both take:
 * when the other meter has already counted it in an attempt that then met a conflict on the
 * unique meter, the retry must count it in the unique meter too, even if a concurrent shard
 * filled the unique meter's `maxDistinct` meanwhile. Sending it to data correction then would
 * leave it both counted (in the other meter) and corrected.
 */
import { describe, expect, it } from 'vitest';
import { correctionIdFor } from '../../shared/domain/data-correction.js';
import { ingestUnderTest, kinesisEvent, STREAM, type TestRecord } from '../support/ingest.js';

const SHARD_A = 'shardId-000000000000';
const SHARD_B = 'shardId-000000000001';

const used = (deviceId: string): TestRecord => ({
  data: { userId: 'alice', deviceId, value: 1, timestamp: '2025-01-15T10:20:00Z' },
});

describe('a record taken by a unique meter and another meter', () => {
  it('is counted in both, never counted in one and corrected, when a conflict meets a full maxDistinct', async () => {
    const t = await ingestUnderTest();
    const unique = (
      await t.meterFor('alice', {
        aggregation: { type: 'unique', field: 'deviceId', maxDistinct: 2 },
      })
    ).meter;
    const sum = (await t.meterFor('alice', { aggregation: { type: 'sum' } })).meter;
    // While shard A writes the unique meter, shard B fills its two distinct values, so A's
    // write meets a conflict after its sum meter already took the record.
    t.store.faults.push({
      method: 'replaceMeterClaiming',
      when: () => true,
      times: 1,
      before: async () => {
        const other = await t.handler(kinesisEvent([used('a'), used('b')], SHARD_B));
        expect(other.batchItemFailures).toEqual([]);
      },
    });
    const record = used('z');
    const response = await t.handler(kinesisEvent([record], SHARD_A));
    expect(response.batchItemFailures).toEqual([]);

    const correction = await t.corrections.get(
      correctionIdFor(STREAM, SHARD_A, record.sequenceNumber ?? ''),
    );
    expect(await t.meters.get(sum.id)).toMatchObject({
      value: 3,
      meterMetaData: { recordCount: 3 },
    });
    expect(correction, 'the sum meter counted it, so it must not be in data correction').toBe(
      undefined,
    );
    // Counted once more than maxDistinct: the limit bounds cost, conservation comes first.
    expect(await t.meters.get(unique.id)).toMatchObject({
      value: 3,
      meterMetaData: { recordCount: 3 },
    });
  });
});
