import { describe, expect, it } from 'vitest';
import { REPROCESS_CLAIM_STALE_AFTER_MS } from '../../shared/application/data-corrections.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { unwrapReprocessed } from '../../shared/domain/reprocess-envelope.js';
import { type StreamConfig, streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import { CORRECTION_REASONS } from '../../shared/ports/data-correction-store.js';
import { correctionsApiUnderTest, entry, listAll, STREAM } from '../support/corrections.js';

const streams: StreamConfig[] = [
  streamConfigSchema.parse({
    name: STREAM,
    meterKey: 'usage-events',
    description: 'voice and data usage',
    validation: { required: ['plan'], types: { plan: 'string' } },
    enrichment: { static: { source: 'kinesis' } },
    guidingRules: [
      {
        name: 'voice',
        conditions: [{ field: 'kind', type: 'string', value: 'voice' }],
        category: 'VOICE',
        groupBy: ['country'],
      },
      { name: 'rest', category: 'DEFAULT' },
    ],
    carryLast: ['plan'],
    deduplication: { enabled: true },
  }),
  streamConfigSchema.parse({
    name: 'coffee',
    meterKey: 'cups',
    fields: { userId: 'customer.id' },
    guidingRules: [{ name: 'all', category: 'COFFEE' }],
    lateRecordPolicy: 'data-correction',
  }),
];

function correctionsUnderTest() {
  return correctionsApiUnderTest(streams);
}

describe('data correction API', () => {
  it('reads an entry back exactly as stored, and 404 for an unknown id', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(1, { meterIds: ['m-1', 'm-2'], reason: 'CAPACITY_EXCEEDED' });
    await api.corrections.putAll([stored]);

    const read = await api.call('GET', `/corrections/${stored.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(stored);

    const missing = await api.call('GET', `/corrections/${entry(2).id}`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain(entry(2).id);
    expect((await api.call('GET', `/corrections/${'x'.repeat(3000)}`)).status).toBe(404);
  });

  it('stores each id once: a second put, even after a reprocess, keeps the first entry', async () => {
    const api = await correctionsUnderTest();
    const first = entry(1);
    await api.corrections.putAll([first, { ...first, message: 'a retry, written twice' }]);
    await api.corrections.putAll([{ ...first, message: 'written by a Lambda retry' }]);
    expect((await api.call('GET', `/corrections/${first.id}`)).body).toEqual(first);

    const reprocessed = await api.call('POST', `/corrections/${first.id}/reprocess`);
    expect(reprocessed.status).toBe(200);
    await api.corrections.putAll([first]);

    const read = await api.call('GET', `/corrections/${first.id}`);
    expect(read.body).toEqual(reprocessed.body);
    expect(read.body.reprocessedAt).toBe('2025-01-11T08:00:00.000Z');
    expect((await api.call('POST', `/corrections/${first.id}/reprocess`)).status).toBe(409);
  });

  it('stores a large batch in one putAll', async () => {
    const api = await correctionsUnderTest();
    const batch = Array.from({ length: 40 }, (_, n) => entry(n));
    await api.corrections.putAll(batch);
    expect((await listAll(api, { limit: '100' })).items).toEqual(batch);
  });

  it('lists 30 entries oldest first, page by page, each exactly once, by reason too', async () => {
    const api = await correctionsUnderTest();
    const all = Array.from({ length: 30 }, (_, n) =>
      entry(n, { reason: CORRECTION_REASONS[n % 3] }),
    );
    // Stored out of order: the list follows correctedAt, not write order.
    await api.corrections.putAll([...all].reverse());

    const everything = await listAll(api, { limit: '7' });
    expect(everything.items).toEqual(all);
    expect(everything.pages).toBeGreaterThanOrEqual(5);

    const noMeter = await listAll(api, { reason: 'NO_METER', limit: '3' });
    expect(noMeter.items).toEqual(all.filter((e) => e.reason === 'NO_METER'));
    expect(noMeter.items).toHaveLength(10);

    const firstPage = await api.call('GET', '/corrections');
    expect(firstPage.body.corrections).toHaveLength(30);
    expect(firstPage.body.nextToken).toBeUndefined();
  });

  it.each([
    [{ reason: 'NOT_A_REASON' }, 'reason'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ nextToken: 'bogus' }, 'nextToken'],
    [{ colour: 'red' }, 'colour'],
    [{ from: 'yesterday' }, 'from'],
    [{ from: '2025-01-10T00:00:00Z', to: '2025-01-10T00:00:00Z' }, 'to'],
    [{ from: '2025-01-10T01:00:00+01:00', to: '2025-01-09T23:00:00Z' }, 'to'],
    [{ userId: '' }, 'userId'],
  ])('refuses the query %o with 400 naming %s', async (query, field) => {
    const api = await correctionsUnderTest();
    const response = await api.call('GET', '/corrections', undefined, { query });
    expect(response.status).toBe(400);
    expect(response.body.issues.map((i: { field: string }) => i.field)).toContain(field);
  });

  it('reprocesses once: the exact original bytes go back with the same partition key', async () => {
    const api = await correctionsUnderTest();
    const bytes = Buffer.from(
      '{"userId":"alice","value":12345678901234567890.123456789,"plan":"gold","timestamp":"2025-01-10T00:00:05Z"}',
    );
    const stored = entry(5, { data: bytes.toString('base64'), partitionKey: 'pk-alice' });
    await api.corrections.putAll([stored]);

    const response = await api.call('POST', `/corrections/${stored.id}/reprocess`);

    expect(response.status).toBe(200);
    expect(api.streamWriter.records).toHaveLength(1);
    const written = api.streamWriter.records[0]!;
    expect(written.streamName).toBe(STREAM);
    expect(written.partitionKey).toBe('pk-alice');
    expect(Buffer.from(written.data).equals(bytes)).toBe(true);
    expect(response.body).toEqual({
      ...stored,
      reprocessedAt: '2025-01-11T08:00:00.000Z',
      reprocessSequenceNumber: written.sequenceNumber,
    });
    expect((await api.call('GET', `/corrections/${stored.id}`)).body).toEqual(response.body);

    const again = await api.call('POST', `/corrections/${stored.id}/reprocess`);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already reprocessed/);
    expect(api.streamWriter.records).toHaveLength(1);
  });

  it('re-sends a record without a timestamp in an envelope with its first arrival, original bytes inside', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(7);
    await api.corrections.putAll([stored]);
    expect((await api.call('POST', `/corrections/${stored.id}/reprocess`)).status).toBe(200);
    const written = api.streamWriter.records[0]!;
    const unwrapped = unwrapReprocessed(written.data);
    expect(unwrapped?.firstArrivalTime).toBe(Date.parse(stored.receivedAt));
    expect(Buffer.from(unwrapped!.data).toString('base64')).toBe(stored.data);
    expect(JSON.parse(Buffer.from(written.data).toString())).toMatchObject({
      reprocessedFromDataCorrection: { receivedAt: stored.receivedAt },
      record: { userId: 'user-7' },
    });
  });

  it.each([
    ['not UTF-8', Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22, 0x7d]), /not UTF-8/],
    ['not JSON', Buffer.from('not json at all'), /not valid JSON/],
    ['not an object', Buffer.from('[1,2]'), /JSON object/],
    ['no userId', Buffer.from('{"value":1,"plan":"gold"}'), /userId: is required/],
    ['a bad value', Buffer.from('{"userId":"u","value":"ten","plan":"gold"}'), /value:/],
    [
      'a bad timestamp',
      Buffer.from('{"userId":"u","value":1,"plan":"gold","timestamp":"soon"}'),
      /timestamp:/,
    ],
    ['no required field', Buffer.from('{"userId":"u","value":1}'), /plan: is required/],
  ])(
    '422 NOT_REPROCESSABLE for a record with %s: nothing is sent or created, the entry stays',
    async (_, bytes, why) => {
      const api = await correctionsUnderTest();
      const stored = entry(3, { reason: 'INVALID_RECORD', data: bytes.toString('base64') });
      await api.corrections.putAll([stored]);
      const response = await api.call('POST', `/corrections/${stored.id}/reprocess`);
      expect(response.status).toBe(422);
      expect(response.body.code).toBe('NOT_REPROCESSABLE');
      expect(response.body.message).toMatch(why);
      expect(api.streamWriter.records).toHaveLength(0);
      expect((await api.call('GET', `/corrections/${stored.id}`)).body).toEqual(stored);
      expect((await listAll(api, {})).items).toEqual([stored]);
    },
  );

  it('422 for an entry of a stream that is no longer configured', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(4, { streamName: 'gone' });
    await api.corrections.putAll([stored]);
    const response = await api.call('POST', `/corrections/${stored.id}/reprocess`);
    expect(response.status).toBe(422);
    expect(response.body).toEqual({
      message: expect.stringMatching(/not configured/),
      code: 'NOT_REPROCESSABLE',
    });
    expect(api.streamWriter.records).toHaveLength(0);
  });

  it('404 when reprocessing an unknown entry, without creating one', async () => {
    const api = await correctionsUnderTest();
    const id = entry(1).id;
    expect((await api.call('POST', `/corrections/${id}/reprocess`)).status).toBe(404);
    expect((await api.call('GET', `/corrections/${id}`)).status).toBe(404);
    expect(api.streamWriter.records).toHaveLength(0);
  });

  it('ignores a request body on reprocess', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(1);
    await api.corrections.putAll([stored]);
    const response = await api.call('POST', `/corrections/${stored.id}/reprocess`, {});
    expect(response.status).toBe(200);
  });

  it('releases the claim when the put fails, so a retry succeeds', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(1);
    await api.corrections.putAll([stored]);
    api.streamWriter.failNext(new ServiceUnavailableError('throttled'));

    const failed = await api.call('POST', `/corrections/${stored.id}/reprocess`);
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBe('1');
    expect((await api.call('GET', `/corrections/${stored.id}`)).body).toEqual(stored);

    const retried = await api.call('POST', `/corrections/${stored.id}/reprocess`);
    expect(retried.status).toBe(200);
    expect(api.streamWriter.records).toHaveLength(1);
  });

  it('refuses a concurrent reprocess, and takes over a claim left by a crash once stale', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(1);
    await api.corrections.putAll([stored]);
    // An invocation that claimed the entry and died before putting the record.
    await api.corrections.claimReprocess(stored.id, api.clock.now, REPROCESS_CLAIM_STALE_AFTER_MS);

    const busy = await api.call('POST', `/corrections/${stored.id}/reprocess`);
    expect(busy.status).toBe(409);
    expect(busy.body.message).toMatch(/being reprocessed/);
    // The claim is not visible to clients.
    expect((await api.call('GET', `/corrections/${stored.id}`)).body).toEqual(stored);

    api.clock.now = new Date(api.clock.now.getTime() + REPROCESS_CLAIM_STALE_AFTER_MS - 1);
    expect((await api.call('POST', `/corrections/${stored.id}/reprocess`)).status).toBe(409);

    api.clock.now = new Date(api.clock.now.getTime() + 2);
    const takenOver = await api.call('POST', `/corrections/${stored.id}/reprocess`);
    expect(takenOver.status).toBe(200);
    expect(takenOver.body.reprocessedAt).toBe(api.clock.now.toISOString());
    expect(api.streamWriter.records).toHaveLength(1);
  });

  it('puts a record once under 10 parallel reprocess requests', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(1);
    await api.corrections.putAll([stored]);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => api.call('POST', `/corrections/${stored.id}/reprocess`)),
    );
    expect(statuses.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(409)]);
    expect(api.streamWriter.records).toHaveLength(1);
  });

  it('deletes an entry: 204, then 404', async () => {
    const api = await correctionsUnderTest();
    const [kept, deleted] = [entry(1), entry(2)];
    await api.corrections.putAll([kept, deleted]);

    const response = await api.call('DELETE', `/corrections/${deleted.id}`);
    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();
    expect((await api.call('GET', `/corrections/${deleted.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/corrections/${deleted.id}`)).status).toBe(404);
    expect((await listAll(api, {})).items).toEqual([kept]);
  });

  it('does not recreate an entry deleted while it was being reprocessed', async () => {
    const api = await correctionsUnderTest();
    const stored = entry(1);
    await api.corrections.putAll([stored]);
    await api.corrections.claimReprocess(stored.id, api.clock.now, REPROCESS_CLAIM_STALE_AFTER_MS);
    await api.corrections.delete(stored.id);

    await expect(
      api.corrections.completeReprocess(stored.id, '1', api.clock.now),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    await api.corrections.releaseReprocess(stored.id);
    expect(await api.corrections.get(stored.id)).toBeUndefined();
  });
});

describe('streams API', () => {
  it('shows each configured stream in full: rules with operator and conditions, defaults applied', async () => {
    const api = await correctionsUnderTest();
    const response = await api.call('GET', '/streams');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      streams: streams.map((stream) => ({
        ...stream,
        version: 1,
        updatedAt: '2025-01-10T00:00:00.000Z',
        kinesisStream: stream.name,
      })),
    });
    expect(response.body.streams[0]).toMatchObject({
      name: STREAM,
      validation: { required: ['plan'], types: { plan: 'string' } },
      enrichment: { static: { source: 'kinesis' }, rename: {}, defaults: {} },
      guidingRules: [
        {
          name: 'voice',
          operator: 'AND',
          conditions: [{ field: 'kind', op: 'eq', type: 'string', value: 'voice' }],
          category: 'VOICE',
          groupBy: ['country'],
        },
        { name: 'rest', operator: 'AND', conditions: [], category: 'DEFAULT', groupBy: [] },
      ],
      maxFutureSkewSeconds: 300,
    });
  });
});
