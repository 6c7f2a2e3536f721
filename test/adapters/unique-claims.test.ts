/**
 * Unique meters' claims in the stores (ports/unique-claims.ts): the DynamoDB adapter on DynamoDB
 * Local writes the meter and its claims all or nothing (a claim already held, or a stale meter
 * version, writes neither), reads any number of claim keys in one call of the method, and keeps
 * each claim's `expiresAt` in the table's TTL attribute; the in-memory twin answers the same
 * scenario the same way, so the tests and the bench that use it see the truth.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbIngestStore } from '../../shared/adapters/dynamodb/ingest-store.js';
import { newMeterItem } from '../../shared/adapters/dynamodb/meter-item.js';
import { itemKeys, TABLE_KEYS } from '../../shared/adapters/dynamodb/table.js';
import { InMemoryIngestStore } from '../../shared/adapters/in-memory/ingest-store.js';
import type { MeterDefinition } from '../../shared/domain/meter.js';
import type { MeterState } from '../../shared/domain/meter-usage.js';
import {
  MAX_CLAIMS_PER_WRITE,
  type UniqueClaim,
  uniqueClaimKey,
} from '../../shared/domain/unique-values.js';
import type { UniqueValueClaims } from '../../shared/ports/unique-claims.js';
import type { UserMeterReader } from '../../shared/ports/user-meter-reader.js';
import { freshTable } from '../support/dynamodb.js';
import { meterState, slotOf } from '../support/meter-states.js';

const SHARD = 'shardId-000000000000';
const EXPIRES_AT = Date.parse('2025-02-08T01:00:00Z') / 1000;

/** A unique meter (field `deviceId`) of user u1, as the meter store creates it. */
function uniqueMeter(id: string): MeterDefinition {
  const { usage, next, seq, outbox, version, ...definition } = meterState({
    id,
    meterType: { aggregation: { type: 'unique', field: 'deviceId', maxDistinct: 100_000 } },
  });
  return definition;
}

function claim(meterId: string, value: string): UniqueClaim {
  return {
    key: uniqueClaimKey(meterId, '2025-01-01T00:00:00.000Z', JSON.stringify(value)),
    meterId,
    periodStart: '2025-01-01T00:00:00.000Z',
    expiresAt: EXPIRES_AT,
  };
}

const claims = (meterId: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => claim(meterId, `device-${from + i}`));

/** The meter as written next: `distinct` values counted over `records` records. */
function counted(meter: MeterState, distinct: number, records: number): MeterState {
  return {
    ...meter,
    usage: { shards: { [SHARD]: slotOf('unique', String(distinct), records) }, fired: [] },
    seq: { [SHARD]: String(records) },
  };
}

type Store = UniqueValueClaims & UserMeterReader;
type Table = Awaited<ReturnType<typeof freshTable>>;

/** A fresh table holding one new unique meter, and the DynamoDB store on it. */
async function dynamoWithMeter(meterId: string) {
  const table = await freshTable();
  await table.client.send(
    new PutCommand({ TableName: table.tableName, Item: newMeterItem(uniqueMeter(meterId)) }),
  );
  return { table, store: new DynamoDbIngestStore(table.client, table.tableName) };
}

/**
 * One scenario, as the ingest path drives a store: what each call answered, which claims were
 * held after it, and what the meter was.
 */
async function scenario(store: Store, meterId: string) {
  const steps: Record<string, unknown>[] = [];
  const meter = async () => {
    const found = (await store.loadMeters('k', 'u1')).find((m) => m.id === meterId);
    if (!found) throw new Error('the meter is gone');
    return found;
  };
  const all = claims(meterId, 0, 300);
  const heldOf = async (list: readonly UniqueClaim[]) => {
    const held = await store.heldUniqueClaims(list.map((c) => c.key));
    return all.filter((c) => held.has(c.key)).map((c) => c.key.match(/device-\d+/)?.[0]);
  };
  const step = async (name: string, answer: unknown, asked: readonly UniqueClaim[]) => {
    const m = await meter();
    steps.push({
      name,
      answer,
      held: await heldOf(asked),
      version: m.version,
      usage: m.usage,
      seq: m.seq,
    });
  };
  const start = await meter();

  await step('nothing claimed yet', undefined, all.slice(0, 3));
  const first = claims(meterId, 0, 2);
  await step(
    'two new values',
    await store.replaceMeterClaiming(counted(start, 2, 3), start.version, first),
    all.slice(0, 3),
  );
  // device-2 is new but device-0 is held: the whole write is refused, device-2 stays unclaimed.
  const clash = [claim(meterId, 'device-2'), claim(meterId, 'device-0')];
  let at = await meter();
  await step(
    'a held claim in the write',
    await store.replaceMeterClaiming(counted(at, 4, 5), at.version, clash),
    all.slice(0, 3),
  );
  await step(
    'a stale version',
    await store.replaceMeterClaiming(counted(at, 3, 4), at.version - 1, [
      claim(meterId, 'device-2'),
    ]),
    all.slice(0, 3),
  );
  await step(
    'no claims, stale version',
    await store.replaceMeterClaiming(counted(at, 2, 9), at.version - 1, []),
    all.slice(0, 3),
  );
  await step(
    'no claims, by version',
    await store.replaceMeterClaiming(counted(at, 2, 9), at.version, []),
    all.slice(0, 3),
  );
  // 248 more values in runs of at most 99, as the ingest path writes them: 250 claimed in all.
  for (let from = 2; from < 250; from += MAX_CLAIMS_PER_WRITE) {
    const to = Math.min(from + MAX_CLAIMS_PER_WRITE, 250);
    at = await meter();
    const answer = await store.replaceMeterClaiming(
      counted(at, to, 9 + to),
      at.version,
      claims(meterId, from, to),
    );
    if (!answer) throw new Error(`the run ${from}–${to} was refused`);
  }
  // One call of the method with 300 keys: the 250 claimed come back, the 50 others do not.
  const held = await store.heldUniqueClaims(all.map((c) => c.key));
  return { steps, held: all.filter((c) => held.has(c.key)).length, finalVersion: at.version + 1 };
}

