import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { BULK_LIMIT } from '../../shared/application/data-correction-bulk.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import {
  CORRECTION_REASONS,
  type DataCorrection,
} from '../../shared/ports/data-correction-store.js';
import { apiUnderTest } from '../support/api.js';
import {
  type CorrectionsApi,
  correctionsApiUnderTest,
  entry,
  listAll,
} from '../support/corrections.js';

const at = (minute: number, second = 0) =>
  new Date(Date.UTC(2025, 0, 10, 0, minute, second)).toISOString();

/** Twelve entries: three users, three reasons, one a minute from 00:00 on. */
function mixed(): DataCorrection[] {
  const reasons = ['NO_METER', 'INVALID_RECORD', 'LATE_RECORD'] as const;
  return Array.from({ length: 12 }, (_, n) =>
    entry(n, {
      userId: `user-${n % 3}`,
      reason: reasons[n % 3 === 0 ? 0 : n % 2 ? 1 : 2],
      correctedAt: at(n),
    }),
  );
}

async function counts(api: CorrectionsApi): Promise<Record<string, number>> {
  const response = await api.call('GET', '/corrections/counts');
  expect(response.status).toBe(200);
  const list = response.body.counts as { reason: string; count: number }[];
  expect(list.map((c) => c.reason)).toEqual([...CORRECTION_REASONS]);
  return Object.fromEntries(list.filter((c) => c.count > 0).map((c) => [c.reason, c.count]));
}

describe('GET /corrections filters', () => {
  it('filters by user, by reason and user, and by a time window (from inclusive, to exclusive)', async () => {
    const api = await correctionsApiUnderTest();
    const all = mixed();
    await api.corrections.putAll([...all].reverse());
    const expected = (keep: (e: DataCorrection) => boolean) => all.filter(keep);

    expect((await listAll(api, { userId: 'user-1', limit: '2' })).items).toEqual(
      expected((e) => e.userId === 'user-1'),
    );
    expect((await listAll(api, { userId: 'user-1', reason: 'INVALID_RECORD' })).items).toEqual(
      expected((e) => e.userId === 'user-1' && e.reason === 'INVALID_RECORD'),
    );
    const window = await listAll(api, { from: at(3), to: at(7), limit: '3' });
    expect(window.items).toEqual(all.slice(3, 7));
    // Another offset, the same instants.
    expect(
      (await listAll(api, { from: '2025-01-10T01:03:00+01:00', to: '2025-01-10T01:07:00+01:00' }))
        .items,
    ).toEqual(all.slice(3, 7));
    expect((await listAll(api, { from: at(10) })).items).toEqual(all.slice(10));
    expect((await listAll(api, { to: at(2) })).items).toEqual(all.slice(0, 2));
    expect(
      (await listAll(api, { reason: 'NO_METER', userId: 'user-0', from: at(1), to: at(9) })).items,
    ).toEqual(
      expected((e) => e.reason === 'NO_METER' && e.correctedAt >= at(1) && e.correctedAt < at(9)),
    );
    expect((await listAll(api, { userId: 'nobody' })).items).toEqual([]);
  });

  it('refuses a page token used with another filter or time window (400 naming nextToken)', async () => {
    const api = await correctionsApiUnderTest();
    await api.corrections.putAll(mixed());
    const first = await api.call('GET', '/corrections', undefined, {
      query: { from: at(0), limit: '5' },
    });
    const nextToken = first.body.nextToken as string;
    expect(nextToken).toBeTruthy();
    const queries: Record<string, string>[] = [
      { nextToken, from: at(8) },
      { nextToken, to: at(2) },
      { nextToken, userId: 'user-1' },
      { nextToken, reason: 'NO_METER' },
    ];
    for (const query of queries) {
      const response = await api.call('GET', '/corrections', undefined, { query });
      expect(response.status, JSON.stringify(query)).toBe(400);
      expect(response.body.issues[0].field).toBe('nextToken');
    }
    const next = await api.call('GET', '/corrections', undefined, {
      query: { nextToken, from: at(0) },
    });
    expect(next.status).toBe(200);
  });
});

