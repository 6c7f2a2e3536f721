import { describe, expect, it } from 'vitest';
import { apiUnderTest, meterTypeBody, testStreams } from '../support/api.js';

/** One stream, meter key `calls`, routing voice records to VOICE and the rest to DEFAULT. */
const streams = testStreams(['calls'], ['VOICE', 'DEFAULT']);

describe('nothing unreachable goes unnoticed', () => {
  it('answers 404 naming the meter key when no stream has it, and creates nothing', async () => {
    const api = await apiUnderTest({ streams });
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    const refused = await api.call('POST', '/meters', {
      meterKey: 'no-such-stream',
      meterTypeId: type.id,
      userId: 'alice',
    });
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual({ message: "no stream has meter key 'no-such-stream'" });
    expect(api.scheduler.scheduled()).toEqual([]);
    expect((await api.call('GET', '/meters')).body.meters).toEqual([]);
    const ok = await api.call('POST', '/meters', {
      meterKey: 'calls',
      meterTypeId: type.id,
      userId: 'alice',
    });
    expect(ok.status).toBe(201);
  });

  it('validates the body before looking for the stream (400, not 404)', async () => {
    const api = await apiUnderTest({ streams });
    const refused = await api.call('POST', '/meters', { meterKey: 'no-such-stream' });
    expect(refused.status).toBe(400);
  });

  it('creates a meter type of a category no rule routes to, with a warning', async () => {
    const api = await apiUnderTest({ streams });
    const created = await api.call('POST', '/meter-types', meterTypeBody({ category: 'SMS' }));
    expect(created.status).toBe(201);
    expect(created.body.warnings).toEqual([
      {
        code: 'UNROUTED_CATEGORY',
        message: expect.stringContaining("category 'SMS'"),
      },
    ]);
    // The warning belongs to the answer, not to the meter type.
    const read = await api.call('GET', `/meter-types/${created.body.id}`);
    expect(read.body.warnings).toBeUndefined();
    expect(read.body.category).toBe('SMS');
  });

  it('leaves warnings out when a rule routes to the category', async () => {
    const api = await apiUnderTest({ streams });
    const created = await api.call('POST', '/meter-types', meterTypeBody({ category: 'VOICE' }));
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('warnings');
  });

  it('warns on an update that moves a meter type to an unrouted category, and not back', async () => {
    const api = await apiUnderTest({ streams });
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    expect(type).not.toHaveProperty('warnings');
    const moved = await api.call('PATCH', `/meter-types/${type.id}`, { category: 'FAX' });
    expect(moved.status).toBe(200);
    expect(moved.body.warnings).toEqual([
      { code: 'UNROUTED_CATEGORY', message: expect.stringContaining("category 'FAX'") },
    ]);
    const back = await api.call('PATCH', `/meter-types/${type.id}`, { category: 'DEFAULT' });
    expect(back.status).toBe(200);
    expect(back.body).not.toHaveProperty('warnings');
  });
});