/** The BatchGetItem calls a client sends: keys asked for, and whether strongly consistent. */
function recordingBatchGets(client: Table['client']) {
  const calls: { command: string; keys: number; consistent: boolean }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const requests = Object.values(
        ((args.input as { RequestItems?: object }).RequestItems ?? {}) as Record<
          string,
          { Keys?: unknown[]; ConsistentRead?: boolean }
        >,
      );
      calls.push({
        command: context.commandName ?? 'unknown',
        keys: requests.reduce((n, r) => n + (r.Keys?.length ?? 0), 0),
        consistent: requests.every((r) => r.ConsistentRead === true),
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordBatchGets' },
  );
  return calls;
}

describe('unique meters’ claims in the stores', () => {
  it('DynamoDB: meter and claims all or nothing, 300 keys read in one call of the method; the in-memory twin answers the same', async () => {
    const meterId = 'm-unique';
    const { store: dynamo } = await dynamoWithMeter(meterId);
    const memory = new InMemoryIngestStore();
    memory.add(uniqueMeter(meterId));

    const expected = await scenario(dynamo, meterId);
    expect(await scenario(memory, meterId)).toEqual(expected);

    const answers = expected.steps.map((s) => [s.name, s.answer, s.held, s.version]);
    expect(answers).toEqual([
      ['nothing claimed yet', undefined, [], 1],
      ['two new values', true, ['device-0', 'device-1'], 2],
      ['a held claim in the write', false, ['device-0', 'device-1'], 2],
      ['a stale version', false, ['device-0', 'device-1'], 2],
      ['no claims, stale version', false, ['device-0', 'device-1'], 2],
      ['no claims, by version', true, ['device-0', 'device-1'], 3],
    ]);
    // A refused write left the meter as the last accepted one wrote it.
    const usageOf = (name: string) => expected.steps.find((s) => s.name === name)?.usage;
    expect(usageOf('a held claim in the write')).toEqual(usageOf('two new values'));
    expect(usageOf('a stale version')).toEqual(usageOf('two new values'));
    expect(usageOf('two new values')).toEqual({
      shards: { [SHARD]: slotOf('unique', '2', 3) },
      fired: [],
    });
    // 2 + 99 + 99 + 50: 250 claimed over the 3 runs after the first write.
    expect([expected.held, expected.finalVersion]).toEqual([250, 6]);
  });

  it('both refuse a write of 100 claims, and never write one value twice in a write', async () => {
    const meterId = 'm-limits';
    const { store: dynamo } = await dynamoWithMeter(meterId);
    const memory = new InMemoryIngestStore();
    memory.add(uniqueMeter(meterId));
    for (const store of [dynamo, memory] as Store[]) {
      const [meter] = await store.loadMeters('k', 'u1');
      if (!meter) throw new Error('no meter');
      const twice = [claim(meterId, 'same'), claim(meterId, 'same')];
      await expect(
        store.replaceMeterClaiming(meter, meter.version, claims(meterId, 0, 100)),
      ).rejects.toThrow();
      // DynamoDB refuses it (DynamoDB Local as a cancelled transaction); never a success.
      const once = await store
        .replaceMeterClaiming(meter, meter.version, twice)
        .catch(() => 'refused');
      expect(once === false || once === 'refused').toBe(true);
      expect((await store.heldUniqueClaims(claims(meterId, 0, 100).map((c) => c.key))).size).toBe(
        0,
      );
      const [after] = await store.loadMeters('k', 'u1');
      expect(after?.version).toBe(meter.version);
    }
  });

  it('DynamoDB: reads 250 keys in one call of the method as three strongly consistent BatchGetItem calls', async () => {
    const meterId = 'm-reads';
    const { table, store } = await dynamoWithMeter(meterId);
    const [meter] = await store.loadMeters('k', 'u1');
    if (!meter) throw new Error('no meter');
    expect(await store.replaceMeterClaiming(meter, meter.version, claims(meterId, 0, 99))).toBe(
      true,
    );
    const calls = recordingBatchGets(table.client);
    const held = await store.heldUniqueClaims(claims(meterId, 0, 250).map((c) => c.key));
    expect(held.size).toBe(99);
    expect(calls).toEqual(
      [100, 100, 50].map((keys) => ({ command: 'BatchGetItemCommand', keys, consistent: true })),
    );
    expect(await store.heldUniqueClaims([])).toEqual(new Set());
    expect(calls).toHaveLength(3); // no keys, no call
  });

  it('DynamoDB: stores a claim as a small item whose expiresAt is the TTL attribute, a number', async () => {
    const meterId = 'm-ttl';
    const { table, store } = await dynamoWithMeter(meterId);
    const [meter] = await store.loadMeters('k', 'u1');
    if (!meter) throw new Error('no meter');
    const kept = claim(meterId, 'device-7');
    expect(await store.replaceMeterClaiming(meter, meter.version, [kept])).toBe(true);
    const { Item } = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: itemKeys.uniqueClaim(kept.key) }),
    );
    expect(TABLE_KEYS.timeToLive).toBe('expiresAt');
    expect(Item?.[TABLE_KEYS.timeToLive]).toBe(EXPIRES_AT);
    expect(Item).toEqual({
      ...itemKeys.uniqueClaim(kept.key),
      entity: 'unique-claim',
      meterId,
      periodStart: kept.periodStart,
      expiresAt: EXPIRES_AT,
    });
  });
});
