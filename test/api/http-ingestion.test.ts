import { describe, expect, it } from 'vitest';
import { InMemoryDataCorrectionStore } from '../../shared/adapters/in-memory/data-correction-store.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { parseStreamsConfig } from '../../shared/config/streams.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import type { StreamConfig } from '../../shared/domain/stream-schemas.js';
import { apiUnderTest } from '../support/api.js';

const rule = { name: 'all', conditions: [], category: 'DEFAULT' };

function streamsOf(...configs: Record<string, unknown>[]): StreamConfig[] {
  return parseStreamsConfig(
    configs.map((c, i) => ({ name: `s${i}`, meterKey: `k${i}`, guidingRules: [rule], ...c })),
  );
}

async function ingestApi(streams: StreamConfig[]) {
  const writer = new InMemoryUsageStreamWriter();
  const dataCorrections = {
    corrections: new InMemoryDataCorrectionStore(),
    streamWriter: writer,
    streams: streams,
    now: () => new Date(),
    log: () => {},
  };
  const { call } = await apiUnderTest({ streams, dataCorrections });
  return { call, writer };
}

const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('POST /usage-records', () => {
  it("reads the user id with the stream's current processor, after a PUT changed its field", async () => {
    const { call, writer } = await ingestApi(streamsOf({}));
    const stream = (await call('GET', '/streams/s0')).body;
    const { version: _v, updatedAt: _u, kinesisStream: _k, ...configuration } = stream;
    const put = await call('PUT', '/streams/s0', {
      ...configuration,
      fields: { ...configuration.fields, userId: 'customer.id' },
    });
    expect(put.status).toBe(200);
    const res = await call('POST', '/usage-records', [{ customer: { id: 'carol' }, value: 1 }]);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 1, rejected: 0 });
    expect(writer.records.map((r) => r.partitionKey)).toEqual(['carol']);
  });

  it('puts each record on the only stream with its user id as partition key and its own bytes', async () => {
    const { call, writer } = await ingestApi(streamsOf({}));
    const raw =
      '[ {"userId":"alice","value":0.10000000000000000001,"eventId":"e1"} ,\n {"userId":"bob","value":2,"eventId":"e2"}]';
    const res = await call('POST', '/usage-records', undefined, { rawBody: raw });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ stream: 's0', accepted: 2, rejected: 0 });
    expect(res.body.results).toEqual([
      {
        index: 0,
        status: 'accepted',
        shardId: writer.records[0]?.shardId,
        sequenceNumber: writer.records[0]?.sequenceNumber,
      },
      {
        index: 1,
        status: 'accepted',
        shardId: writer.records[1]?.shardId,
        sequenceNumber: writer.records[1]?.sequenceNumber,
      },
    ]);
    expect(writer.records.map((r) => [r.streamName, r.partitionKey, text(r.data)])).toEqual([
      ['s0', 'alice', '{"userId":"alice","value":0.10000000000000000001,"eventId":"e1"}'],
      ['s0', 'bob', '{"userId":"bob","value":2,"eventId":"e2"}'],
    ]);
    // De-duplication is off by default: resending could count twice, and the answer says so.
    expect(res.body.warnings).toEqual([expect.objectContaining({ code: 'DEDUPLICATION_OFF' })]);
  });

  it('answers 400 naming the streams when there is more than one', async () => {
    const { call, writer } = await ingestApi(streamsOf({}, {}));
    const res = await call('POST', '/usage-records', [{ userId: 'alice', value: 1 }]);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('s0, s1');
    expect(writer.records).toEqual([]);
  });

  it('refuses bodies that are not an array of 1 to 500 records, writing nothing', async () => {
    const { call, writer } = await ingestApi(streamsOf({}));
    for (const body of [
      { userId: 'a' },
      [],
      'x',
      7,
      Array.from({ length: 501 }, () => ({ userId: 'a' })),
    ]) {
      const res = await call('POST', '/usage-records', body);
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(res.body.issues[0].field).toBe('(body)');
    }
    expect(writer.records).toEqual([]);
  });

  it('takes bodies up to 1 MiB here (413 above), while other routes keep 64 KiB', async () => {
    const { call } = await ingestApi(streamsOf({}));
    const record = (pad: number) => ({ userId: 'alice', value: 1, pad: 'x'.repeat(pad) });
    const big = JSON.stringify([record(200_000), record(200_000)]);
    expect((await call('POST', '/usage-records', undefined, { rawBody: big })).status).toBe(202);
    const tooBig = JSON.stringify([record(600_000), record(600_000)]);
    expect((await call('POST', '/usage-records', undefined, { rawBody: tooBig })).status).toBe(413);
    expect((await call('POST', '/meters', { pad: 'x'.repeat(70_000) })).status).toBe(413);
  });
});

