/**
 * Issue 15, defect 2: a record re-sent from data correction counts at its original event time
 * (for a record without a timestamp: when Kinesis first received it), under the same grace and
 * late rules as any late record; not in the period of the re-send.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { reprocessDataCorrection } from '../../shared/application/data-corrections.js';
import type { MeteredRecord } from '../../shared/domain/metered-record.js';
import { ingestUnderTest, kinesisEvent, streamConfig, type TestRecord } from '../support/ingest.js';

const FIRST_ARRIVAL = Date.parse('2025-01-15T10:00:00Z');

async function harness(config = streamConfig()) {
  const t = await ingestUnderTest(config);
  const streamWriter = new InMemoryUsageStreamWriter();
  const deps = {
    corrections: t.corrections,
    streamWriter,
    streams: t.streams,
    now: () => t.clock.now,
  };
  /** Puts bob's record on the stream; he has no meter yet, so it goes to data correction. */
  async function correctedRecord(data: Record<string, unknown>): Promise<string> {
    t.clock.now = new Date(FIRST_ARRIVAL);
    await t.handler(kinesisEvent([{ data, arrivalTime: FIRST_ARRIVAL }]));
    const page = await t.corrections.list({ reason: 'NO_METER' }, 10);
    expect(page.items).toHaveLength(1);
    expect(page.items[0]?.receivedAt).toBe('2025-01-15T10:00:00.000Z');
    return page.items[0]?.id ?? '';
  }
  /** Re-sends the entry now, and delivers what was put on the stream, arriving now. */
  async function reprocess(id: string): Promise<void> {
    await reprocessDataCorrection(deps, id);
    const written = streamWriter.records.at(-1);
    const record: TestRecord = {
      data: undefined,
      raw: Buffer.from(written?.data ?? []).toString('utf8'),
      arrivalTime: t.clock.now.getTime(),
    };
    const response = await t.handler(kinesisEvent([record]));
    expect(response.batchItemFailures).toEqual([]);
  }
  return { t, correctedRecord, reprocess };
}

const finals = (records: readonly unknown[]) =>
  (records as MeteredRecord[]).filter((r) => r.recordType === 'final');

describe('reprocessing counts a record at its original event time', () => {
  it.each([
    ['without a timestamp (its first arrival)', { userId: 'bob', value: 5 }],
    [
      'with a timestamp',
      { userId: 'bob', value: 5, timestamp: new Date(FIRST_ARRIVAL).toISOString() },
    ],
  ])("a record %s re-sent in its period's grace counts in that period", async (_, data) => {
    const { t, correctedRecord, reprocess } = await harness();
    const id = await correctedRecord(data);
    // Monthly meter from Jan 10, one hour of grace: at Feb 1 00:30 January still takes usage.
    const { meter } = await t.meterFor('bob', { gracePeriodSeconds: 3600 });
    t.clock.now = new Date('2025-02-01T00:30:00Z');
    await reprocess(id);
    const view = await t.meters.get(meter.id);
    expect(view?.periodStart).toBe('2025-01-10T00:00:00.000Z');
    expect(view?.value).toBe(5);
    expect(view?.meterMetaData.firstUsageAt).toBe('2025-01-15T10:00:00.000Z');
    t.clock.now = new Date('2025-02-01T01:00:01Z');
    await t.flush(meter.id);
    expect(finals(t.publisher.records).map((r) => [r.periodStart, r.value])).toEqual([
      ['2025-01-10T00:00:00.000Z', 5],
    ]);
  });

  it('a record without a timestamp re-sent after its period closed counts as late in the current one', async () => {
    const { t, correctedRecord, reprocess } = await harness();
    const id = await correctedRecord({ userId: 'bob', value: 5 });
    const { meter } = await t.meterFor('bob');
    t.clock.now = new Date('2025-02-03T00:00:00Z');
    await t.flush(meter.id);
    await reprocess(id);
    const view = await t.meters.get(meter.id);
    expect(view?.periodStart).toBe('2025-02-01T00:00:00.000Z');
    expect(view?.value).toBe(5);
    expect(view?.meterMetaData.lateRecords).toBe(1);
  });

  it('goes to LATE_RECORD under that policy, and a second correction keeps the first arrival', async () => {
    const { t, correctedRecord, reprocess } = await harness(
      streamConfig({ lateRecordPolicy: 'data-correction' }),
    );
    const first = await correctedRecord({ userId: 'bob', value: 5 });
    const { meter } = await t.meterFor('bob');
    t.clock.now = new Date('2025-02-03T00:00:00Z');
    await t.flush(meter.id);
    await reprocess(first);
    expect((await t.meters.get(meter.id))?.value).toBe(0);
    const late = (await t.corrections.list({ reason: 'LATE_RECORD' }, 10)).items;
    expect(late).toHaveLength(1);
    expect(late[0]?.receivedAt).toBe('2025-01-15T10:00:00.000Z');
    expect(JSON.parse(Buffer.from(late[0]?.data ?? '', 'base64').toString())).toEqual({
      userId: 'bob',
      value: 5,
    });
  });
});

describe('envelopes a producer writes itself', () => {
  it.each([
    [
      'a valid one: counts like a record with that timestamp',
      '{"reprocessedFromDataCorrection":{"receivedAt":"2025-01-15T09:00:00.000Z"},"record":{"userId":"alice","value":2}}',
      { metered: true },
    ],
    [
      'one around bytes that are not JSON: corrected with those bytes',
      '{"reprocessedFromDataCorrection":{"receivedAt":"2025-01-15T09:00:00.000Z"},"record":nope}',
      { metered: false, data: 'nope' },
    ],
    [
      'one with a bad time: read as the plain record it is, and corrected',
      '{"reprocessedFromDataCorrection":{"receivedAt":"2025-99-15T09:00:00.000Z"},"record":{"userId":"alice","value":2}}',
      { metered: false },
    ],
  ] as [string, string, { metered: boolean; data?: string }][])('%s', async (_, raw, expected) => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor('alice');
    const response = await t.handler(kinesisEvent([{ data: undefined, raw }]));
    expect(response.batchItemFailures).toEqual([]);
    const view = await t.meters.get(meter.id);
    const corrections = (await t.corrections.list({}, 10)).items;
    if (expected.metered) {
      expect(view?.value).toBe(2);
      expect(view?.meterMetaData.firstUsageAt).toBe('2025-01-15T09:00:00.000Z');
      expect(corrections).toEqual([]);
    } else {
      expect(view?.meterMetaData.recordCount).toBe(0);
      expect(corrections.map((c) => c.reason)).toEqual(['INVALID_RECORD']);
      const kept = Buffer.from(corrections[0]?.data ?? '', 'base64').toString();
      expect(kept).toBe(expected.data ?? raw);
    }
  });
});