describe('GET /corrections/counts', () => {
  it('counts open entries per reason, every reason listed; re-sent and deleted ones leave', async () => {
    const api = await correctionsApiUnderTest();
    expect(await counts(api)).toEqual({});
    const all = mixed();
    const truncated = entry(40, {
      reason: 'CAPACITY_EXCEEDED',
      dataTruncated: true,
      dataBytes: 300_000,
    });
    await api.corrections.putAll([...all, truncated]);
    expect(await counts(api)).toEqual({
      NO_METER: 4,
      INVALID_RECORD: 4,
      LATE_RECORD: 4,
      CAPACITY_EXCEEDED: 1,
    });

    const noMeter = all.filter((e) => e.reason === 'NO_METER');
    expect((await api.call('POST', `/corrections/${noMeter[0]?.id}/reprocess`)).status).toBe(200);
    expect((await api.call('DELETE', `/corrections/${noMeter[1]?.id}`)).status).toBe(204);
    // A claim alone leaves the entry open.
    await api.corrections.claimReprocess(noMeter[2]?.id ?? '', api.clock.now, 60_000);
    expect(await counts(api)).toEqual({
      NO_METER: 2,
      INVALID_RECORD: 4,
      LATE_RECORD: 4,
      CAPACITY_EXCEEDED: 1,
    });
  });

  it('is not mistaken for an entry id, and other methods get 405', async () => {
    const api = await correctionsApiUnderTest();
    expect((await api.call('GET', '/corrections/counts')).status).toBe(200);
    const patch = await api.call('PATCH', '/corrections/counts', {});
    expect(patch.status).toBe(405);
    expect(patch.headers.allow).toBe('GET, HEAD');
    const get = await api.call('GET', '/corrections/reprocess');
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    const remove = await api.call('DELETE', '/corrections/delete');
    expect([remove.status, remove.headers.allow]).toEqual([405, 'POST']);
  });
});

describe('POST /corrections/reprocess and /corrections/delete: the filter', () => {
  it.each([
    [undefined, '(body)'],
    [{}, '(body)'],
    [{ all: false }, 'all'],
    [{ all: true, reason: 'NO_METER' }, 'all'],
    [{ reason: 'NOPE' }, 'reason'],
    [{ userId: 7 }, 'userId'],
    [{ from: at(5), to: at(5) }, 'to'],
    [{ from: 'soon' }, 'from'],
    [{ reason: 'NO_METER', colour: 'red' }, 'colour'],
    [[], '(body)'],
  ])('refuses %o with 400 naming %s, touching nothing', async (body, field) => {
    const api = await correctionsApiUnderTest();
    await api.corrections.putAll(mixed());
    for (const path of ['/corrections/reprocess', '/corrections/delete']) {
      const response = await api.call('POST', path, body);
      expect(response.status, path).toBe(400);
      expect(response.body.issues.map((i: { field: string }) => i.field)).toContain(field);
    }
    expect(api.streamWriter.records).toHaveLength(0);
    expect((await listAll(api, {})).items).toHaveLength(12);
  });
});

