/** Errors that use cases raise; the HTTP layer maps each to one status code in one place. */

/** The addressed item does not exist (HTTP 404). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The request conflicts with the current state, e.g. a duplicate (HTTP 409). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A dependency (DynamoDB, the scheduler) is throttled or unavailable; retrying later helps (HTTP 503). */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
