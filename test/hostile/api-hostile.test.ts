/**
 * Hostile input for the HTTP API (issue 8, item 2). Malformed JSON, wrong types, NaN and
 * Infinity, huge and negative numbers, 1 MiB strings, deep nesting, prototype keys, control
 * and unicode characters in ids, attribute-name look-alikes, forged path ids and paging
 * tokens. Every case must end in a 4xx whose message names the problem, or, for an odd but
 * valid input (an emoji user id, a `#` in a meter key), a 2xx that stores it verbatim.
 * Never a 500, a crash, a polluted prototype, or a changed meter type, meter or summary.
 *
 * Cases marked as fixed bugs failed once; they assert the behaviour a client relies on and were
 * reported with their cause and a suggested fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, apiUnderTest, meterTypeBody } from '../support/api.js';

type Api = Awaited<ReturnType<typeof apiUnderTest>>;

interface HostileCase {
  name: string;
  method: string;
  /** Under the base path; `@TYPE@`, `@METER@`, `@SINK@` and `@SPARE@` are replaced by ids. */
  path: string;
  /** Sent as JSON (placeholders replaced). */
  body?: unknown;
  /** Sent as is (placeholders replaced), instead of `body`. */
  raw?: string;
  contentType?: string;
  query?: Record<string, string>;
  /** The acceptable 4xx codes. */
  status: number[];
  /** What the error message must say. */
  message: RegExp;
  /** For odd but valid input: a 2xx is right too, when this check of what was stored passes. */
  accept?: (response: ApiResponse) => Promise<void>;
}

