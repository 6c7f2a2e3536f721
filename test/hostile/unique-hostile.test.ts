/**
 * Hostile values for the `unique` aggregation (issue 17): records whose counted field is a 1 MB
 * string, strings that differ only by Unicode normalization, lone surrogates, `-0`, 1e308, huge
 * integers, numeric strings, booleans, objects, arrays and `null`, a field path through an array
 * or a prototype-ish key, and `__proto__` keys. Each record is counted once (a value seen again
 * adds nothing) or is in data correction with a reason naming the field: never a crash, never a
 * failed batch (the shard would stop), never dropped without a trace. The same records sent with
 * `POST /usage-records` and delivered from the stream end the same way.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDataCorrectionStore } from '../../shared/adapters/in-memory/data-correction-store.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { correctionIdFor } from '../../shared/domain/data-correction.js';
import { apiUnderTest } from '../support/api.js';
import {
  ingestUnderTest,
  kinesisEvent,
  STREAM,
  streamConfig,
  type TestRecord,
} from '../support/ingest.js';

type Harness = Awaited<ReturnType<typeof ingestUnderTest>>;

const SHARD = 'shardId-000000000000';
const AT = '2025-01-15T10:00:00Z';

/** How a case must end: the meter's distinct count, and per record 'counted' or a reason. */
interface Expected {
  distinct: number;
  outcomes: ('counted' | 'INVALID_RECORD' | 'UNIQUE_LIMIT_EXCEEDED')[];
  /** Records the meter counted before the batch. */
  recordCountBefore?: number;
  /** What each correction's message says (the field, and why). */
  message?: RegExp;
}

interface UniqueCase {
  name: string;
  /** The counted field's path (default `deviceId`). */
  field?: string;
  /** The members after `userId` and `timestamp`, as JSON text, one entry a record. */
  members: string[];
  expected: Expected;
}

const device = (json: string) => `"deviceId":${json}`;
const MB_STRING = 'x'.repeat(1_000_000);
const invalid = (n: number): Expected['outcomes'] => Array(n).fill('INVALID_RECORD');
const counted = (n: number): Expected['outcomes'] => Array(n).fill('counted');

