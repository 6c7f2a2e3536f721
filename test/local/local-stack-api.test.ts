import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

/** The first minutes of a new user, over real HTTP against `startLocalStack` (what `npm start` runs). */
describe('local stack API over HTTP', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0, kinesisPort: 0, log: () => undefined });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const json = (body: unknown) => ({
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  it('walks the meter-type and meter lifecycle with the codes a client relies on', async () => {
    const api = stack.apiUrl;
    const typeResponse = await fetch(`${api}/meter-types`, {
      method: 'POST',
      ...json({
        name: 'voice-minutes',
        unit: 'minutes',
        aggregation: { type: 'sum' },
        resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
        timezone: 'Europe/Stockholm',
      }),
    });
    expect(typeResponse.status).toBe(201);
    const type: any = await typeResponse.json();
    expect(typeResponse.headers.get('location')).toBe(`/usage-metering/v1/meter-types/${type.id}`);

    const meterBody = { meterKey: 'usage-events', meterTypeId: type.id, userId: 'alice' };
    const meterResponse = await fetch(`${api}/meters`, { method: 'POST', ...json(meterBody) });
    expect(meterResponse.status).toBe(201);
    const meter: any = await meterResponse.json();
    const read: any = await (await fetch(`${api}/meters/${meter.id}`)).json();
    // The period ends at the next midnight on the 1st in Stockholm, whatever today is.
    const end = new Date(read.periodEnd);
    const stockholm = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Stockholm',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    }).format(end);
    expect(stockholm).toBe('1, 00:00');
    expect(end.getTime()).toBeGreaterThan(Date.parse(read.periodStart));

    expect((await fetch(`${api}/meters`, { method: 'POST', ...json(meterBody) })).status).toBe(409);
    expect(
      (await fetch(`${api}/meters`, { method: 'POST', ...json({ meterKey: 42 }) })).status,
    ).toBe(400);
    expect(
      (
        await fetch(`${api}/meters`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'hello',
        })
      ).status,
    ).toBe(415);
    expect((await fetch(`${api}/meters/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await fetch(`${api}/meter-types/${type.id}`, { method: 'DELETE' })).status).toBe(409);
    const page: any = await (await fetch(`${api}/meters?limit=1`)).json();
    expect(page.meters).toHaveLength(1);
    expect((await fetch(`${api}/meters/${meter.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${api}/meter-types/${type.id}`, { method: 'DELETE' })).status).toBe(204);
    const oversized = await fetch(`${api}/meter-types`, {
      method: 'POST',
      ...json({ description: 'x'.repeat(70_000) }),
    });
    expect(oversized.status).toBe(413);
  });
});