const MIB = 1024 * 1024;
const monthly = { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' };

let api: Api;
/**
 * The reference meter type and meter that hostile PATCH and DELETE requests aim at, the type
 * that hostile meter creations use, and a spare meter for a PATCH that may rightly succeed.
 */
const ids = { type: '', meter: '', sink: '', spare: '' };
const tally = { cases: 0, ok: 0, clientErrors: 0, serverErrors: 0, crashes: 0 };

/** Nested objects `{"a":{"a":...1}}` of the given depth, as JSON text. */
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
/** Nested arrays `[[[...]]]` of the given depth, as JSON text. */
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const base64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString(
    'base64url',
  );

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;
/** A valid meter-creation body on the sink type, with a user of its own. */
const meterBody = (overrides: Record<string, unknown> = {}) => ({
  meterKey: 'hostile',
  meterTypeId: '@SINK@',
  userId: unique('user'),
  ...overrides,
});
/** A valid meter-creation body as JSON text with `extra` (raw JSON members) appended. */
const rawMeterBody = (extra: string) => {
  const body = JSON.stringify(meterBody());
  return `${body.slice(0, -1)},${extra}}`;
};
const rawTypeBody = (extra: string) => {
  const body = JSON.stringify(meterTypeBody());
  return `${body.slice(0, -1)},${extra}}`;
};

function fill(text: string): string {
  return text
    .replaceAll('@TYPE@', ids.type)
    .replaceAll('@METER@', ids.meter)
    .replaceAll('@SINK@', ids.sink)
    .replaceAll('@SPARE@', ids.spare);
}

async function send(c: HostileCase): Promise<ApiResponse> {
  const raw =
    c.raw !== undefined
      ? fill(c.raw)
      : c.body === undefined
        ? undefined
        : fill(JSON.stringify(c.body));
  const query = c.query
    ? Object.fromEntries(Object.entries(c.query).map(([k, v]) => [k, fill(v)]))
    : undefined;
  return api.call(c.method, fill(c.path), undefined, {
    ...(raw !== undefined ? { rawBody: raw } : {}),
    ...(c.contentType !== undefined ? { contentType: c.contentType } : {}),
    ...(query ? { query } : {}),
  });
}

/** Everything a hostile request must leave alone. */
async function snapshot() {
  const [type, meter, summary] = await Promise.all([
    api.call('GET', `/meter-types/${ids.type}`),
    api.call('GET', `/meters/${ids.meter}`),
    api.call('GET', '/summary'),
  ]);
  return { type: type.body, meter: meter.body, summary: summary.body };
}

/** Every object in a value read back from the store is a plain object or array. */
function expectPlainPrototypes(value: unknown, path = 'customFields'): void {
  if (typeof value !== 'object' || value === null) return;
  const proto = Object.getPrototypeOf(value);
  expect(
    proto === Object.prototype || proto === Array.prototype,
    `${path} has a foreign prototype`,
  ).toBe(true);
  for (const [key, child] of Object.entries(value)) expectPlainPrototypes(child, `${path}.${key}`);
}

async function runCase(c: HostileCase): Promise<void> {
  tally.cases++;
  const before = await snapshot();
  let response: ApiResponse;
  try {
    response = await send(c);
  } catch (error) {
    tally.crashes++;
    throw error;
  }
  if (response.status >= 500) tally.serverErrors++;
  else if (response.status >= 400) tally.clientErrors++;
  else tally.ok++;
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  const after = await snapshot();
  if (response.status < 300 && c.accept) {
    await c.accept(response);
    expect(after.type).toEqual(before.type);
    expect(after.meter).toEqual(before.meter);
    return;
  }
  expect(response.status, `${response.status} ${JSON.stringify(response.body)}`).toBeOneOf(
    c.status,
  );
  expect(response.body?.message).toMatch(c.message);
  expect(after, 'a refused request changed stored state').toEqual(before);
}

/** Accepts a created meter only if it reads back exactly as sent, with plain prototypes. */
function meterStoredVerbatim(sent: Record<string, unknown>) {
  return async (response: ApiResponse) => {
    expect(response.status).toBe(201);
    const read = await api.call('GET', `/meters/${response.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.meterKey).toBe(sent.meterKey);
    expect(read.body.userId).toBe(sent.userId);
    expect(read.body.customFields).toEqual(sent.customFields ?? {});
    const stored = await api.deps.meters.get(response.body.id);
    expectPlainPrototypes(stored?.customFields);
    const listed = await api.call('GET', '/meters', undefined, {
      query: { meterKey: String(sent.meterKey), userId: String(sent.userId) },
    });
    expect(listed.status).toBe(200);
    expect(listed.body.meters.map((m: { id: string }) => m.id)).toEqual([response.body.id]);
  };
}

/** Accepts a created meter type only if the number reads back exactly as sent. */
function typeStoredVerbatim(field: string, pick: (type: any) => unknown, sent: unknown) {
  return async (response: ApiResponse) => {
    expect(response.status, field).toBe(201);
    const read = await api.call('GET', `/meter-types/${response.body.id}`);
    expect(pick(read.body)).toEqual(sent);
  };
}

/** Accepts a list answer (a forged but harmless position) if it lists only items of that list. */
function listsOnly(kind: 'meters' | 'meterTypes') {
  return async (response: ApiResponse) => {
    expect(response.status).toBe(200);
    const items = response.body[kind] as Record<string, unknown>[];
    for (const item of items) {
      expect(Object.keys(item)).toContain(kind === 'meters' ? 'meterKey' : 'aggregation');
      expect(Object.keys(item)).not.toContain('pk');
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

const bodyRoutes = [
  { method: 'POST', path: '/meter-types' },
  { method: 'PATCH', path: '/meter-types/@TYPE@' },
  { method: 'POST', path: '/meters' },
  { method: 'PATCH', path: '/meters/@METER@' },
] as const;

const malformedJson: [string, string][] = [
  ['an unclosed object', '{'],
  ['a member without a value', '{"name":'],
  ['a trailing comma', '{"unit":"hours",}'],
  ['single quotes', "{'unit':'hours'}"],
  ['a bare word', 'nul'],
  ['an extra closing brace', '{"unit":"hours"}}'],
  ['a missing comma', '{"unit":"hours" "deleteOnReset":true}'],
  ['a NaN literal', '{"capacity":NaN}'],
  ['an Infinity literal', '{"capacity":Infinity}'],
  ['a -Infinity literal', '{"capacity":-Infinity}'],
  ['a leading zero', '{"capacity":01}'],
  ['an invalid escape', '{"unit":"\\x41"}'],
  ['a raw control character in a string', '{"unit":"a\u0001b"}'],
  ['a NUL byte', '\u0000'],
  ['a comment', '{"unit":"hours" /* hi */}'],
];

const notObjects: [string, string][] = [
  ['an array', '[]'],
  ['null', 'null'],
  ['a number', '42'],
  ['a string', '"meter"'],
  ['true', 'true'],
  ['an array holding the body', '[{"unit":"hours","deleteOnReset":true}]'],
  ['an empty body', ''],
];

const contentTypes = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'application/jsonp',
  'text/json',
  'application/json-patch',
];

const syntaxCases: HostileCase[] = [
  ...bodyRoutes.flatMap(({ method, path }) =>
    malformedJson.map(
      ([what, raw]): HostileCase => ({
        name: `${method} ${path}: ${what}`,
        method,
        path,
        raw,
        status: [400],
        message: /not valid JSON/,
      }),
    ),
  ),
  ...bodyRoutes.flatMap(({ method, path }) =>
    notObjects.map(
      ([what, raw]): HostileCase => ({
        name: `${method} ${path}: ${what} instead of an object`,
        method,
        path,
        raw,
        status: [400],
        message: /\(body\)|object/,
      }),
    ),
  ),
  ...bodyRoutes.flatMap(({ method, path }) =>
    contentTypes.map(
      (contentType): HostileCase => ({
        name: `${method} ${path}: content-type '${contentType}'`,
        method,
        path,
        raw: '{"unit":"hours"}',
        contentType,
        status: [415],
        message: /content-type: application\/json/,
      }),
    ),
  ),
];

/** POST /meter-types with one field overridden. */
const typeField = (
  name: string,
  overrides: Record<string, unknown>,
  message: RegExp,
  accept?: HostileCase['accept'],
): HostileCase => ({
  name: `POST /meter-types: ${name}`,
  method: 'POST',
  path: '/meter-types',
  body: meterTypeBody(overrides),
  status: [400],
  message,
  ...(accept ? { accept } : {}),
});
/** POST /meter-types with raw JSON members appended to a valid body. */
const typeRaw = (name: string, extra: string, message: RegExp): HostileCase => ({
  name: `POST /meter-types: ${name}`,
  method: 'POST',
  path: '/meter-types',
  raw: rawTypeBody(extra),
  status: [400],
  message,
});
const patchType = (name: string, body: unknown, message: RegExp): HostileCase => ({
  name: `PATCH /meter-types/{id}: ${name}`,
  method: 'PATCH',
  path: '/meter-types/@TYPE@',
  body,
  status: [400],
  message,
});
const patchTypeRaw = (name: string, raw: string, message: RegExp): HostileCase => ({
  name: `PATCH /meter-types/{id}: ${name}`,
  method: 'PATCH',
  path: '/meter-types/@TYPE@',
  raw,
  status: [400],
  message,
});
const createMeter = (
  name: string,
  body: Record<string, unknown>,
  message: RegExp,
  accept?: HostileCase['accept'],
): HostileCase => ({
  name: `POST /meters: ${name}`,
  method: 'POST',
  path: '/meters',
  body,
  status: [400],
  message,
  ...(accept ? { accept } : {}),
});
const createMeterRaw = (
  name: string,
  raw: string,
  message: RegExp,
  accept?: HostileCase['accept'],
): HostileCase => ({
  name: `POST /meters: ${name}`,
  method: 'POST',
  path: '/meters',
  raw,
  status: [400],
  message,
  ...(accept ? { accept } : {}),
});
const patchMeter = (name: string, body: unknown, message: RegExp): HostileCase => ({
  name: `PATCH /meters/{id}: ${name}`,
  method: 'PATCH',
  path: '/meters/@METER@',
  body,
  status: [400],
  message,
});
const patchMeterRaw = (name: string, raw: string, message: RegExp): HostileCase => ({
  name: `PATCH /meters/{id}: ${name}`,
  method: 'PATCH',
  path: '/meters/@METER@',
  raw,
  status: [400],
  message,
});

const wrongTypeCases: HostileCase[] = [
  typeField('name as a number', { name: 42 }, /name/),
  typeField('name null', { name: null }, /name/),
  typeField('name as an array', { name: ['a'] }, /name/),
  typeField('name as an object', { name: { first: 'a' } }, /name/),
  typeField('name empty', { name: '' }, /name/),
  typeField('unit as a boolean', { unit: true }, /unit/),
  typeField('aggregation as a string', { aggregation: 'sum' }, /aggregation/),
  typeField('an unknown aggregation', { aggregation: { type: 'avg' } }, /aggregation/),
  typeField('aggregation with an extra key', { aggregation: { type: 'sum', x: 1 } }, /aggregation/),
  typeField('resetSchedule as a cron string', { resetSchedule: '0 0 1 * *' }, /resetSchedule/),
  typeField(
    'resetSchedule with numbers',
    { resetSchedule: { minute: 0, hour: 0, day: 1, month: '*', weekday: '*' } },
    /resetSchedule/,
  ),
  typeField(
    'a schedule that never fires',
    { resetSchedule: { ...monthly, day: '31', month: '2' } },
    /resetSchedule|never/,
  ),
  typeField('an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, /timezone/),
  typeField('a time zone with SQL in it', { timezone: "UTC'; DROP TABLE x;--" }, /timezone/),
  typeField('thresholds as an object', { thresholds: { a: 1 } }, /thresholds/),
  typeField('a threshold without value', { thresholds: [{ name: 'a' }] }, /thresholds/),
  typeField(
    'a threshold value as a string',
    { thresholds: [{ name: 'a', value: '5' }] },
    /thresholds/,
  ),
  typeField(
    'eleven thresholds',
    { thresholds: Array.from({ length: 11 }, (_, i) => ({ name: `t${i}`, value: i })) },
    /thresholds/,
  ),
  typeField(
    'a percent threshold without capacity',
    { thresholds: [{ name: 'a', percent: 50 }] },
    /thresholds.*capacity/,
  ),
  typeField('capacity as a string', { capacity: '100' }, /capacity/),
  typeField('capacity as a boolean', { capacity: true }, /capacity/),
  typeField('capacity as an array', { capacity: [100] }, /capacity/),
  typeField('an unknown capacityPolicy', { capacityPolicy: 'drop' }, /capacityPolicy/),
  typeField('activeFrom in words', { activeFrom: 'yesterday' }, /activeFrom/),
  typeField('activeFrom as epoch millis', { activeFrom: 1736899200000 }, /activeFrom/),
  typeField(
    'activeFrom after activeTo',
    { activeFrom: '2025-02-01T00:00:00Z', activeTo: '2025-01-01T00:00:00Z' },
    /activeTo/,
  ),
  typeField('gracePeriodSeconds as a string', { gracePeriodSeconds: '5' }, /gracePeriodSeconds/),
  typeField('gracePeriodSeconds fractional', { gracePeriodSeconds: 1.5 }, /gracePeriodSeconds/),
  typeField('description as a number', { description: 5 }, /description/),
  typeField('description too long', { description: 'x'.repeat(201) }, /description/),
  typeField('description with a NUL', { description: 'a\u0000b' }, /description/),
  typeField('externalRef empty', { externalRef: '' }, /externalRef/),
  typeField('externalRef with outer whitespace', { externalRef: ' ref' }, /externalRef/),
  typeField('category with a BEL', { category: 'a\u0007' }, /category/),
  patchType('name', { name: 'renamed' }, /name.*cannot be changed/),
  patchType('aggregation', { aggregation: { type: 'max' } }, /aggregation.*cannot be changed/),
  patchType('an empty change', {}, /at least one field/),
  patchType('capacity as a string', { capacity: '5' }, /capacity/),
  // null puts timezone back to its default (defect 5); a required field cannot be cleared.
  patchType('unit null', { unit: null }, /unit/),
  patchType('resetSchedule null', { resetSchedule: null }, /resetSchedule/),
  patchType('thresholds as a string', { thresholds: 'none' }, /thresholds/),
  patchMeter('an empty change', {}, /deleteOnReset or customFields/),
  patchMeter('deleteOnReset as a string', { deleteOnReset: 'yes' }, /deleteOnReset/),
  patchMeter('customFields as an array', { customFields: [1] }, /customFields/),
  patchMeter('customFields as a string', { customFields: 'gold' }, /customFields/),
  patchMeter('customFields null', { customFields: null }, /customFields/),
  patchMeter('meterKey', { meterKey: 'other' }, /meterKey/),
  patchMeter('userId', { userId: 'mallory' }, /userId/),
  createMeter('meterKey as a number', meterBody({ meterKey: 42 }), /meterKey/),
  createMeter('userId as an object', meterBody({ userId: { id: 'u' } }), /userId/),
  createMeter('meterTypeId not a UUID', meterBody({ meterTypeId: 'MT#1' }), /meterTypeId/),
  createMeter(
    'both meterTypeId and meterTypeExternalRef',
    meterBody({ meterTypeExternalRef: 'x' }),
    /meterTypeId/,
  ),
  createMeter(
    'neither meterTypeId nor meterTypeExternalRef',
    meterBody({ meterTypeId: undefined }),
    /meterTypeId/,
  ),
  createMeter('deleteOnReset as a string', meterBody({ deleteOnReset: 'true' }), /deleteOnReset/),
  createMeter(
    'customFields with an empty key',
    meterBody({ customFields: { '': 1 } }),
    /customFields/,
  ),
  createMeter(
    'customFields with a 101-character key',
    meterBody({ customFields: { ['k'.repeat(101)]: 1 } }),
    /customFields/,
  ),
  createMeter(
    'customFields over 4 KiB',
    meterBody({ customFields: { big: 'x'.repeat(5000) } }),
    /customFields.*4096/,
  ),
  {
    name: 'POST /meters: an unknown meter type id',
    method: 'POST',
    path: '/meters',
    body: meterBody({ meterTypeId: '00000000-0000-4000-8000-000000000000' }),
    status: [404],
    message: /meter type .* not found/,
  },
  {
    name: 'POST /meters: an unknown externalRef with a #',
    method: 'POST',
    path: '/meters',
    body: meterBody({ meterTypeId: undefined, meterTypeExternalRef: 'MTREF#x' }),
    status: [404],
    message: /externalRef/,
  },
];

const numberCases: HostileCase[] = [
  typeField('capacity "NaN"', { capacity: 'NaN' }, /capacity/),
  typeField('capacity "Infinity"', { capacity: 'Infinity' }, /capacity/),
  typeField('capacity "-Infinity"', { capacity: '-Infinity' }, /capacity/),
  typeField('capacity "1e309"', { capacity: '1e309' }, /capacity/),
  typeRaw('capacity 1e309 (Infinity after JSON.parse)', '"capacity":1e309', /capacity/),
  typeRaw('capacity -1e309', '"capacity":-1e309', /capacity/),
  typeRaw('gracePeriodSeconds 1e309', '"gracePeriodSeconds":1e309', /gracePeriodSeconds/),
  typeRaw('a threshold value of 1e309', '"thresholds":[{"name":"t","value":1e309}]', /thresholds/),
  typeRaw(
    'a threshold percent of 1e309',
    '"capacity":10,"thresholds":[{"name":"t","percent":1e309}]',
    /thresholds/,
  ),
  typeField('capacity -1', { capacity: -1 }, /capacity/),
  typeField('capacity 0', { capacity: 0 }, /capacity/),
  typeField('capacity -1e308', { capacity: -1e308 }, /capacity/),
  // Fixed bug (kept as a regression test): 500 today. lib-dynamodb refuses numbers beyond MAX_SAFE_INTEGER and DynamoDB numbers
  // beyond 9.99e125 or below 1e-130; the schema lets them through.
  typeField(
    'capacity 1e308',
    { capacity: 1e308 },
    /capacity/,
    typeStoredVerbatim('capacity', (t) => t.capacity, 1e308),
  ),
  // Fixed bug (kept as a regression test): 500 today (above Number.MAX_SAFE_INTEGER).
  typeField(
    'capacity 1e16',
    { capacity: 1e16 },
    /capacity/,
    typeStoredVerbatim('capacity', (t) => t.capacity, 1e16),
  ),
  // Fixed bug (kept as a regression test): 500 today (DynamoDB number underflow).
  typeField(
    'capacity 5e-324',
    { capacity: 5e-324 },
    /capacity/,
    typeStoredVerbatim('capacity', (t) => t.capacity, 5e-324),
  ),
  // Fixed bug (kept as a regression test): 500 today (DynamoDB number underflow).
  typeField(
    'capacity 1e-200',
    { capacity: 1e-200 },
    /capacity/,
    typeStoredVerbatim('capacity', (t) => t.capacity, 1e-200),
  ),
  // Fixed bug (kept as a regression test): 500 today (above Number.MAX_SAFE_INTEGER).
  typeField(
    'a threshold value of 1e200',
    { thresholds: [{ name: 't', value: 1e200 }] },
    /thresholds/,
    typeStoredVerbatim('thresholds', (t) => t.thresholds, [{ name: 't', value: 1e200 }]),
  ),
  // Fixed bug (kept as a regression test): 500 today (below Number.MIN_SAFE_INTEGER).
  typeField(
    'a threshold value of -1e200',
    { thresholds: [{ name: 't', value: -1e200 }] },
    /thresholds/,
    typeStoredVerbatim('thresholds', (t) => t.thresholds, [{ name: 't', value: -1e200 }]),
  ),
  typeField('gracePeriodSeconds -1', { gracePeriodSeconds: -1 }, /gracePeriodSeconds/),
  typeField('gracePeriodSeconds 1e20', { gracePeriodSeconds: 1e20 }, /gracePeriodSeconds/),
  typeField('gracePeriodSeconds 86401', { gracePeriodSeconds: 86_401 }, /gracePeriodSeconds/),
  typeField(
    'a threshold percent of 0',
    { capacity: 10, thresholds: [{ name: 't', percent: 0 }] },
    /thresholds/,
  ),
  typeField(
    'a negative threshold percent',
    { capacity: 10, thresholds: [{ name: 't', percent: -5 }] },
    /thresholds/,
  ),
  typeField(
    'a threshold percent of 1e20',
    { capacity: 10, thresholds: [{ name: 't', percent: 1e20 }] },
    /thresholds/,
  ),
  patchTypeRaw('capacity 1e309', '{"capacity":1e309}', /capacity/),
  patchType('capacity "1e309"', { capacity: '1e309' }, /capacity/),
  patchType('capacity -1', { capacity: -1 }, /capacity/),
  // Fixed bug (kept as a regression test): 500 today (above Number.MAX_SAFE_INTEGER). A refused PATCH leaves the type as it was.
  patchType('capacity 1e308', { capacity: 1e308 }, /capacity/),
  patchType('gracePeriodSeconds -1', { gracePeriodSeconds: -1 }, /gracePeriodSeconds/),
  patchType('gracePeriodSeconds 1e20', { gracePeriodSeconds: 1e20 }, /gracePeriodSeconds/),
  patchMeterRaw('deleteOnReset 1e309', '{"deleteOnReset":1e309}', /deleteOnReset/),
  // Fixed bug (kept as a regression test): 500 today. customFields values are stored as DynamoDB numbers, so a JSON number beyond
  // MAX_SAFE_INTEGER (or below 1e-130) cannot be stored; refuse it, or store customFields as text.
  createMeter(
    'a customFields number of 1e300',
    meterBody({ meterKey: 'cf-1e300', userId: 'cf', customFields: { a: 1e300 } }),
    /customFields/,
    meterStoredVerbatim({ meterKey: 'cf-1e300', userId: 'cf', customFields: { a: 1e300 } }),
  ),
  // Fixed bug (kept as a regression test): 500 today (DynamoDB number underflow).
  createMeter(
    'a customFields number of 1e-200',
    meterBody({ meterKey: 'cf-1e-200', userId: 'cf', customFields: { a: 1e-200 } }),
    /customFields/,
    meterStoredVerbatim({ meterKey: 'cf-1e-200', userId: 'cf', customFields: { a: 1e-200 } }),
  ),
  // Fixed bug (kept as a regression test): 500 today (above MAX_SAFE_INTEGER). 12345678901234567890 is a valid JSON number.
  createMeterRaw(
    'a customFields number of 12345678901234567890',
    rawMeterBody('"meterKey":"cf-big","userId":"cf","customFields":{"a":12345678901234567890}'),
    /customFields/,
    meterStoredVerbatim({
      meterKey: 'cf-big',
      userId: 'cf',
      customFields: JSON.parse('{"a":12345678901234567890}'),
    }),
  ),
  // Fixed bug (kept as a regression test): 500 today, same cause, through PATCH (of a meter of its own: storing it is fine too).
  {
    name: 'PATCH /meters/{id}: a customFields number of 1e300',
    method: 'PATCH',
    path: '/meters/@SPARE@',
    body: { customFields: { a: 1e300 } },
    status: [400],
    message: /customFields/,
    accept: async (response) => {
      expect(response.status).toBe(200);
      const read = await api.call('GET', `/meters/${ids.spare}`);
      expect(read.body.customFields).toEqual({ a: 1e300 });
    },
  },
];

const oversizeCases: HostileCase[] = [
  ...bodyRoutes.flatMap(({ method, path }) => [
    {
      name: `${method} ${path}: a 1 MiB string`,
      method,
      path,
      body: { unit: 'x'.repeat(MIB), description: 'y', customFields: { a: 'z' } },
      status: [413],
      message: /at most 65536 bytes/,
    },
    {
      name: `${method} ${path}: 64 KiB + 1 bytes`,
      method,
      path,
      raw: `{"unit":"${'x'.repeat(64 * 1024 - 10)}"}`,
      status: [413],
      message: /at most 65536 bytes/,
    },
    {
      name: `${method} ${path}: 30,000 three-byte characters (under 64 Ki characters, over 64 KiB)`,
      method,
      path,
      body: { unit: '€'.repeat(30_000) },
      status: [413],
      message: /at most 65536 bytes/,
    },
  ]),
  typeField('a 60 kB name (under the body limit)', { name: '€'.repeat(20_000) }, /name.*80/),
  createMeter('a 60 kB userId', meterBody({ userId: 'u'.repeat(60_000) }), /userId.*256/),
  patchMeter(
    'a 60 kB customFields value',
    { customFields: { a: 'x'.repeat(60_000) } },
    /customFields.*4096/,
  ),
];

const nestingCases: HostileCase[] = [
  // Fixed bug (kept as a regression test): 500 today. customFieldsSchema's byte-size refine runs JSON.stringify even after the
  // depth refine failed, and JSON.stringify overflows the stack at depth 10,000.
  createMeterRaw(
    'customFields nested 10,000 objects deep',
    rawMeterBody(`"customFields":${deepObject(10_000)}`),
    /customFields.*deeper than 8/,
  ),
  // Fixed bug (kept as a regression test): 500 today, same cause.
  createMeterRaw(
    'a customFields value nested 30,000 arrays deep',
    rawMeterBody(`"customFields":{"a":${deepArray(30_000)}}`),
    /customFields.*deeper than 8/,
  ),
  // Fixed bug (kept as a regression test): 500 today, same cause, through PATCH.
  patchMeterRaw(
    'customFields nested 10,000 objects deep',
    `{"customFields":${deepObject(10_000)}}`,
    /customFields.*deeper than 8/,
  ),
  // Fixed bug (kept as a regression test): 500 today, same cause.
  patchMeterRaw(
    'a customFields value nested 30,000 arrays deep',
    `{"customFields":{"a":${deepArray(30_000)}}}`,
    /customFields.*deeper than 8/,
  ),
  createMeterRaw(
    'customFields nested 9 deep',
    rawMeterBody(`"customFields":${deepObject(9)}`),
    /customFields.*deeper than 8/,
  ),
  typeRaw('an unknown field nested 10,000 deep', `"x":${deepObject(10_000)}`, /unknown field/),
  // A repeated member: JSON.parse keeps the last one.
  typeRaw('aggregation nested 10,000 deep', `"aggregation":${deepObject(10_000)}`, /aggregation/),
  patchTypeRaw(
    'an unknown field nested 10,000 deep',
    `{"x":${deepObject(10_000)}}`,
    /unknown field/,
  ),
  patchTypeRaw(
    'thresholds nested 30,000 deep',
    `{"thresholds":${deepArray(30_000)}}`,
    /thresholds/,
  ),
  patchTypeRaw(
    'description nested 10,000 deep',
    `{"description":${deepObject(10_000)}}`,
    /description/,
  ),
  createMeterRaw(
    'userId nested 10,000 deep',
    `{"meterKey":"k","meterTypeId":"@SINK@","userId":${deepObject(10_000)}}`,
    /userId/,
  ),
  // Fixed bug (kept as a regression test): 500. The dry run wrote each parsed record back out
  // with JSON.stringify, which overflows the stack at depth 6,000.
  ...[
    ['a record field nested 10,000 objects deep', `{"userId":"u","x":${deepObject(10_000)}}`],
    ['a record field nested 30,000 arrays deep', `{"userId":"u","x":${deepArray(30_000)}}`],
    ['the second record nested 101 levels', `[{"userId":"u"},${deepObject(101)}]`],
  ].map(
    ([name, records]): HostileCase => ({
      name: `POST /streams/{name}/dry-run: ${name}`,
      method: 'POST',
      path: '/streams/test-stream-0/dry-run',
      raw: `{"records":${records}}`,
      status: [400],
      message: /records.*nested deeper than 100 levels/,
    }),
  ),
  {
    name: 'POST /streams/{name}/dry-run: a configuration nested 10,000 deep',
    method: 'POST',
    path: '/streams/test-stream-0/dry-run',
    raw: `{"records":{"userId":"u"},"configuration":${deepObject(10_000)}}`,
    status: [400],
    message: /configuration/,
  },
];

const prototypeCases: HostileCase[] = [
  typeRaw('a top-level __proto__', '"__proto__":{"polluted":"yes"}', /__proto__/),
  typeRaw(
    'a top-level constructor.prototype',
    '"constructor":{"prototype":{"polluted":"yes"}}',
    /constructor/,
  ),
  typeRaw('a top-level prototype', '"prototype":{"polluted":"yes"}', /prototype/),
  {
    name: 'POST /meter-types: __proto__ inside aggregation',
    method: 'POST',
    path: '/meter-types',
    raw: JSON.stringify(meterTypeBody()).replace(
      '"aggregation":{"type":"sum"}',
      '"aggregation":{"type":"sum","__proto__":{"type":"max"}}',
    ),
    status: [400],
    message: /aggregation.*__proto__/,
  },
  {
    name: 'POST /meter-types: __proto__ inside resetSchedule',
    method: 'POST',
    path: '/meter-types',
    raw: JSON.stringify(meterTypeBody()).replace(
      '"weekday":"*"}',
      '"weekday":"*","__proto__":{"day":"31"}}',
    ),
    status: [400],
    message: /resetSchedule.*__proto__/,
  },
  typeRaw(
    '__proto__ inside a threshold',
    '"capacity":10,"thresholds":[{"name":"t","value":1,"__proto__":{"percent":50}}]',
    /thresholds/,
  ),
  // Fixed bug (kept as a regression test): 200 today. The update schema is not strict: zod drops an undeclared `__proto__` key in
  // catchall mode, so the legitimate part is applied and `__proto__` is silently ignored,
  // where every other unknown field gets "unknown field".
  patchTypeRaw(
    '__proto__ beside a valid change',
    '{"unit":"hours","__proto__":{"name":"hijacked","aggregation":{"type":"max"},"capacity":5}}',
    /__proto__/,
  ),
  patchTypeRaw('only __proto__', '{"__proto__":{"capacity":5}}', /__proto__|at least one field/),
  patchTypeRaw(
    'constructor.prototype',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    /constructor/,
  ),
  createMeterRaw(
    'a top-level __proto__',
    rawMeterBody('"__proto__":{"polluted":"yes"}'),
    /__proto__/,
  ),
  createMeterRaw(
    'userId only on __proto__',
    '{"meterKey":"k","meterTypeId":"@SINK@","__proto__":{"userId":"mallory"}}',
    /__proto__.*reserved/,
  ),
  createMeterRaw(
    'a top-level constructor',
    rawMeterBody('"constructor":{"prototype":{"polluted":"yes"}}'),
    /constructor/,
  ),
  patchMeterRaw(
    'only __proto__',
    '{"__proto__":{"deleteOnReset":true}}',
    /__proto__|deleteOnReset or customFields/,
  ),
  // Fixed bug (kept as a regression test): 201 today, with the key silently dropped (zod's record strips `__proto__`). Refuse it,
  // or store it verbatim.
  createMeterRaw(
    'customFields.__proto__',
    rawMeterBody(
      '"meterKey":"cf-proto","userId":"cf-proto","customFields":{"__proto__":{"polluted":"yes"},"plan":"gold"}',
    ),
    /customFields/,
    meterStoredVerbatim({
      meterKey: 'cf-proto',
      userId: 'cf-proto',
      customFields: JSON.parse('{"__proto__":{"polluted":"yes"},"plan":"gold"}'),
    }),
  ),
  // Fixed bug (kept as a regression test): 500 today. lib-dynamodb's marshall picks the attribute type by `value.constructor`, so
  // an own `constructor` key makes the object "a class instance" it refuses to store.
  createMeterRaw(
    'customFields.constructor.prototype',
    rawMeterBody(
      '"meterKey":"cf-constructor","userId":"cf-constructor","customFields":{"constructor":{"prototype":{"polluted":"yes"}}}',
    ),
    /customFields/,
    meterStoredVerbatim({
      meterKey: 'cf-constructor',
      userId: 'cf-constructor',
      customFields: { constructor: { prototype: { polluted: 'yes' } } },
    }),
  ),
  // Fixed bug (kept as a regression test): 500 today, same cause, with a plain number.
  createMeterRaw(
    'customFields.constructor as a number',
    rawMeterBody('"meterKey":"cf-constructor-1","userId":"cf-c1","customFields":{"constructor":1}'),
    /customFields/,
    meterStoredVerbatim({
      meterKey: 'cf-constructor-1',
      userId: 'cf-c1',
      customFields: JSON.parse('{"constructor":1}'),
    }),
  ),
  // Fixed bug (kept as a regression test): 500 today. A nested own `__proto__` reaches the DynamoDB marshaller, which emits an
  // empty AttributeValue for it.
  createMeterRaw(
    'customFields.a.__proto__',
    rawMeterBody(
      '"meterKey":"cf-nested-proto","userId":"cf-np","customFields":{"a":{"__proto__":{"polluted":"yes"},"b":1}}',
    ),
    /customFields/,
    meterStoredVerbatim({
      meterKey: 'cf-nested-proto',
      userId: 'cf-np',
      customFields: JSON.parse('{"a":{"__proto__":{"polluted":"yes"},"b":1}}'),
    }),
  ),
  createMeterRaw(
    'customFields with hasOwnProperty, toString, valueOf and prototype keys',
    rawMeterBody(
      '"meterKey":"cf-builtins","userId":"cf-b","customFields":{"hasOwnProperty":1,"toString":"x","valueOf":{},"prototype":[1],"length":3}',
    ),
    /customFields/,
    meterStoredVerbatim({
      meterKey: 'cf-builtins',
      userId: 'cf-b',
      customFields: { hasOwnProperty: 1, toString: 'x', valueOf: {}, prototype: [1], length: 3 },
    }),
  ),
  {
    name: 'GET /meters: a __proto__ query parameter',
    method: 'GET',
    path: '/meters',
    query: JSON.parse('{"__proto__":"x"}'),
    status: [400],
    message: /__proto__/,
  },
  {
    name: 'GET /meter-types: a constructor query parameter',
    method: 'GET',
    path: '/meter-types',
    query: { constructor: 'x' },
    status: [400],
    message: /constructor/,
  },
];

/** A meter id or key that is odd but valid: created once, stored verbatim, found by filter. */
const verbatimMeter = (name: string, fields: Record<string, unknown>) => {
  const body = meterBody(fields);
  return createMeter(name, body, /userId|meterKey/, meterStoredVerbatim(body));
};

const idCases: HostileCase[] = [
  ...(
    [
      ['a NUL', 'a\u0000b'],
      ['a BEL', '\u0007'],
      ['a unit separator', 'a\u001fb'],
      ['a DEL', 'a\u007fb'],
      ['a C1 NEL', 'a\u0085b'],
      ['a C1 APC', 'a\u009fb'],
      ['a lone high surrogate', '\ud800'],
      ['a lone low surrogate', 'x\udc00'],
      ['a reversed surrogate pair', '\udc00\ud800'],
      ['a leading space', ' alice'],
      ['a trailing newline', 'alice\n'],
      ['only a tab', '\t'],
      ['nothing', ''],
      ['257 characters', 'u'.repeat(257)],
    ] as const
  ).map(([what, userId]) => createMeter(`userId with ${what}`, meterBody({ userId }), /userId/)),
  ...(
    [
      ['a NUL', 'k\u0000'],
      ['a lone surrogate', 'k\ud83d'],
      ['101 characters', 'k'.repeat(101)],
    ] as const
  ).map(([what, meterKey]) =>
    createMeter(`meterKey with ${what}`, meterBody({ meterKey }), /meterKey/),
  ),
  typeField('a name with a NUL', { name: 'type\u0000' }, /name/),
  typeField('a name with a lone surrogate', { name: 'type\udfff' }, /name/),
  verbatimMeter('userId with a right-to-left override', { userId: 'alice\u202egpj.exe' }),
  verbatimMeter('userId as an emoji', { userId: '🦄' }),
  verbatimMeter('userId as a ZWJ emoji sequence', { userId: '👩‍👩‍👧' }),
  verbatimMeter('userId with a zero-width space', { userId: 'ali\u200bce' }),
  verbatimMeter('userId with a line separator', { userId: 'a\u2028b' }),
  verbatimMeter('userId NFC é', { userId: 'caf\u00e9' }),
  verbatimMeter('userId NFD é (a different user)', { userId: 'cafe\u0301' }),
  verbatimMeter('userId that looks like a key', { userId: 'M#hostile#alice' }),
  verbatimMeter('userId with percent-encoding', { userId: '%00%2F' }),
  verbatimMeter('userId with a path', { userId: '../../etc/passwd' }),
  verbatimMeter('meterKey a#b, userId c', { meterKey: 'a#b', userId: 'c' }),
  verbatimMeter('meterKey a, userId b#c (not the same triple)', { meterKey: 'a', userId: 'b#c' }),
  verbatimMeter('meterKey a/b', { meterKey: 'a/b', userId: 'slash' }),
  verbatimMeter('meterKey a%2Fb (not a/b)', { meterKey: 'a%2Fb', userId: 'slash' }),
  verbatimMeter('meterKey %2F', { meterKey: '%2F', userId: 'slash' }),
  verbatimMeter('meterKey #', { meterKey: '#', userId: '#' }),
  verbatimMeter('the longest userId of ASCII', { userId: 'u'.repeat(256) }),
  // Fixed bug (kept as a regression test): 500 today. 256 three-byte characters pass `identifier(256)` (UTF-16 units), but the
  // URL-encoded partition key `M#<meterKey>#<userId>` is 2,304+ bytes, over DynamoDB's 2,048.
  verbatimMeter('the longest userId of three-byte characters', { userId: '€'.repeat(256) }),
  typeField(
    'a name that looks like a claim key',
    { name: 'MTNAME#x' },
    /name/,
    typeStoredVerbatim('name', (t) => t.name, 'MTNAME#x'),
  ),
];

const lookAlikeNames = ['pk', 'sk', '#pk', ':v', 'version', 'gsi1pk', 'gsi2sk', 'entity', 'id'];
const lookAlikeFields = Object.fromEntries(
  [
    ...lookAlikeNames,
    'gsi1sk',
    'meterTypeId',
    'usage',
    'seq',
    'outbox',
    ':id',
    '#usage',
    ':one',
    'numberOfMeters',
  ].map((name, i) => [name, i % 2 === 0 ? `MT#${name}` : { [name]: name }]),
);

const lookAlikeCases: HostileCase[] = [
  ...lookAlikeNames.map((name) =>
    typeField(`a ${name} field`, { [name]: 'MT#x' }, new RegExp(`unknown field.*${name}`)),
  ),
  typeField('numberOfMeters', { numberOfMeters: 1000 }, /unknown field.*numberOfMeters/),
  ...[...lookAlikeNames, 'numberOfMeters', 'createdAt'].map((name) =>
    patchType(
      `a ${name} field`,
      { unit: 'hours', [name]: 7 },
      new RegExp(`${name}.*unknown field`),
    ),
  ),
  ...[...lookAlikeNames, 'usage', 'seq', 'outbox', 'retiredAt', 'periodEnd'].map((name) =>
    createMeter(
      `a ${name} field`,
      meterBody({ [name]: 'x' }),
      new RegExp(`unknown field.*${name}`),
    ),
  ),
  ...[...lookAlikeNames, 'usage', 'value'].map((name) =>
    patchMeter(
      `a ${name} field`,
      { deleteOnReset: true, [name]: 1 },
      new RegExp(`unknown field.*${name}`),
    ),
  ),
  verbatimMeter('customFields named like storage attributes and placeholders', {
    meterKey: 'look-alike',
    userId: 'look-alike',
    customFields: lookAlikeFields,
  }),
  {
    name: 'GET /meters: filter values that look like placeholders',
    method: 'GET',
    path: '/meters',
    query: { userId: ':meterTypeId', meterKey: '#userId', meterTypeId: ':userId' },
    status: [400],
    message: /meterTypeId: must be a meter type id/,
    accept: async (response) => {
      expect(response.body.meters).toEqual([]);
    },
  },
  {
    name: 'GET /meters: a filter name that looks like a placeholder',
    method: 'GET',
    path: '/meters',
    query: { '#userId': 'x' },
    status: [400],
    message: /#userId/,
  },
  {
    name: 'GET /meters: filter values that look like keys',
    method: 'GET',
    path: '/meters',
    query: { userId: ':userId', meterKey: 'M#hostile' },
    status: [400],
    message: /never/,
    accept: async (response) => {
      expect(response.body.meters).toEqual([]);
    },
  },
  {
    name: 'GET /meter-types: filter values that look like placeholders',
    method: 'GET',
    path: '/meter-types',
    query: { name: ':name', category: '#category' },
    status: [400],
    message: /never/,
    accept: async (response) => {
      expect(response.body.meterTypes).toEqual([]);
    },
  },
];

const pathIds: [string, string][] = [
  ['..', '..'],
  ['../ encoded', '..%2F'],
  ['../ fully encoded', '%2e%2e%2f'],
  ['../../summary', '..%2F..%2Fsummary'],
  ['a NUL', '%00'],
  ['an encoded lone surrogate', '%ED%A0%80'],
  ['broken percent-encoding', '%E0%A4%A'],
  ['an emoji', '%F0%9F%A6%84'],
  ['a key look-alike', '@TYPE@%23MT'],
  ['a trailing space', '@METER@%20'],
  ['a leading space', '%20@TYPE@'],
  ['10 KB', 'x'.repeat(10_000)],
  ['2,100 bytes once decoded', '%E2%82%AC'.repeat(700)],
];

const pathCases: HostileCase[] = [
  ...(['meter-types', 'meters'] as const).flatMap((collection) =>
    pathIds.flatMap(([what, id]) =>
      (['GET', 'PATCH', 'DELETE'] as const).map(
        (method): HostileCase => ({
          // Fixed bug (the 10 KB and 2,100-byte ids): 500 today. The id goes into a DynamoDB key
          // unchecked and DynamoDB refuses keys over 2,048 bytes.
          name: `${method} /${collection}/{${what}}`,
          method,
          path: `/${collection}/${id}`,
          ...(method === 'PATCH'
            ? { body: collection === 'meters' ? { deleteOnReset: true } : { unit: 'hours' } }
            : {}),
          status: [404, 400],
          message: /not found|id/,
        }),
      ),
    ),
  ),
  {
    name: 'GET /meters/{a meter type id}',
    method: 'GET',
    path: '/meters/@TYPE@',
    status: [404],
    message: /not found/,
  },
  {
    name: 'GET /meter-types/{a meter id}',
    method: 'GET',
    path: '/meter-types/@METER@',
    status: [404],
    message: /not found/,
  },
  {
    name: 'DELETE /meter-types/{a meter id}',
    method: 'DELETE',
    path: '/meter-types/@METER@',
    status: [404],
    message: /not found/,
  },
  {
    name: 'GET /meters/../meter-types (a path, not an id)',
    method: 'GET',
    path: '/meters/../meter-types',
    status: [404],
    message: /no route/,
  },
  { name: 'PUT /meters', method: 'PUT', path: '/meters', status: [405], message: /PUT/ },
  {
    name: 'POST /meters/{id}',
    method: 'POST',
    path: '/meters/@METER@',
    body: { deleteOnReset: true },
    status: [405],
    message: /POST/,
  },
  {
    name: 'DELETE /summary',
    method: 'DELETE',
    path: '/summary',
    status: [405],
    message: /DELETE/,
  },
];

const tokenOf = (key: Record<string, unknown>) => base64url(key);
const listOf = (
  collection: 'meters' | 'meter-types',
  name: string,
  nextToken: string,
  accept?: HostileCase['accept'],
): HostileCase => ({
  name: `GET /${collection}: nextToken ${name}`,
  method: 'GET',
  path: `/${collection}`,
  query: { nextToken },
  status: [400],
  message: /nextToken/,
  ...(accept ? { accept } : {}),
});

const tokenCases: HostileCase[] = (['meters', 'meter-types'] as const).flatMap((collection) => {
  const partition = collection === 'meters' ? 'M' : 'MT';
  const other = collection === 'meters' ? 'MT' : 'M';
  const kind = collection === 'meters' ? 'meters' : 'meterTypes';
  const key = { pk: 'MT#x', sk: 'MT', gsi1pk: partition, gsi1sk: '2025-01-10T00:00:00.000Z#x' };
  return [
    listOf(collection, 'that is not base64 JSON', 'garbage!!'),
    listOf(collection, 'of []', base64url('[]')),
    listOf(collection, 'of null', base64url('null')),
    listOf(collection, 'of a string', base64url('"pk"')),
    listOf(collection, 'of {}', base64url('{}')),
    listOf(collection, "of another list's partition", tokenOf({ ...key, gsi1pk: other })),
    listOf(collection, 'of the data-correction partition', tokenOf({ ...key, gsi1pk: 'CORR' })),
    listOf(collection, 'with an extra attribute', tokenOf({ ...key, gsi2pk: 'DUE#0' })),
    listOf(
      collection,
      'with a __proto__ attribute',
      base64url(`${JSON.stringify(key).slice(0, -1)},"__proto__":{}}`),
    ),
    listOf(
      collection,
      'with a missing attribute',
      tokenOf({ pk: key.pk, sk: key.sk, gsi1pk: partition }),
    ),
    listOf(collection, 'with numbers for strings', tokenOf({ ...key, pk: 1, sk: 2 })),
    listOf(collection, 'with a nested map', tokenOf({ ...key, pk: { S: 'MT#x' } })),
    // Fixed bug (kept as a regression test): 500 today. DynamoDB refuses an ExclusiveStartKey with empty key strings.
    listOf(collection, 'with empty key strings', tokenOf({ ...key, pk: '', sk: '', gsi1sk: '' })),
    listOf(collection, 'longer than 4096 characters', 'A'.repeat(5000)),
    listOf(collection, 'with a 3,000-character key', tokenOf({ ...key, pk: 'x'.repeat(3000) })),
    // A position that no item has is still a position: a page after it, of this list only.
    listOf(collection, 'of a made-up position', tokenOf(key), listsOnly(kind)),
    listOf(
      collection,
      'with NUL and a lone surrogate',
      tokenOf({ ...key, pk: '\u0000', sk: '\ud800' }),
      listsOnly(kind),
    ),
  ];
});

const limits = ['NaN', 'Infinity', '-Infinity', '1e309', '-1', '0', '101', '1.5', 'abc', '', '1e3'];
const queryCases: HostileCase[] = [
  ...(['meters', 'meter-types'] as const).flatMap((collection) =>
    limits.map(
      (limit): HostileCase => ({
        name: `GET /${collection}: limit '${limit}'`,
        method: 'GET',
        path: `/${collection}`,
        query: { limit },
        status: [400],
        message: /limit/,
      }),
    ),
  ),
  ...(
    [
      ['an unknown parameter', { foo: 'bar' }, /foo/],
      ['userId of 257 characters', { userId: 'u'.repeat(257) }, /userId/],
      ['userId with a NUL', { userId: 'a\u0000' }, /userId/],
      ['meterTypeId of 10 KB', { meterTypeId: 'x'.repeat(10_000) }, /meterTypeId/],
      ['meterKey of 1 MiB', { meterKey: 'k'.repeat(MIB) }, /meterKey/],
      ['meterKey with a lone surrogate', { meterKey: '\udbff' }, /meterKey/],
    ] as const
  ).map(
    ([what, query, message]): HostileCase => ({
      name: `GET /meters: ${what}`,
      method: 'GET',
      path: '/meters',
      query,
      status: [400],
      message,
    }),
  ),
  ...(
    [
      ['name of 1 MiB', { name: 'n'.repeat(MIB) }, /name/],
      ['category with a C1 control', { category: '\u0090' }, /category/],
      ['an unknown parameter', { userId: 'u' }, /userId/],
    ] as const
  ).map(
    ([what, query, message]): HostileCase => ({
      name: `GET /meter-types: ${what}`,
      method: 'GET',
      path: '/meter-types',
      query,
      status: [400],
      message,
    }),
  ),
];

const groups: [string, HostileCase[]][] = [
  ['malformed bodies and content types', syntaxCases],
  ['wrong types', wrongTypeCases],
  ['NaN, Infinity, negative and huge numbers', numberCases],
  ['oversized bodies', oversizeCases],
  ['deep nesting', nestingCases],
  ['__proto__, constructor and prototype keys', prototypeCases],
  ['control and unicode characters in ids', idCases],
  ['attribute-name look-alikes', lookAlikeCases],
  ['path ids', pathCases],
  ['forged nextToken', tokenCases],
  ['query strings', queryCases],
];

describe('hostile API input', () => {
  let initial: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    api = await apiUnderTest();
    const type = await api.call(
      'POST',
      '/meter-types',
      meterTypeBody({
        name: 'reference',
        externalRef: 'reference-ref',
        capacity: 100,
        thresholds: [{ name: 'high', percent: 80 }],
      }),
    );
    const sink = await api.call('POST', '/meter-types', meterTypeBody({ name: 'sink' }));
    ids.type = type.body.id;
    ids.sink = sink.body.id;
    const meter = await api.call('POST', '/meters', {
      meterKey: 'hostile',
      meterTypeId: ids.type,
      userId: 'reference-user',
      customFields: { plan: 'gold' },
    });
    ids.meter = meter.body.id;
    const spare = await api.call('POST', '/meters', {
      meterKey: 'hostile',
      meterTypeId: ids.sink,
      userId: 'spare-user',
    });
    ids.spare = spare.body.id;
    expect([type.status, sink.status, meter.status, spare.status]).toEqual([201, 201, 201, 201]);
    initial = await snapshot();
  });

  afterAll(() => {
    console.log(
      `hostile API inputs: ${tally.cases} cases, 4xx: ${tally.clientErrors}, ` +
        `2xx: ${tally.ok}, 5xx: ${tally.serverErrors}, crashes: ${tally.crashes}`,
    );
  });

  for (const [group, cases] of groups) {
    describe(group, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => runCase(c));
    });
  }

  it('distinct triples that differ only in where a # or / sits are distinct meters', async () => {
    const listed = await api.call('GET', '/meters', undefined, {
      query: { userId: 'slash', limit: '100' },
    });
    expect(listed.body.meters.map((m: { meterKey: string }) => m.meterKey).sort()).toEqual(
      ['%2F', 'a%2Fb', 'a/b'].sort(),
    );
  });

  it('leaves the reference meter type and meter exactly as they were, and logs no 5xx', async () => {
    const now = await snapshot();
    expect(now.type).toEqual(initial.type);
    expect(now.meter).toEqual(initial.meter);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(tally.serverErrors).toBe(0);
    expect(tally.crashes).toBe(0);
    expect(api.errors).toEqual([]);
  });
});