const cases: UniqueCase[] = [
  {
    name: 'a 1 MB string, the same again, and one differing in its last character',
    members: [
      device(JSON.stringify(MB_STRING)),
      device(JSON.stringify(MB_STRING)),
      device(JSON.stringify(`${MB_STRING.slice(1)}y`)),
    ],
    expected: { distinct: 2, outcomes: counted(3) },
  },
  {
    // Values are compared as sent: no Unicode normalization, so canonically equal strings in
    // different forms (NFC é, NFD e + combining acute; Å and the Angstrom sign) are different values.
    name: 'strings that differ only by Unicode normalization are different values',
    members: ['\u00e9', 'e\u0301', '\u00c5', '\u212b', '\u00e9'].map((s) =>
      device(JSON.stringify(s)),
    ),
    expected: { distinct: 4, outcomes: counted(5) },
  },
  {
    // JSON escapes can carry lone surrogates; each is a value of its own, and an escaped pair
    // is the same value as the character written out.
    name: 'lone surrogates (escaped), a surrogate pair, and the same character written out',
    members: [
      device('"\\ud800"'),
      device('"\\udc00"'),
      device('"\\ud800\\udc00"'),
      device('"\u{10000}"'),
      device('"a\\ud800b"'),
      device('"\\ud800"'),
    ],
    expected: { distinct: 4, outcomes: counted(6) },
  },
  {
    // JSON has one zero: -0, 0, 0.0, 0e5 and an underflowing -1e-400 are all the number 0.
    name: '-0, 0, 0.0, 0e5 and -1e-400 are one value',
    members: ['-0', '0', '0.0', '0e5', '-1e-400'].map(device),
    expected: { distinct: 1, outcomes: counted(5) },
  },
  {
    name: '1e308 and the largest double are values; 1e309 (not a finite number) is refused',
    members: ['1e308', '1.7976931348623157e308', '1e308', '1e309', '-1e309'].map(device),
    expected: {
      distinct: 2,
      outcomes: [...counted(3), ...invalid(2)],
      message: /^deviceId: must be a string, number or boolean/,
    },
  },
  {
    // Numbers are compared as JSON parses them (doubles): integers beyond 2^53 that round to the
    // same double are one value. Identifiers that large belong in strings, which stay exact.
    name: 'integers beyond 2^53 that round to one double are one value; as strings they are two',
    members: [
      '12345678901234567890',
      '12345678901234567891',
      '"12345678901234567890"',
      '"12345678901234567891"',
    ].map(device),
    expected: { distinct: 3, outcomes: counted(4) },
  },
  {
    name: 'numbers and numeric strings are different values; 7 and 7.0 are one number',
    members: ['7', '"7"', '7.0', '"7.0"', '7e0', '" 7"'].map(device),
    expected: { distinct: 4, outcomes: counted(6) },
  },
  {
    name: 'booleans, their strings and 1/0 are different values',
    members: ['true', '"true"', 'false', '1', '0', 'true'].map(device),
    expected: { distinct: 5, outcomes: counted(6) },
  },
  {
    name: 'the empty string is a value like any other',
    members: ['""', '""', '" "'].map(device),
    expected: { distinct: 2, outcomes: counted(3) },
  },
  {
    name: 'objects, arrays and null are refused naming the field',
    members: ['{}', '[]', 'null', '{"id":"d1"}', '["d1"]', '[[]]'].map(device),
    expected: {
      distinct: 0,
      outcomes: invalid(6),
      message: /^deviceId: (must be a string, number or boolean|is required)/,
    },
  },
  {
    name: 'a missing field is refused naming the field, a present one beside it counts',
    members: ['"deviceID":"d1"', '"device":"d1"', device('"d1"')],
    expected: { distinct: 1, outcomes: [...invalid(2), 'counted'], message: /^deviceId: / },
  },
  {
    // Field paths never walk into arrays, so `device.id` through an array is missing.
    name: 'a dotted field path through an array is missing; through an object it counts',
    field: 'device.id',
    members: [
      '"device":[{"id":"d1"}]',
      '"device":{"id":["d1"]}',
      '"device.id":"d1"',
      '"device":{"id":"d1"}',
    ],
    expected: { distinct: 1, outcomes: [...invalid(3), 'counted'], message: /^device\.id: / },
  },
  {
    name: 'a numeric path part does not index an array',
    field: 'items.0',
    members: ['"items":["a"]', '"items":{"0":"a"}'],
    expected: { distinct: 1, outcomes: ['INVALID_RECORD', 'counted'], message: /^items\.0: / },
  },
  {
    // JSON.parse makes `__proto__` an own key; reads never follow the prototype chain.
    name: 'a __proto__ key never supplies the field, and beside the field changes nothing',
    field: 'device.id',
    members: [
      '"__proto__":{"device":{"id":"evil"}}',
      '"device":{"__proto__":{"id":"evil"}}',
      '"device":{"id":"d1"},"__proto__":{"polluted":true}',
      '"device":{"id":"d1","__proto__":{"polluted":true}}',
    ],
    expected: { distinct: 1, outcomes: [...invalid(2), ...counted(2)], message: /^device\.id: / },
  },
  {
    name: 'a field named like an Object.prototype member is read only as an own key',
    field: 'toString',
    members: ['"hasOwnProperty":"x"', '"toString":"t1"', '"toString":{}'],
    expected: {
      distinct: 1,
      outcomes: ['INVALID_RECORD', 'counted', 'INVALID_RECORD'],
      message: /^toString: /,
    },
  },
];

let t: Harness;
let users = 0;

/** A fresh user with one monthly unique meter on `field`. */
async function uniqueMeterFor(field: string) {
  const user = `unique-user-${++users}`;
  const { meter } = await t.meterFor(user, {
    unit: 'devices',
    aggregation: { type: 'unique', field },
  });
  return { user, meterId: meter.id };
}

const recordText = (user: string, members: string) =>
  `{"userId":${JSON.stringify(user)},"timestamp":"${AT}",${members}}`;

/** Delivers the records as one batch, twice (a Lambda retry), and checks how each ended. */
async function deliverAndCheck(
  meterId: string,
  records: TestRecord[],
  expected: Expected,
): Promise<void> {
  const event = kinesisEvent(records, SHARD);
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await t.handler(event);
    expect(response.batchItemFailures, 'a hostile value failed the batch').toEqual([]);
  }
  const outcomes: string[] = [];
  for (const record of records) {
    const id = correctionIdFor(STREAM, SHARD, record.sequenceNumber ?? '');
    const correction = await t.corrections.get(id);
    outcomes.push(correction?.reason ?? 'counted');
    if (correction) expect(correction.message).toMatch(expected.message ?? /^$/);
  }
  expect(outcomes).toEqual(expected.outcomes);
  const view = await t.meters.get(meterId);
  expect(view).toMatchObject({
    value: expected.distinct,
    meterMetaData: {
      recordCount:
        (expected.recordCountBefore ?? 0) + expected.outcomes.filter((o) => o === 'counted').length,
    },
  });
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
}