describe('POST /streams/{name}/records', () => {
  it('rejects, per record and in order, what cannot be put, and puts the rest', async () => {
    const { call, writer } = await ingestApi(
      streamsOf({}, { fields: { userId: 'user.id' }, deduplication: { enabled: true } }),
    );
    const res = await call('POST', '/streams/s1/records', [
      { user: { id: 'alice' }, value: 1, eventId: 'e1' },
      'not an object',
      { userId: 'bob', value: 1 }, // the stream's user id is user.id
      { user: { id: 7 } },
      [1, 2],
      { user: { id: 'dave' }, value: 3 }, // no eventId: a warning
    ]);
    expect(res.status).toBe(202);
    expect(
      res.body.results.map((r: { status: string; reason?: string }) => r.reason ?? r.status),
    ).toEqual([
      'accepted',
      'NOT_AN_OBJECT',
      'NO_USER_ID',
      'NO_USER_ID',
      'NOT_AN_OBJECT',
      'accepted',
    ]);
    expect(res.body.results[1]).toMatchObject({ index: 1, retryable: false });
    expect(res.body).toMatchObject({ stream: 's1', accepted: 2, rejected: 4 });
    expect(writer.records.map((r) => r.partitionKey)).toEqual(['alice', 'dave']);
    expect(res.body.warnings).toEqual([
      { code: 'NO_EVENT_ID', message: expect.stringContaining('indexes 5') },
    ]);
  });

  it('rejects a record over Kinesis 1 MiB (data and partition key together)', async () => {
    const { call, writer } = await ingestApi(streamsOf({}));
    const userId = 'u'.repeat(256);
    const record = JSON.stringify({ userId, pad: '' });
    const pad = 'x'.repeat(1024 * 1024 - 2 - record.length);
    const body = `[${JSON.stringify({ userId, pad })}]`;
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    const res = await call('POST', '/streams/s0/records', undefined, { rawBody: body });
    expect(res.status).toBe(202);
    expect(res.body.results).toEqual([
      expect.objectContaining({ reason: 'TOO_LARGE', retryable: false }),
    ]);
    expect(writer.records).toEqual([]);
  });

  it('leaves warnings out when every record carries an eventId and the stream de-duplicates', async () => {
    const { call } = await ingestApi(streamsOf({ deduplication: { enabled: true } }));
    const res = await call('POST', '/streams/s0/records', [{ userId: 'a', eventId: 'e1' }]);
    expect(res.status).toBe(202);
    expect(res.body).not.toHaveProperty('warnings');
  });

  it('reads the user id after enrichment, as ingestion does (a rename supplies it)', async () => {
    const { call, writer } = await ingestApi(
      streamsOf({ enrichment: { rename: { customer: 'userId' } } }),
    );
    const res = await call('POST', '/streams/s0/records', [{ customer: 'erin', value: 1 }]);
    expect(res.body.results[0].status).toBe('accepted');
    expect(writer.records[0]?.partitionKey).toBe('erin');
    // The record goes on the stream as sent: ingestion enriches it itself.
    expect(text(writer.records[0]?.data ?? new Uint8Array())).toBe('{"customer":"erin","value":1}');
  });

  it("reports the stream's refusals per record as retryable (throttled, internal failure)", async () => {
    const { call, writer } = await ingestApi(streamsOf({}));
    writer.refuseNext(undefined, 'ProvisionedThroughputExceededException', 'InternalFailure');
    const res = await call('POST', '/streams/s0/records', [
      { userId: 'a' },
      { userId: 'b' },
      { userId: 'c' },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.results.slice(1)).toEqual([
      expect.objectContaining({ index: 1, reason: 'THROTTLED', retryable: true }),
      expect.objectContaining({ index: 2, reason: 'STREAM_FAILURE', retryable: true }),
    ]);
    expect(res.body).toMatchObject({ accepted: 1, rejected: 2 });
  });

  it('answers 503 when the stream is unavailable and nothing was put, and 404 for an unknown stream', async () => {
    const { call, writer } = await ingestApi(streamsOf({}));
    writer.failNext(new ServiceUnavailableError('stream s0 is busy; retry shortly', 1));
    expect((await call('POST', '/streams/s0/records', [{ userId: 'a' }])).status).toBe(503);
    expect((await call('POST', '/streams/nope/records', [{ userId: 'a' }])).status).toBe(404);
    expect(writer.records).toEqual([]);
  });
});
