/**
 * History (DESIGN.md 2.8): every record sent is kept once per recordId and equals what was
 * sent; the API answers exactly those records, across crashes between keeping and sending and
 * across retried flushes; one batch write per flush.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { flushMeter } from '../../shared/application/period-end.js';
import { HISTORY_CSV_COLUMNS } from '../../shared/domain/record-history.js';
import type { RecordHistoryWriter } from '../../shared/ports/record-history.js';
import { apiUnderTest } from '../support/api.js';
import { ingestUnderTest, kinesisEvent, type TestRecord } from '../support/ingest.js';

const hourly = { minute: '0', hour: '*', day: '*', month: '*', weekday: '*' };
const usage = (userId: string, value: number, timestamp: string): TestRecord => ({
  data: { userId, value, timestamp },
  arrivalTime: Date.parse(timestamp) + 1000,
});

/** A meter with an hourly period and a threshold, usage in three hours, each hour flushed. */
async function threeHours(t: Awaited<ReturnType<typeof ingestUnderTest>>, userId = 'alice') {
  const { meter, meterType } = await t.meterFor(
    userId,
    { resetSchedule: hourly, thresholds: [{ name: 'ten', value: 10 }] },
    new Date('2025-01-15T10:00:00Z'),
  );
  for (const [hour, value] of [
    [10, 4],
    [11, 12],
    [12, 1],
  ] as const) {
    t.clock.now = new Date(`2025-01-15T${hour}:30:00Z`);
    await t.handler(kinesisEvent([usage(userId, value, `2025-01-15T${hour}:20:00Z`)]));
    t.clock.now = new Date(`2025-01-15T${hour + 1}:00:00Z`);
    await t.flush(meter.id);
  }
  return { meter, meterType };
}

/** The API's history operations over the same table the flush kept records in. */
async function historyApi(t: Awaited<ReturnType<typeof ingestUnderTest>>) {
  return apiUnderTest({
    meteredRecords: {
      history: t.history,
      publisher: t.publisher,
      meters: t.store,
      streams: t.streams,
    },
  });
}

const sentJson = (t: Awaited<ReturnType<typeof ingestUnderTest>>) =>
  t.publisher.records.map((record) => JSON.stringify(record));