describe('hostile values for a unique meter', () => {
  beforeAll(async () => {
    t = await ingestUnderTest(streamConfig());
    t.clock.now = new Date('2025-01-15T12:00:00Z');
  });

  describe('from the stream', () => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const { user, meterId } = await uniqueMeterFor(c.field ?? 'deviceId');
      const records = c.members.map((members) => ({
        data: undefined,
        raw: recordText(user, members),
      }));
      await deliverAndCheck(meterId, records, c.expected);
    });

    it('sends a new 1 MB value past maxDistinct to data correction, and still counts one seen before', async () => {
      const user = `unique-user-${++users}`;
      const { meter } = await t.meterFor(user, {
        aggregation: { type: 'unique', field: 'deviceId', maxDistinct: 2 },
      });
      const big = (c: string) => device(JSON.stringify(c.repeat(1_000_000)));
      const records = [big('a'), big('b'), big('c'), big('a')].map(
        (members): TestRecord => ({
          data: undefined,
          raw: recordText(user, members),
        }),
      );
      await deliverAndCheck(meter.id, records.slice(0, 3), {
        distinct: 2,
        outcomes: ['counted', 'counted', 'UNIQUE_LIMIT_EXCEEDED'],
        message: /maxDistinct/,
      });
      await deliverAndCheck(meter.id, records.slice(3), {
        distinct: 2,
        outcomes: ['counted'],
        recordCountBefore: 2,
      });
      const refused = await t.corrections.get(
        correctionIdFor(STREAM, SHARD, records[2]?.sequenceNumber ?? ''),
      );
      // Too large to keep whole: its size and digest say what it was.
      const raw = Buffer.from(records[2]?.raw ?? '');
      expect(refused).toMatchObject({
        meterIds: [meter.id],
        dataTruncated: true,
        dataBytes: raw.byteLength,
        dataSha256: createHash('sha256').update(raw).digest('hex'),
      });
    });

    it('refuses a value that is not UTF-8 (an encoded lone surrogate) as INVALID_RECORD', async () => {
      const { user, meterId } = await uniqueMeterFor('deviceId');
      const bytes = Buffer.concat([
        Buffer.from(recordText(user, '"deviceId":"').slice(0, -1)),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]);
      const event = kinesisEvent([{ data: null }], SHARD);
      const record = event.Records[0];
      if (record) record.kinesis.data = bytes.toString('base64');
      expect((await t.handler(event)).batchItemFailures).toEqual([]);
      const correction = await t.corrections.get(
        correctionIdFor(STREAM, SHARD, record?.kinesis.sequenceNumber ?? ''),
      );
      expect(correction).toMatchObject({
        reason: 'INVALID_RECORD',
        data: bytes.toString('base64'),
      });
      expect(await t.meters.get(meterId)).toMatchObject({
        value: 0,
        meterMetaData: { recordCount: 0 },
      });
    });
  });

  describe('sent with POST /usage-records', () => {
    /** The API on the harness's streams, putting records into a writer the test reads. */
    async function httpApi() {
      const writer = new InMemoryUsageStreamWriter();
      const api = await apiUnderTest({
        streams: t.streams,
        dataCorrections: {
          corrections: new InMemoryDataCorrectionStore(),
          streamWriter: writer,
          streams: t.streams,
          now: () => t.clock.now,
          log: () => {},
        },
      });
      return { api, writer };
    }

    // The HTTP route refuses a body with `__proto__` keys as a whole (400, nothing put).
    const httpCases = cases.filter((c) => !c.members.some((m) => m.includes('__proto__')));

    it.each(httpCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const { user, meterId } = await uniqueMeterFor(c.field ?? 'deviceId');
      const { api, writer } = await httpApi();
      // One request a record: three 1 MB records would not fit one body (1 MiB at most).
      for (const members of c.members) {
        const body = `[${recordText(user, members)}]`;
        const res = await api.call('POST', '/usage-records', undefined, { rawBody: body });
        expect(res.status).toBe(202);
        expect(res.body).toMatchObject({ accepted: 1, rejected: 0 });
      }
      expect(api.errors).toEqual([]);
      expect(writer.records).toHaveLength(c.members.length);
      const records = writer.records.map((r) => ({
        data: undefined,
        raw: new TextDecoder().decode(r.data),
      }));
      await deliverAndCheck(meterId, records, c.expected);
    });

    it('refuses a body whose record has a __proto__ key, putting nothing', async () => {
      const { api, writer } = await httpApi();
      const body = `[${recordText('alice', '"deviceId":"d1","__proto__":{"polluted":true}')}]`;
      const res = await api.call('POST', '/usage-records', undefined, { rawBody: body });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/reserved key/);
      expect(writer.records).toEqual([]);
    });
  });
});
