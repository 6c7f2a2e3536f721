/**
 * Load on the local API (issue 8, item 3): 1,000 mixed requests over real HTTP against the
 * local stack (`startLocalStack`, what `npm start` runs), 200 in flight at a time. Creates of
 * meter types (many with the same name), creates of meters (many of the same triple), reads,
 * lists, changes and deletes, in a seeded random order. No request may get a 5xx; uniqueness
 * must hold (exactly one 201 per name and per triple, 409 for the rest; exactly one 204 per
 * deleted meter, 404 for the rest); and afterwards the summary, the lists and the per-type
 * meter counts must agree with what the test created minus what it deleted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

const REQUESTS = 1_000;
const IN_FLIGHT = 200;
const SEED = 20_250_115;

const BASE_TYPES = 4;
const STABLE_METERS = 20;
const DOOMED_METERS = 50;
const NEW_TYPE_NAMES = 50;
const TYPE_COPIES = 4;
const NEW_TRIPLES = 30;
const TRIPLE_COPIES = 10;
const LOAD_CATEGORIES = ['LOAD-A', 'LOAD-B', 'LOAD-C'];

const monthly = { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' };

/** A small, seeded PRNG (mulberry32), so a failing order can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Runs the tasks with at most `limit` in flight. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index];
      if (task) results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

interface Planned {
  /** What the request does, for grouping the answers. */
  kind:
    | 'create-type'
    | 'create-meter'
    | 'get-type'
    | 'get-meter'
    | 'get-doomed'
    | 'summary'
    | 'list-types'
    | 'list-meters'
    | 'patch-meter'
    | 'patch-type'
    | 'delete-meter';
  /** The name, triple or id it is about. */
  key: string;
  method: string;
  path: string;
  body?: unknown;
}

interface Answer extends Planned {
  status: number;
  ms: number;
  body: any;
  error?: string;
}

