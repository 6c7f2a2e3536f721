/**
 * How a record that cannot be metered is kept in data correction: a deterministic id per stream
 * position (so every retry of a batch writes the same entry once) and the original bytes, cut to
 * what one DynamoDB item can hold. Pure.
 */
import { createHash } from 'node:crypto';

/** Entries keep at most this much of the original record (a DynamoDB item holds 400 KB). */
export const MAX_CORRECTION_DATA_BYTES = 256 * 1024;

/** The original bytes of a record as a data-correction entry keeps them. */
export interface CorrectionData {
  /** Base64 of the bytes (of the first MAX_CORRECTION_DATA_BYTES when truncated). */
  data: string;
  /** Set when the record was larger than an entry keeps: `data` holds its beginning only. */
  dataTruncated?: boolean;
  /** The original record's size in bytes, when truncated. */
  dataBytes?: number;
  /** The original record's SHA-256 (hex), when truncated. */
  dataSha256?: string;
}

/** The original bytes as an entry keeps them: base64, truncated with size and digest when large. */
export function correctionData(bytes: Uint8Array): CorrectionData {
  const buffer = Buffer.from(bytes);
  if (buffer.byteLength <= MAX_CORRECTION_DATA_BYTES) return { data: buffer.toString('base64') };
  return {
    data: buffer.subarray(0, MAX_CORRECTION_DATA_BYTES).toString('base64'),
    dataTruncated: true,
    dataBytes: buffer.byteLength,
    dataSha256: createHash('sha256').update(buffer).digest('hex'),
  };
}

/** Deterministic id (UUID-shaped) of the correction entry for a stream position. */
export function correctionIdFor(
  streamName: string,
  shardId: string,
  sequenceNumber: string,
): string {
  const hex = createHash('sha256')
    .update(JSON.stringify(['data-correction/v1', streamName, shardId, sequenceNumber]))
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
