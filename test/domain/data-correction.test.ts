/** Data-correction ids and kept bytes: stable per stream position, bounded in size. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  correctionData,
  correctionIdFor,
  MAX_CORRECTION_DATA_BYTES,
} from '../../shared/domain/data-correction.js';

describe('correctionIdFor', () => {
  it('gives the same UUID-shaped id for the same stream position, another for another', () => {
    const id = correctionIdFor('usage-events', 'shardId-000000000000', '42');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(correctionIdFor('usage-events', 'shardId-000000000000', '42')).toBe(id);
    expect(correctionIdFor('usage-events', 'shardId-000000000000', '43')).not.toBe(id);
    expect(correctionIdFor('usage-events', 'shardId-000000000001', '42')).not.toBe(id);
    expect(correctionIdFor('other-events', 'shardId-000000000000', '42')).not.toBe(id);
  });
});

describe('correctionData', () => {
  it('keeps a record up to the limit whole, as base64', () => {
    const bytes = Buffer.alloc(MAX_CORRECTION_DATA_BYTES, 1);
    expect(correctionData(bytes)).toEqual({ data: bytes.toString('base64') });
  });

  it('keeps the beginning of a larger record, with its size and SHA-256', () => {
    const bytes = Buffer.alloc(MAX_CORRECTION_DATA_BYTES + 1, 2);
    const kept = correctionData(bytes);
    expect(kept).toEqual({
      data: bytes.subarray(0, MAX_CORRECTION_DATA_BYTES).toString('base64'),
      dataTruncated: true,
      dataBytes: MAX_CORRECTION_DATA_BYTES + 1,
      dataSha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });
});