describe('POST /corrections/reprocess', () => {
  it('re-sends the open entries that match, each once, and skips re-sent and truncated ones', async () => {
    const api = await correctionsApiUnderTest();
    const all = mixed();
    const truncated = entry(41, {
      userId: 'user-1',
      reason: 'INVALID_RECORD',
      dataTruncated: true,
      dataBytes: 300_000,
      correctedAt: at(5, 30),
    });
    await api.corrections.putAll([...all, truncated]);
    const matching = all.filter((e) => e.userId === 'user-1');
    expect((await api.call('POST', `/corrections/${matching[0]?.id}/reprocess`)).status).toBe(200);

    const response = await api.call('POST', '/corrections/reprocess', { userId: 'user-1' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      reprocessed: matching.length - 1,
      failed: [],
      remaining: false,
    });
    const putKeys = api.streamWriter.records.map((r) => r.partitionKey).sort();
    expect(putKeys).toEqual(matching.map((e) => e.partitionKey).sort());

    const again = await api.call('POST', '/corrections/reprocess', { userId: 'user-1' });
    expect(again.body).toEqual({ reprocessed: 0, failed: [], remaining: false });
    expect(api.streamWriter.records).toHaveLength(matching.length);
    expect((await counts(api)).INVALID_RECORD).toBe(
      all.filter((e) => e.reason === 'INVALID_RECORD' && e.userId !== 'user-1').length + 1,
    );
  });

  it('combines reason and time window', async () => {
    const api = await correctionsApiUnderTest();
    const all = mixed();
    await api.corrections.putAll(all);
    const response = await api.call('POST', '/corrections/reprocess', {
      reason: 'NO_METER',
      from: at(3),
      to: at(9),
    });
    const expected = all.filter(
      (e) => e.reason === 'NO_METER' && e.correctedAt >= at(3) && e.correctedAt < at(9),
    );
    expect(response.body).toEqual({ reprocessed: expected.length, failed: [], remaining: false });
    expect(api.streamWriter.records.map((r) => r.partitionKey).sort()).toEqual(
      expected.map((e) => e.partitionKey).sort(),
    );
  });

  it(`handles at most ${BULK_LIMIT} a call; "remaining" says when to call again`, async () => {
    const api = await correctionsApiUnderTest();
    const many = Array.from({ length: BULK_LIMIT + 30 }, (_, n) =>
      entry(n, { reason: 'NO_METER' }),
    );
    await api.corrections.putAll(many);
    const first = await api.call('POST', '/corrections/reprocess', { all: true });
    expect(first.body).toEqual({ reprocessed: BULK_LIMIT, failed: [], remaining: true });
    const second = await api.call('POST', '/corrections/reprocess', { all: true });
    expect(second.body).toEqual({ reprocessed: 30, failed: [], remaining: false });
    expect(new Set(api.streamWriter.records.map((r) => r.partitionKey)).size).toBe(many.length);
    expect(api.streamWriter.records).toHaveLength(many.length);
    expect(await counts(api)).toEqual({});
  });

  it('sets aside entries that can never be metered, so later calls reach the valid ones behind them', async () => {
    const api = await correctionsApiUnderTest();
    const refused = Array.from({ length: BULK_LIMIT + 5 }, (_, n) =>
      entry(n, {
        reason: 'INVALID_RECORD',
        data: Buffer.from('not json').toString('base64'),
        correctedAt: at(0, n),
      }),
    );
    const valid = [200, 201, 202].map((n) =>
      entry(n, { reason: 'INVALID_RECORD', correctedAt: at(30) }),
    );
    await api.corrections.putAll([...refused, ...valid]);

    const first = await api.call('POST', '/corrections/reprocess', { all: true });
    expect(first.body).toMatchObject({ reprocessed: 0, remaining: true });
    expect(first.body.failed).toHaveLength(BULK_LIMIT);
    expect(new Set(first.body.failed.map((f: { code: string }) => f.code))).toEqual(
      new Set(['NOT_REPROCESSABLE']),
    );
    const second = await api.call('POST', '/corrections/reprocess', { all: true });
    expect(second.body).toMatchObject({ reprocessed: valid.length, remaining: false });
    expect(second.body.failed).toHaveLength(5);
    const third = await api.call('POST', '/corrections/reprocess', { all: true });
    expect(third.body).toEqual({ reprocessed: 0, failed: [], remaining: false });
    expect(api.streamWriter.records.map((r) => r.partitionKey).sort()).toEqual(
      valid.map((e) => e.partitionKey).sort(),
    );
    // Set aside, not gone: still open, counted, listed, refused alone, and deletable.
    expect(await counts(api)).toEqual({ INVALID_RECORD: refused.length });
    const one = refused[0] as DataCorrection;
    expect((await api.call('GET', `/corrections/${one.id}`)).body).toEqual(one);
    expect((await api.call('POST', `/corrections/${one.id}/reprocess`)).status).toBe(422);
    const deleted = await api.call('POST', '/corrections/delete', { all: true });
    expect(deleted.body).toMatchObject({ deleted: BULK_LIMIT, remaining: true });
  });

  it('reports a throttled put as failed, keeps the entry open, and stops starting others', async () => {
    const api = await correctionsApiUnderTest();
    const all = Array.from({ length: 20 }, (_, n) => entry(n));
    await api.corrections.putAll(all);
    api.streamWriter.failNext(new ServiceUnavailableError('throttled'));

    const response = await api.call('POST', '/corrections/reprocess', { reason: 'NO_METER' });
    expect(response.status).toBe(200);
    expect(response.body.failed).toHaveLength(1);
    expect(response.body.failed[0]).toMatchObject({ code: 'UNAVAILABLE' });
    expect(response.body.remaining).toBe(true);
    expect(response.body.reprocessed).toBe(api.streamWriter.records.length);
    expect(response.body.reprocessed).toBeLessThan(19);

    const rest = await api.call('POST', '/corrections/reprocess', { reason: 'NO_METER' });
    expect(rest.body).toEqual({
      reprocessed: 20 - response.body.reprocessed,
      failed: [],
      remaining: false,
    });
    expect(api.streamWriter.records).toHaveLength(20);
  });

  it('puts every record exactly once under concurrent bulk and single calls', async () => {
    const api = await correctionsApiUnderTest();
    const all = Array.from({ length: 40 }, (_, n) => entry(n, { reason: 'NO_METER' }));
    await api.corrections.putAll(all);
    const calls = await Promise.all([
      api.call('POST', '/corrections/reprocess', { all: true }),
      api.call('POST', '/corrections/reprocess', { reason: 'NO_METER' }),
      api.call('POST', '/corrections/reprocess', { from: at(0) }),
      ...all.slice(0, 5).map((e) => api.call('POST', `/corrections/${e.id}/reprocess`)),
    ]);
    const bulk = calls.slice(0, 3).map((c) => c.body);
    for (const body of bulk) expect(body.failed).toEqual([]);
    const singles = calls.slice(3).filter((c) => c.status === 200).length;
    const bulkTotal = bulk.reduce((sum, body) => sum + body.reprocessed, 0);
    expect(bulkTotal + singles).toBe(all.length);
    expect(api.streamWriter.records).toHaveLength(all.length);
    expect(new Set(api.streamWriter.records.map((r) => r.partitionKey)).size).toBe(all.length);
  });
});

