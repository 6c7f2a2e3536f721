/** Classifies DynamoDB errors so use cases see conflicts, and clients see 503 for throttling. */
import { ServiceUnavailableError } from '../../domain/errors.js';

interface AwsErrorShape {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: { Code?: string }[];
}

function shape(error: unknown): AwsErrorShape {
  return typeof error === 'object' && error !== null ? (error as AwsErrorShape) : {};
}

const UNAVAILABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'LimitExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** True when a single-item write failed its condition expression. */
export function isConditionFailed(error: unknown): boolean {
  return shape(error).name === 'ConditionalCheckFailedException';
}

/** The per-item codes of a cancelled transaction (`None` for items that were fine), or undefined. */
export function cancellationCodes(error: unknown): string[] | undefined {
  const s = shape(error);
  if (s.name !== 'TransactionCanceledException') return undefined;
  return (s.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/** True when the error means "try again later": throttling, unavailability, network trouble. */
export function isTransient(error: unknown): boolean {
  const s = shape(error);
  if (s.name && UNAVAILABLE_NAMES.has(s.name)) return true;
  if (s.code && NETWORK_CODES.has(s.code)) return true;
  const status = s.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const codes = cancellationCodes(error);
  return (
    codes?.some(
      (c) =>
        c === 'ThrottlingError' ||
        c === 'TransactionConflict' ||
        c === 'ProvisionedThroughputExceeded',
    ) ?? false
  );
}

/** Wraps transient DynamoDB errors as ServiceUnavailableError; rethrows anything else as is. */
export function rethrowStoreError(error: unknown): never {
  if (isTransient(error)) {
    throw new ServiceUnavailableError('the metering store is busy; retry shortly', 1, {
      cause: error,
    });
  }
  throw error;
}
