/**
 * The publish loop the SQS and SNS publishers share: a record's message (body, filter
 * attributes, FIFO ids), batches split by the service's count and size limits, and each batch
 * response settled per record into sent and failed.
 */
import type { PublishableRecord, PublishResult } from '../ports/record-publisher.js';

/** The message attributes subscribers filter on, in the order they are sent. */
export function recordAttributes(
  record: PublishableRecord,
): { name: 'recordType' | 'meterTypeId' | 'userId'; value: string }[] {
  const attributes = [
    { name: 'recordType' as const, value: record.recordType },
    { name: 'meterTypeId' as const, value: record.meterTypeId },
    { name: 'userId' as const, value: record.userId },
  ];
  // SQS and SNS reject an empty attribute value for the whole batch; leave such ones out.
  return attributes.filter((a) => typeof a.value === 'string' && a.value.length > 0);
}

/** A record as an SQS or SNS message: the shape both batch APIs take. */
export interface RecordMessage {
  /** The record's JSON. */
  body: string;
  /** `recordType`, `meterTypeId` and `userId` as string attributes, for filter policies. */
  attributes: Record<string, { DataType: 'String'; StringValue: string }>;
  /** The size both services count against their batch limit: body plus attribute names, types and values. */
  bytes: number;
  /** On FIFO destinations: one group per meter, and the recordId as deduplication id. */
  fifo?: { MessageGroupId: string; MessageDeduplicationId: string };
}

/** Builds the message of a record for a queue or topic (FIFO or not). */
export function recordMessage(record: PublishableRecord, fifo: boolean): RecordMessage {
  const body = JSON.stringify(record);
  const attributes: RecordMessage['attributes'] = {};
  let bytes = Buffer.byteLength(body);
  for (const { name, value } of recordAttributes(record)) {
    attributes[name] = { DataType: 'String', StringValue: value };
    bytes += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  }
  return {
    body,
    attributes,
    bytes,
    ...(fifo
      ? { fifo: { MessageGroupId: record.id, MessageDeduplicationId: record.recordId } }
      : {}),
  };
}

/**
 * Splits items into batches of at most `maxCount` entries and `maxBytes` total size, in order.
 * An item larger than `maxBytes` on its own is returned in `oversized` instead.
 */
export function splitIntoBatches<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: { maxCount: number; maxBytes: number },
): { batches: T[][]; oversized: T[] } {
  const batches: T[][] = [];
  const oversized: T[] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const bytes = sizeOf(item);
    if (bytes > limits.maxBytes) {
      oversized.push(item);
      continue;
    }
    if (current.length >= limits.maxCount || currentBytes + bytes > limits.maxBytes) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}

/** `Name: message` of a thrown value, for {@link PublishResult} failures. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The per-entry part of an SQS SendMessageBatch or SNS PublishBatch response. */
export interface BatchResponse {
  Successful?: { Id?: string | undefined }[] | undefined;
  Failed?: { Id?: string | undefined; Code?: string | undefined; Message?: string | undefined }[];
}

/** Adds each batch entry to `sent` or `failed` of `result` according to a batch response. */
export function settleBatchResponse(
  entries: readonly { recordId: string; entryId: string }[],
  response: BatchResponse,
  result: PublishResult,
): void {
  const succeeded = new Set((response.Successful ?? []).map((s) => s.Id));
  const failures = new Map((response.Failed ?? []).map((f) => [f.Id, f]));
  for (const { recordId, entryId } of entries) {
    const failure = failures.get(entryId);
    if (failure !== undefined) {
      const detail = failure.Message === undefined ? '' : `: ${failure.Message}`;
      result.failed.push({ recordId, error: `${failure.Code ?? 'UnknownError'}${detail}` });
    } else if (succeeded.has(entryId)) {
      result.sent.push(recordId);
    } else {
      // Neither listed: unknown outcome, so send again; consumers deduplicate by recordId.
      result.failed.push({ recordId, error: 'Entry missing from the batch response' });
    }
  }
}

/** How one batching service (SQS, SNS) builds an entry and sends a batch. */
export interface BatchService<E> {
  /** For error messages, e.g. 'SQS'. */
  name: string;
  maxCount: number;
  maxBytes: number;
  /** The entry of a record and its size as the service counts it. */
  toEntry(record: PublishableRecord, entryId: string): { entry: E; bytes: number };
  send(entries: E[]): Promise<BatchResponse>;
}

/**
 * The publish loop SQS and SNS share: build the entries (a record that cannot be serialized
 * fails alone), split them by count and size, send each batch, and report per record what
 * was sent and what failed. Never throws for a publish failure; the caller retries what failed.
 */
export async function publishInBatches<E>(
  records: readonly PublishableRecord[],
  service: BatchService<E>,
): Promise<PublishResult> {
  const result: PublishResult = { sent: [], failed: [] };
  const pending: { record: PublishableRecord; entryId: string; entry: E; bytes: number }[] = [];
  for (const [index, record] of records.entries()) {
    try {
      // Positional ids are unique in the batch and valid whatever the recordId looks like.
      const entryId = `r${index}`;
      pending.push({ record, entryId, ...service.toEntry(record, entryId) });
    } catch (error) {
      result.failed.push({ recordId: record.recordId, error: describeError(error) });
    }
  }
  const { batches, oversized } = splitIntoBatches(pending, (p) => p.bytes, {
    maxCount: service.maxCount,
    maxBytes: service.maxBytes,
  });
  for (const p of oversized) {
    result.failed.push({
      recordId: p.record.recordId,
      error: `Message of ${p.bytes} bytes exceeds the ${service.name} limit of ${service.maxBytes} bytes`,
    });
  }
  for (const batch of batches) {
    try {
      const response = await service.send(batch.map((p) => p.entry));
      settleBatchResponse(
        batch.map((p) => ({ recordId: p.record.recordId, entryId: p.entryId })),
        response,
        result,
      );
    } catch (error) {
      const message = describeError(error);
      for (const { record } of batch)
        result.failed.push({ recordId: record.recordId, error: message });
    }
  }
  return result;
}