describe('load on the local API', () => {
  let stack: LocalStack;
  let api: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'api-load-'));
    stack = await startLocalStack({
      port: 0,
      kinesisPort: 0,
      log: () => {},
      recordsFile: join(dir, 'metered-records.jsonl'),
      // Meters need a stream with their meter key; every category has a rule.
      streams: ['base', 'load'].map((meterKey) => ({
        name: `${meterKey}-stream`,
        meterKey,
        guidingRules: ['BASE', ...LOAD_CATEGORIES].map((category) => ({
          name: category,
          conditions: [{ field: 'category', type: 'string', value: category }],
          category,
        })),
      })),
    });
    api = stack.apiUrl;
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function request(planned: Planned): Promise<Answer> {
    const started = performance.now();
    try {
      const response = await fetch(`${api}${planned.path}`, {
        method: planned.method,
        ...(planned.body === undefined
          ? {}
          : {
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(planned.body),
            }),
      });
      const text = await response.text();
      return {
        ...planned,
        status: response.status,
        ms: performance.now() - started,
        body: text ? JSON.parse(text) : undefined,
      };
    } catch (error) {
      return {
        ...planned,
        status: 0,
        ms: performance.now() - started,
        body: undefined,
        error: String(error),
      };
    }
  }

  async function must(method: string, path: string, body?: unknown): Promise<any> {
    const answer = await request({ kind: 'summary', key: '', method, path, body });
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
    return answer.body;
  }

  /** Every item of a list, page by page; checks that paging returns each exactly once. */
  async function listAll(collection: 'meters' | 'meter-types'): Promise<any[]> {
    const field = collection === 'meters' ? 'meters' : 'meterTypes';
    const items: any[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '7', ...(token ? { nextToken: token } : {}) });
      const page = await must('GET', `/${collection}?${query}`);
      items.push(...page[field]);
      token = page.nextToken;
    } while (token);
    const ids = items.map((item) => item.id);
    expect(new Set(ids).size, `${collection}: paging returned an item twice`).toBe(ids.length);
    return items;
  }

  it(`answers ${REQUESTS} concurrent mixed requests with no 5xx, and uniqueness holds`, async () => {
    // Setup (not counted): the meter types and meters the mixed requests read, change and delete.
    const baseTypes: string[] = [];
    for (let i = 0; i < BASE_TYPES; i++) {
      const type = await must('POST', '/meter-types', {
        name: `base-${i}`,
        unit: 'calls',
        category: 'BASE',
        aggregation: { type: 'sum' },
        resetSchedule: monthly,
      });
      baseTypes.push(type.id);
    }
    const typeOf = (i: number) => baseTypes[i % BASE_TYPES] ?? '';
    const createBase = (userId: string, i: number) => () =>
      must('POST', '/meters', { meterKey: 'base', meterTypeId: typeOf(i), userId });
    const stable: string[] = (
      await pool(
        Array.from({ length: STABLE_METERS }, (_, i) => createBase(`stable-${i}`, i)),
        50,
      )
    ).map((m) => m.id);
    const doomed: string[] = (
      await pool(
        Array.from({ length: DOOMED_METERS }, (_, i) => createBase(`doomed-${i}`, i)),
        50,
      )
    ).map((m) => m.id);

    // The mixed requests.
    const plan: Planned[] = [];
    for (let n = 0; n < NEW_TYPE_NAMES; n++) {
      for (let copy = 0; copy < TYPE_COPIES; copy++) {
        plan.push({
          kind: 'create-type',
          key: `load-type-${n}`,
          method: 'POST',
          path: '/meter-types',
          body: {
            name: `load-type-${n}`,
            unit: 'calls',
            category: LOAD_CATEGORIES[n % LOAD_CATEGORIES.length],
            aggregation: { type: copy % 2 ? 'max' : 'sum' },
            resetSchedule: monthly,
            description: `copy ${copy}`,
          },
        });
      }
    }
    for (let n = 0; n < NEW_TRIPLES; n++) {
      for (let copy = 0; copy < TRIPLE_COPIES; copy++) {
        const body = {
          meterKey: 'load',
          meterTypeId: typeOf(n),
          userId: `load-user-${n}`,
          customFields: { copy },
        };
        plan.push({
          kind: 'create-meter',
          key: `${body.meterKey}|${body.meterTypeId}|${body.userId}`,
          method: 'POST',
          path: '/meters',
          body,
        });
      }
    }
    const add = (count: number, make: (i: number) => Planned) => {
      for (let i = 0; i < count; i++) plan.push(make(i));
    };
    add(50, (i) => ({
      kind: 'get-type',
      key: typeOf(i),
      method: 'GET',
      path: `/meter-types/${typeOf(i)}`,
    }));
    add(80, (i) => {
      const id = stable[i % STABLE_METERS] ?? '';
      return { kind: 'get-meter', key: id, method: 'GET', path: `/meters/${id}` };
    });
    add(50, (i) => {
      const id = doomed[i % DOOMED_METERS] ?? '';
      return { kind: 'get-doomed', key: id, method: 'GET', path: `/meters/${id}` };
    });
    add(20, () => ({ kind: 'summary', key: '', method: 'GET', path: '/summary' }));
    add(40, () => ({ kind: 'list-types', key: '', method: 'GET', path: '/meter-types?limit=10' }));
    add(30, (i) => ({
      kind: 'list-meters',
      key: `stable-${i % STABLE_METERS}`,
      method: 'GET',
      path: `/meters?userId=stable-${i % STABLE_METERS}`,
    }));
    add(30, (i) => ({
      kind: 'list-meters',
      key: typeOf(i),
      method: 'GET',
      path: `/meters?limit=25&meterTypeId=${typeOf(i)}`,
    }));
    add(70, (i) => {
      const id = stable[i % STABLE_METERS] ?? '';
      return {
        kind: 'patch-meter',
        key: id,
        method: 'PATCH',
        path: `/meters/${id}`,
        body: { customFields: { patch: i }, deleteOnReset: i % 2 === 0 },
      };
    });
    add(30, (i) => ({
      kind: 'patch-type',
      key: typeOf(i),
      method: 'PATCH',
      path: `/meter-types/${typeOf(i)}`,
      body: { description: `patch ${i}` },
    }));
    add(2 * DOOMED_METERS, (i) => {
      const id = doomed[i % DOOMED_METERS] ?? '';
      return { kind: 'delete-meter', key: id, method: 'DELETE', path: `/meters/${id}` };
    });
    expect(plan).toHaveLength(REQUESTS);
    shuffle(plan, random(SEED));

    const started = performance.now();
    const answers = await pool(
      plan.map((planned) => () => request(planned)),
      IN_FLIGHT,
    );
    const seconds = (performance.now() - started) / 1000;

    const byStatus = new Map<number, number>();
    for (const answer of answers)
      byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    const latencies = answers.map((a) => a.ms).sort((a, b) => a - b);
    const percentile = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    const statusLine = [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    const serverErrors = answers.filter((a) => a.status >= 500 || a.status === 0);
    console.log(
      `api load: ${REQUESTS} requests (${IN_FLIGHT} in flight, seed ${SEED}) in ${seconds.toFixed(1)} s ` +
        `(${Math.round(REQUESTS / seconds)} req/s): ${statusLine}; 5xx: ${serverErrors.length}; ` +
        `latency p50 ${percentile(0.5).toFixed(0)} ms, p99 ${percentile(0.99).toFixed(0)} ms`,
    );

    expect(
      serverErrors.map(
        (a) => `${a.method} ${a.path} -> ${a.status} ${a.error ?? JSON.stringify(a.body)}`,
      ),
    ).toEqual([]);

    const statusesBy = (kind: Planned['kind']) => {
      const map = new Map<string, number[]>();
      for (const answer of answers.filter((a) => a.kind === kind)) {
        map.set(answer.key, [...(map.get(answer.key) ?? []), answer.status]);
      }
      return map;
    };
    const exactlyOne = (
      kind: Planned['kind'],
      winner: number,
      loser: number,
      groups: number,
      copies: number,
    ) => {
      const map = statusesBy(kind);
      expect(map.size).toBe(groups);
      for (const [key, statuses] of map) {
        expect(statuses.sort(), `${kind} ${key}: exactly one ${winner}, the rest ${loser}`).toEqual(
          [winner, ...Array(copies - 1).fill(loser)].sort(),
        );
      }
    };
    exactlyOne('create-type', 201, 409, NEW_TYPE_NAMES, TYPE_COPIES);
    exactlyOne('create-meter', 201, 409, NEW_TRIPLES, TRIPLE_COPIES);
    exactlyOne('delete-meter', 204, 404, DOOMED_METERS, 2);
    for (const answer of answers) {
      if (answer.kind === 'create-type' && answer.status === 409)
        expect(answer.body.message).toMatch(/named/);
      if (answer.kind === 'create-meter' && answer.status === 409)
        expect(answer.body.message).toMatch(/already exists/);
    }
    const allowed: Partial<Record<Planned['kind'], number[]>> = {
      'get-type': [200],
      'get-meter': [200],
      'get-doomed': [200, 404],
      summary: [200],
      'list-types': [200],
      'list-meters': [200],
      'patch-meter': [200],
      // Concurrent changes of one meter type: optimistic, the loser is told to retry.
      'patch-type': [200, 409],
    };
    for (const answer of answers) {
      const statuses = allowed[answer.kind];
      if (statuses) expect(statuses, `${answer.method} ${answer.path}`).toContain(answer.status);
    }

    // What is stored agrees with what was created minus what was deleted.
    const expectedTypes = BASE_TYPES + NEW_TYPE_NAMES;
    const expectedMeters = STABLE_METERS + DOOMED_METERS + NEW_TRIPLES - DOOMED_METERS;
    expect(await must('GET', '/summary')).toEqual({
      meterTypes: expectedTypes,
      categories: 1 + LOAD_CATEGORIES.length,
      meters: expectedMeters,
    });
    const types = await listAll('meter-types');
    const meters = await listAll('meters');
    expect(types).toHaveLength(expectedTypes);
    expect(meters).toHaveLength(expectedMeters);
    const createdTypes = answers.filter((a) => a.kind === 'create-type' && a.status === 201);
    const createdMeters = answers.filter((a) => a.kind === 'create-meter' && a.status === 201);
    expect(new Set(types.map((t) => t.id))).toEqual(
      new Set([...baseTypes, ...createdTypes.map((a) => a.body.id)]),
    );
    expect(new Set(meters.map((m) => m.id))).toEqual(
      new Set([...stable, ...createdMeters.map((a) => a.body.id)]),
    );
    // Fixed bug (kept as a regression test): fails now and then (timing): a meter-type PATCH that interleaves with a meter create
    // or delete loses that change of numberOfMeters (replayed deterministically in
    // meter-type-count-race.test.ts).
    for (const type of types) {
      const count = meters.filter((m) => m.meterTypeId === type.id).length;
      expect.soft(type.numberOfMeters, `numberOfMeters of ${type.name}`).toBe(count);
    }
    for (const id of doomed) {
      expect(
        (await request({ kind: 'get-doomed', key: id, method: 'GET', path: `/meters/${id}` }))
          .status,
      ).toBe(404);
    }
  }, 120_000);
});