describe('POST /corrections/delete', () => {
  it('deletes the matching entries, re-sent ones too, and leaves the others', async () => {
    const api = await correctionsApiUnderTest();
    const all = mixed();
    await api.corrections.putAll(all);
    const user2 = all.filter((e) => e.userId === 'user-2');
    expect((await api.call('POST', `/corrections/${user2[0]?.id}/reprocess`)).status).toBe(200);

    const response = await api.call('POST', '/corrections/delete', { userId: 'user-2' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ deleted: user2.length, remaining: false });
    expect((await listAll(api, {})).items).toEqual(all.filter((e) => e.userId !== 'user-2'));

    const window = await api.call('POST', '/corrections/delete', { from: at(0), to: at(3) });
    expect(window.body).toEqual({ deleted: 2, remaining: false });
    expect((await listAll(api, {})).items).toEqual(
      all.filter((e) => e.userId !== 'user-2' && e.correctedAt >= at(3)),
    );
  });

  it(`deletes at most ${BULK_LIMIT} a call, { "all": true } everything`, async () => {
    const api = await correctionsApiUnderTest();
    await api.corrections.putAll(Array.from({ length: BULK_LIMIT + 5 }, (_, n) => entry(n)));
    expect((await api.call('POST', '/corrections/delete', { all: true })).body).toEqual({
      deleted: BULK_LIMIT,
      remaining: true,
    });
    expect((await api.call('POST', '/corrections/delete', { all: true })).body).toEqual({
      deleted: 5,
      remaining: false,
    });
    expect((await api.call('POST', '/corrections/delete', { all: true })).body).toEqual({
      deleted: 0,
      remaining: false,
    });
    expect(await counts(api)).toEqual({});
  });
});

describe('correction routes when DynamoDB throttles', () => {
  it('answer 503 with Retry-After, touching nothing and showing no internals', async () => {
    const client = createDocumentClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const throttled = new ProvisionedThroughputExceededException({
      message: 'slow down',
      $metadata: { httpStatusCode: 400 },
    });
    mockClient(client).on(QueryCommand).rejects(throttled);
    const streamWriter = new InMemoryUsageStreamWriter();
    const api = await apiUnderTest({
      dataCorrections: {
        corrections: new DynamoDbDataCorrectionStore(client, 't'),
        streamWriter,
        streams: [],
        now: () => new Date('2025-01-11T08:00:00Z'),
      },
    });
    for (const [method, path, body, query] of [
      ['GET', '/corrections', undefined, { userId: 'u', from: at(0) }],
      ['GET', '/corrections/counts', undefined, undefined],
      ['POST', '/corrections/reprocess', { reason: 'NO_METER' }, undefined],
      ['POST', '/corrections/delete', { all: true }, undefined],
    ] as const) {
      const response = await api.call(method, path, body, query ? { query } : undefined);
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(JSON.stringify(response.body)).not.toMatch(/slow down|Provisioned|stack/i);
    }
    expect(streamWriter.records).toHaveLength(0);
  });
});
