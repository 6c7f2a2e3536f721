/**
 * A clean-up after a failure that fails too is logged with its cause (DESIGN.md 2.7), while the
 * caller still gets the first failure: a schedule left for a meter that was not stored, a
 * re-send claim left on a data-correction entry.
 */
import { describe, expect, it, vi } from 'vitest';
import { DynamoDbDataCorrectionStore } from '../../shared/adapters/dynamodb/data-correction-store.js';
import { InMemoryUsageStreamWriter } from '../../shared/adapters/in-memory/usage-stream-writer.js';
import { REPROCESS_CLAIM_STALE_AFTER_MS } from '../../shared/application/data-corrections.js';
import { correctionIdFor } from '../../shared/domain/data-correction.js';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { streamConfigSchema } from '../../shared/domain/stream-schemas.js';
import { apiUnderTest, meterTypeBody } from '../support/api.js';
import { freshTable } from '../support/dynamodb.js';

describe('failed clean-ups', () => {
  it('logs a period-end schedule that cannot be withdrawn after the meter failed to store', async () => {
    const logged: { message: string; error: unknown }[] = [];
    const api = await apiUnderTest({ log: (message, error) => logged.push({ message, error }) });
    const type = (await api.call('POST', '/meter-types', meterTypeBody())).body;
    const storeError = new ServiceUnavailableError('the metering store is busy; retry shortly');
    const cancelError = new Error('EventBridge Scheduler: connect ETIMEDOUT');
    vi.spyOn(api.deps.meters, 'create').mockRejectedValueOnce(storeError);
    vi.spyOn(api.scheduler, 'cancelPeriodEnd').mockRejectedValueOnce(cancelError);

    const response = await api.call('POST', '/meters', {
      meterKey: 'k',
      meterTypeId: type.id,
      userId: 'u',
    });
    expect(response.status).toBe(503);
    // The clean-up's failure, then the request's own, which is what the caller got.
    expect(logged.map((entry) => entry.error)).toEqual([cancelError, storeError]);
    expect(logged[0]?.message).toMatch(
      /^the period-end schedule of meter \S+, which was not stored, could not be withdrawn$/,
    );
    // The schedule stays behind; it names a meter that does not exist.
    expect(api.scheduler.scheduled()).toHaveLength(1);
    expect((await api.call('GET', '/meters')).body.meters).toEqual([]);
  });

  it('logs a re-send claim that cannot be released; the claim goes stale and the re-send works then', async () => {
    const table = await freshTable();
    const corrections = new DynamoDbDataCorrectionStore(table.client, table.tableName);
    const streamWriter = new InMemoryUsageStreamWriter();
    const clock = { now: new Date('2025-01-11T08:00:00.000Z') };
    const logged: { message: string; error: unknown }[] = [];
    const log = (message: string, error: unknown) => logged.push({ message, error });
    const api = await apiUnderTest({
      log,
      dataCorrections: {
        corrections,
        streamWriter,
        streams: [
          streamConfigSchema.parse({
            name: 'usage-events',
            meterKey: 'k',
            guidingRules: [{ name: 'all', category: 'DEFAULT' }],
          }),
        ],
        now: () => clock.now,
        log,
      },
    });
    const sequenceNumber = '49000000000000000000000000000000000000000000000000000001';
    const id = correctionIdFor('usage-events', 'shardId-000000000000', sequenceNumber);
    await corrections.putAll([
      {
        id,
        reason: 'NO_METER',
        message: 'user u has no meter',
        streamName: 'usage-events',
        shardId: 'shardId-000000000000',
        sequenceNumber,
        partitionKey: 'u',
        data: Buffer.from('{"userId":"u","value":1}').toString('base64'),
        receivedAt: '2025-01-10T00:00:00.000Z',
        correctedAt: '2025-01-10T00:00:01.000Z',
      },
    ]);
    const releaseError = new Error('connect ECONNREFUSED 127.0.0.1:8000');
    const putError = new ServiceUnavailableError('the stream is throttled');
    streamWriter.failNext(putError);
    vi.spyOn(corrections, 'releaseReprocess').mockRejectedValueOnce(releaseError);

    expect((await api.call('POST', `/corrections/${id}/reprocess`)).status).toBe(503);
    expect(logged.map((entry) => entry.error)).toEqual([releaseError, putError]);
    expect(logged[0]?.message).toBe(
      `the re-send claim of data correction ${id} could not be released; it goes stale in 120 s`,
    );
    expect((await api.call('POST', `/corrections/${id}/reprocess`)).status).toBe(409);
    clock.now = new Date(clock.now.getTime() + REPROCESS_CLAIM_STALE_AFTER_MS + 1);
    expect((await api.call('POST', `/corrections/${id}/reprocess`)).status).toBe(200);
    expect(streamWriter.records).toHaveLength(1);
  });
});
