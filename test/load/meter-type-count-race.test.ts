/**
 * The race the API load test found, replayed deterministically: a PATCH of a meter type that
 * interleaves with a meter create or delete on that type. `numberOfMeters` must stay exact,
 * because it decides whether `DELETE /meter-types/{id}` is allowed.
 *
 * BUG: both tests fail today. `DynamoDbMeterTypeStore.replace` puts the whole item with the
 * `numberOfMeters` it read (conditioned only on `version`), while meter creates and deletes
 * `ADD numberOfMeters` without touching `version`. A create or delete that lands between the
 * PATCH's read and its write is lost from the count: a lost increment lets the type be
 * deleted while a meter still uses it; a lost decrement makes the type undeletable for good.
 */
import { describe, expect, it } from 'vitest';
import { apiUnderTest, meterTypeBody } from '../support/api.js';

type Api = Awaited<ReturnType<typeof apiUnderTest>>;

/** Runs `between` once, after a meter-type PATCH has read the type and before it writes it. */
function interleave(api: Api, between: () => Promise<void>) {
  const store = api.deps.meterTypes;
  const replace = store.replace.bind(store);
  let pending: (() => Promise<void>) | undefined = between;
  store.replace = async (previous, next) => {
    const run = pending;
    pending = undefined;
    await run?.();
    return replace(previous, next);
  };
}

describe('a meter-type change racing meter creates and deletes', () => {
  it('counts a meter created while the type was being changed, and refuses to delete the type', async () => {
    const api = await apiUnderTest();
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    let meterId = '';
    interleave(api, async () => {
      const meter = await api.call('POST', '/meters', {
        meterKey: 'k',
        meterTypeId: type.id,
        userId: 'alice',
      });
      expect(meter.status).toBe(201);
      meterId = meter.body.id;
    });

    expect((await api.call('PATCH', `/meter-types/${type.id}`, { unit: 'hours' })).status).toBe(
      200,
    );

    expect.soft((await api.call('GET', `/meter-types/${type.id}`)).body.numberOfMeters).toBe(1);
    const deleted = await api.call('DELETE', `/meter-types/${type.id}`);
    expect(deleted.status, 'a meter type with a live meter was deleted').toBe(409);
    expect((await api.call('GET', `/meters/${meterId}`)).status).toBe(200);
  });

  it('forgets a meter deleted while the type was being changed, so the type can be deleted', async () => {
    const api = await apiUnderTest();
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    const meter = (
      await api.call('POST', '/meters', { meterKey: 'k', meterTypeId: type.id, userId: 'bob' })
    ).body;
    interleave(api, async () => {
      expect((await api.call('DELETE', `/meters/${meter.id}`)).status).toBe(204);
    });

    expect((await api.call('PATCH', `/meter-types/${type.id}`, { unit: 'hours' })).status).toBe(
      200,
    );

    expect.soft((await api.call('GET', `/meter-types/${type.id}`)).body.numberOfMeters).toBe(0);
    expect((await api.call('DELETE', `/meter-types/${type.id}`)).status).toBe(204);
  });
});
