/**
 * Hostile input for HTTP ingestion (`POST /streams/{name}/records`, `POST /usage-records`):
 * whatever the body, a 4xx that names the problem and nothing put, or a 202 whose results say
 * per record what happened. Never a 500, and never a record put that the answer does not list.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryDataCorrectionStore } from '../../shared/adapters/in-memory/data-correction-store.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { apiUnderTest, testStreams } from '../support/api.js';

const MIB = 1024 * 1024;
const path = '/streams/test-stream-0/records';

interface Case {
  name: string;
  raw: string;
  contentType?: string;
  status: number;
  /** For a 202: each record's status or reason, in order. */
  results?: string[];
  /** For a 4xx: what the message says. */
  message?: RegExp;
}

const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const cases: Case[] = [
  { name: 'malformed JSON', raw: '[{"userId":"a"', status: 400, message: /not valid JSON/ },
  { name: 'null', raw: 'null', status: 400, message: /JSON array/ },
  { name: 'an object, not an array', raw: '{"userId":"a"}', status: 400, message: /JSON array/ },
  { name: 'an empty array', raw: '[]', status: 400, message: /1 to 500/ },
  {
    name: '501 records',
    raw: JSON.stringify(Array.from({ length: 501 }, () => ({ userId: 'a' }))),
    status: 400,
    message: /1 to 500/,
  },
  {
    name: 'over 1 MiB',
    raw: `[{"userId":"a","p":"${'x'.repeat(MIB)}"}]`,
    status: 413,
    message: /at most/,
  },
  {
    name: 'text/plain',
    raw: '[{"userId":"a"}]',
    contentType: 'text/plain',
    status: 415,
    message: /JSON/,
  },
  {
    name: 'a __proto__ key in a record',
    raw: '[{"userId":"a","__proto__":{"admin":true}}]',
    status: 400,
    message: /reserved key/,
  },
  {
    name: 'null, numbers, strings, arrays as records',
    raw: '[null,1,"a",[],true]',
    status: 202,
    results: Array(5).fill('NOT_AN_OBJECT'),
  },
  {
    name: 'deeply nested arrays as the record',
    raw: `[${'['.repeat(100_000)}${']'.repeat(100_000)}]`,
    status: 202,
    results: ['NOT_AN_OBJECT'],
  },
  {
    name: 'a deeply nested field in a record',
    raw: `[{"userId":"a","x":${deep(50_000)}}]`,
    status: 202,
    results: ['accepted'],
  },
  {
    name: 'user ids: empty, a number, 257 characters, an object, missing',
    raw: JSON.stringify([
      { userId: '' },
      { userId: 1 },
      { userId: 'u'.repeat(257) },
      { userId: {} },
      {},
    ]),
    status: 202,
    results: Array(5).fill('NO_USER_ID'),
  },
  {
    name: 'odd but valid user ids: emoji, control characters, 256 characters',
    raw: JSON.stringify([{ userId: '🦄' }, { userId: 'a\u0000b\n' }, { userId: 'u'.repeat(256) }]),
    status: 202,
    results: ['accepted', 'accepted', 'accepted'],
  },
  {
    name: 'values JSON cannot hold as a double (ingestion judges them, from the bytes as sent)',
    raw: '[{"userId":"a","value":1e400},{"userId":"a","value":-0.0000000000000000000000001}]',
    status: 202,
    results: ['accepted', 'accepted'],
  },
  {
    name: 'brackets, commas and escaped quotes inside strings',
    raw: '[{"userId":"a,]\\"[","note":"},{"}]',
    status: 202,
    results: ['accepted'],
  },
];

describe('hostile HTTP ingestion input', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const writer = new InMemoryUsageStreamWriter();
    const { call, errors } = await apiUnderTest({
      streams: testStreams(['k']),
      dataCorrections: {
        corrections: new InMemoryDataCorrectionStore(),
        streamWriter: writer,
        streams: testStreams(['k']),
        now: () => new Date(),
        log: () => {},
      },
    });
    const res = await call('POST', path, undefined, { rawBody: c.raw, contentType: c.contentType });
    expect(res.status).toBe(c.status);
    expect(errors).toEqual([]);
    if (c.status !== 202) {
      expect(res.body.message).toMatch(c.message ?? /./);
      expect(writer.records).toEqual([]);
      return;
    }
    const results = res.body.results as {
      status: string;
      reason?: string;
      sequenceNumber?: string;
    }[];
    expect(results.map((r) => r.reason ?? r.status)).toEqual(c.results);
    // Exactly the accepted records were put, in order, with the sequence numbers the answer gives.
    expect(writer.records.map((r) => r.sequenceNumber)).toEqual(
      results.filter((r) => r.status === 'accepted').map((r) => r.sequenceNumber),
    );
  });

  it('puts each record with its bytes as sent', async () => {
    const writer = new InMemoryUsageStreamWriter();
    const { call } = await apiUnderTest({
      streams: testStreams(['k']),
      dataCorrections: {
        corrections: new InMemoryDataCorrectionStore(),
        streamWriter: writer,
        streams: testStreams(['k']),
        now: () => new Date(),
        log: () => {},
      },
    });
    const records = [
      '{"userId":"a","value":1e400}',
      '{ "userId" : "b\\u0041" , "v":[1,{"x":"]"}] }',
    ];
    await call('POST', path, undefined, { rawBody: `[${records.join(',')}]` });
    expect(writer.records.map((r) => new TextDecoder().decode(r.data))).toEqual(records);
    expect(writer.records.map((r) => r.partitionKey)).toEqual(['a', 'bA']);
  });
});