describe('history of metered records', () => {
  it('answers exactly the records delivered to the sink, byte for byte, newest first', async () => {
    const t = await ingestUnderTest();
    const { meter } = await threeHours(t);
    const api = await historyApi(t);
    const sent = sentJson(t);
    expect(t.publisher.records.map((r) => r.recordType)).toEqual([
      'final',
      'partial',
      'final',
      'final',
    ]);

    const listed = await api.call('GET', '/metered-records', undefined, {
      query: { userId: 'alice' },
      accept: 'application/x-ndjson',
    });
    expect(listed.status).toBe(200);
    const lines = listed.raw.split('\n').filter(Boolean);
    expect([...lines].sort()).toEqual([...sent].sort());
    const ends = lines.map((line) => JSON.parse(line).periodEnd);
    expect(ends).toEqual([...ends].sort().reverse());

    const json = await api.call('GET', `/meters/${meter.id}/records`);
    expect(json.raw).toBe(`{"meteredRecords":[${lines.join(',')}]}`);
    for (const record of t.publisher.records) {
      const one = await api.call('GET', `/metered-records/${record.recordId}`);
      expect(one.raw).toBe(JSON.stringify(record));
    }
  });

  it('keeps a record once when the flush crashes between keeping and sending, and sends it then', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'bob',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:00:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:30:00Z');
    await t.handler(kinesisEvent([usage('bob', 3, '2025-01-15T10:20:00Z')]));
    t.clock.now = new Date('2025-01-15T11:00:00Z');
    t.publisher.failNextCalls(1, 'throw');
    await expect(t.flush(meter.id)).rejects.toThrow(/Injected publisher crash/);
    // Kept, not yet sent: the outbox still holds it.
    const api = await historyApi(t);
    const kept = await api.call('GET', '/metered-records', undefined, { query: { userId: 'bob' } });
    expect(kept.body.meteredRecords).toHaveLength(1);
    expect(t.publisher.records).toHaveLength(0);
    // The retry keeps it again (the same item) and sends it; a third flush does nothing.
    await t.flush(meter.id);
    await t.flush(meter.id);
    const after = await api.call('GET', '/metered-records', undefined, {
      query: { userId: 'bob' },
      accept: 'application/x-ndjson',
    });
    expect(after.raw).toBe(`${sentJson(t).join('\n')}\n`);
    expect(sentJson(t)).toHaveLength(1);
  });

  it('sends nothing while the history cannot keep, then keeps and sends each record once', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'carol',
      { resetSchedule: hourly },
      new Date('2025-01-15T10:00:00Z'),
    );
    t.clock.now = new Date('2025-01-15T11:00:00Z');
    let failures = 2;
    const flaky: RecordHistoryWriter = {
      keep: async (records) => {
        if (failures-- > 0) throw new Error('history unavailable');
        return t.history.keep(records);
      },
    };
    const deps = { ...t.periodEnd, history: flaky };
    await expect(flushMeter(deps, meter.id)).rejects.toThrow(/history unavailable/);
    await expect(flushMeter(deps, meter.id)).rejects.toThrow(/history unavailable/);
    expect(t.publisher.records).toHaveLength(0);
    await flushMeter(deps, meter.id);
    const sent = sentJson(t);
    expect(sent).toHaveLength(1);
    const kept = await t.history.list({ meterId: meter.id }, 10);
    expect(kept.items.map((k) => k.json)).toEqual(sent);
  });

  it('costs one batch write per flush, with an expiry 400 days after period end', async () => {
    const t = await ingestUnderTest();
    const { meter } = await t.meterFor(
      'dave',
      { resetSchedule: hourly, thresholds: [{ name: 'one', value: 1 }] },
      new Date('2025-01-15T10:00:00Z'),
    );
    t.clock.now = new Date('2025-01-15T10:30:00Z');
    await t.handler(kinesisEvent([usage('dave', 3, '2025-01-15T10:20:00Z')]));
    t.clock.now = new Date('2025-01-15T13:00:00Z');
    t.counter.reset();
    await t.flush(meter.id);
    // A partial push and the final record of the late period, kept in one write.
    expect(t.publisher.records.map((r) => r.recordType)).toEqual(['partial', 'final']);
    expect(t.counter.get('BatchWriteItemCommand')).toBe(1);
    const item = await t.table.client.send(
      new GetCommand({
        TableName: t.table.tableName,
        Key: { pk: `REC#${t.publisher.records[1]?.recordId}`, sk: 'REC' },
      }),
    );
    const periodEnd = Date.parse(JSON.parse(String(item.Item?.record)).periodEnd);
    expect(item.Item?.expiresAt).toBe(periodEnd / 1000 + 400 * 86_400);
  });

  it('filters by user, meter type, meter key, record type and period end, and pages newest first', async () => {
    const t = await ingestUnderTest();
    const { meter, meterType } = await threeHours(t);
    await threeHours(t, 'erin');
    const api = await historyApi(t);
    const list = async (query: Record<string, string>) =>
      (await api.call('GET', '/metered-records', undefined, { query })).body;
    const alice = await list({ userId: 'alice' });
    expect(alice.meteredRecords).toHaveLength(4);
    expect(
      (await list({ userId: 'alice', recordType: 'partial' })).meteredRecords.map(
        (r: { threshold: string }) => r.threshold,
      ),
    ).toEqual(['ten']);
    expect((await list({ meterTypeId: meterType.id })).meteredRecords).toHaveLength(4);
    expect((await list({ userId: 'alice', meterKey: 'other' })).meteredRecords).toHaveLength(0);
    expect((await list({ meterId: meter.id, userId: 'erin' })).meteredRecords).toHaveLength(0);
    const window = await list({
      userId: 'alice',
      from: '2025-01-15T12:00:00Z',
      to: '2025-01-15T12:00:00.000Z',
    });
    expect(window.meteredRecords.map((r: { periodEnd: string }) => r.periodEnd)).toEqual([
      '2025-01-15T12:00:00.000Z',
      '2025-01-15T12:00:00.000Z',
    ]);
    // Paged one by one: every record once, in the same order as one page.
    const paged: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await list({ userId: 'alice', limit: '1', ...(nextToken ? { nextToken } : {}) });
      paged.push(...page.meteredRecords.map((r: { recordId: string }) => r.recordId));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(paged).toEqual(alice.meteredRecords.map((r: { recordId: string }) => r.recordId));
  });

  it('refuses an unselective or invalid query with 400, and an unknown record with 404', async () => {
    const t = await ingestUnderTest();
    const api = await historyApi(t);
    const status = async (query: Record<string, string>) =>
      (await api.call('GET', '/metered-records', undefined, { query })).status;
    expect(await status({})).toBe(400);
    expect(await status({ meterKey: 'k' })).toBe(400);
    expect(await status({ userId: 'a', recordType: 'draft' })).toBe(400);
    expect(await status({ userId: 'a', from: 'yesterday' })).toBe(400);
    expect(
      await status({ userId: 'a', from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }),
    ).toBe(400);
    expect(await status({ userId: 'a', limit: '1001' })).toBe(400);
    expect(await status({ userId: 'a', nextToken: 'bm90LWEtdG9rZW4' })).toBe(400);
    expect(await status({ userId: 'a', colour: 'red' })).toBe(400);
    const unknown = '00000000-0000-5000-8000-000000000000';
    expect((await api.call('GET', `/metered-records/${unknown}`)).status).toBe(404);
    expect((await api.call('POST', `/metered-records/${unknown}/resend`)).status).toBe(404);
  });

  it('exports CSV in the documented column order, the next token in a header', async () => {
    const t = await ingestUnderTest();
    await threeHours(t);
    const api = await historyApi(t);
    const csv = await api.call('GET', '/metered-records', undefined, {
      query: { userId: 'alice', limit: '3' },
      accept: 'text/csv',
    });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const rows = csv.raw.split('\r\n').filter(Boolean);
    expect(rows[0]).toBe(HISTORY_CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(4);
    expect(rows[1]).toMatch(/^[0-9a-f-]{36},final,,/);
    expect(csv.headers['x-next-token']).toBeTruthy();
    const rest = await api.call('GET', '/metered-records', undefined, {
      query: { userId: 'alice', nextToken: csv.headers['x-next-token'] ?? '' },
      accept: 'text/csv',
    });
    expect(rest.raw.split('\r\n').filter(Boolean)).toHaveLength(2);
    expect(rest.headers['x-next-token']).toBeUndefined();
  });

  it("shows a user's meters with their open period and last final record in one call", async () => {
    const t = await ingestUnderTest();
    const { meter } = await threeHours(t);
    const fresh = await t.meterFor('alice', {}, new Date('2025-01-15T13:05:00Z'));
    t.clock.now = new Date('2025-01-15T13:30:00Z');
    await t.handler(kinesisEvent([usage('alice', 11, '2025-01-15T13:20:00Z')]));
    const api = await historyApi(t);
    const answer = await api.call('GET', '/users/alice/usage');
    expect(answer.status).toBe(200);
    expect(answer.body.userId).toBe('alice');
    const [hourly, monthly] = answer.body.meters;
    expect(hourly).toMatchObject({
      id: meter.id,
      periodStart: '2025-01-15T13:00:00.000Z',
      value: 11,
      thresholdsReached: ['ten'],
    });
    const lastFinal = t.publisher.records.filter((r) => r.recordType === 'final').at(-1);
    expect(JSON.stringify(hourly.lastFinalRecord)).toBe(JSON.stringify(lastFinal));
    expect(monthly).toMatchObject({ id: fresh.meter.id, value: 11, lastFinalRecord: null });
    expect((await api.call('GET', '/users/nobody/usage')).body).toEqual({
      userId: 'nobody',
      meters: [],
    });
  });

  it('re-sends a kept record with the same recordId and bytes, also after its meter was deleted', async () => {
    const t = await ingestUnderTest();
    const { meter } = await threeHours(t);
    await t.meters.retire(meter.id, t.clock.now);
    t.clock.now = new Date('2025-01-15T14:00:00Z');
    await t.flush(meter.id);
    expect(await t.meters.get(meter.id)).toBeUndefined();
    const api = await historyApi(t);
    const records = await api.call('GET', `/meters/${meter.id}/records`);
    expect(records.body.meteredRecords.length).toBeGreaterThanOrEqual(4);
    const first = t.publisher.records[0];
    const before = t.publisher.records.length;
    const resent = await api.call('POST', `/metered-records/${first?.recordId}/resend`);
    expect(resent.status).toBe(200);
    expect(t.publisher.records).toHaveLength(before + 1);
    expect(JSON.stringify(t.publisher.records.at(-1))).toBe(JSON.stringify(first));
    expect(resent.raw).toBe(JSON.stringify(first));
  });
});
