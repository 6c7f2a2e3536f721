/**
 * The service's errors: one base, `ServiceError`, that carries its HTTP meaning (status code,
 * headers, the body a caller may read), so every layer throws what it means and the HTTP layer
 * maps any of them in one place (shared/http/error-response.ts) without knowing the classes.
 * Messages reach callers only below 500; a 5xx body says nothing of internals.
 */

/** One problem with an input, naming the field (a dotted path) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The JSON body of every error response (the OpenAPI `Error` schema). */
export interface ErrorBody {
  message: string;
  /** 400: each field at fault; 409: the field whose value is taken, when there is one. */
  issues?: FieldIssue[];
  /** A stable code where the status alone does not say it, e.g. 422 `NOT_REPROCESSABLE`. */
  code?: string;
}

/** One line that names every field at fault, for error responses and data-correction entries. */
export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}

/**
 * The base of every error the service raises on purpose. Subclasses set `statusCode` (500 when
 * they do not: a failure of ours, not the caller's) and, where the answer needs more than a
 * message, `headers` and `toResponseBody`.
 *
 * @example
 * throw new NotFoundError(`meter ${id} not found`); // 404 { "message": "meter … not found" }
 */
export class ServiceError extends Error {
  override readonly name: string = 'ServiceError';
  /** The HTTP status code of the response. */
  readonly statusCode: number = 500;

  /** Headers the response carries besides `content-type`, lower-case, e.g. `retry-after`. */
  get headers(): Readonly<Record<string, string>> {
    return {};
  }

  /** What the caller reads: the message below 500, a sentence that hides internals above. */
  toResponseBody(): ErrorBody {
    return { message: this.statusCode < 500 ? this.message : 'internal error' };
  }
}

/** The request cannot be read, e.g. its body is not valid JSON (HTTP 400). */
export class BadRequestError extends ServiceError {
  override readonly name: string = 'BadRequestError';
  override readonly statusCode = 400;
}

/** An input failed validation; `issues` name each field at fault (HTTP 400). */
export class ValidationError extends BadRequestError {
  override readonly name = 'ValidationError';
  constructor(
    readonly issues: FieldIssue[],
    options?: { cause?: unknown },
  ) {
    super(describeIssues(issues), options);
  }

  override toResponseBody(): ErrorBody {
    return { message: this.message, issues: this.issues };
  }
}

/** The addressed item, or route, does not exist (HTTP 404). */
export class NotFoundError extends ServiceError {
  override readonly name = 'NotFoundError';
  override readonly statusCode = 404;
}

/** The path exists, the method does not; `allowed` lists the ones that do (HTTP 405, `Allow`). */
export class MethodNotAllowedError extends ServiceError {
  override readonly name = 'MethodNotAllowedError';
  override readonly statusCode = 405;
  constructor(
    message: string,
    readonly allowed: readonly string[],
  ) {
    super(message);
  }

  override get headers(): Readonly<Record<string, string>> {
    return { allow: this.allowed.join(', ') };
  }
}

/** The request conflicts with the current state, e.g. a duplicate (HTTP 409). */
export class ConflictError extends ServiceError {
  override readonly name = 'ConflictError';
  override readonly statusCode = 409;
  constructor(
    message: string,
    /** The field whose value is taken, when there is one. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The documented error shape: the taken field as an issue, like a 400's. */
  override toResponseBody(): ErrorBody {
    return {
      message: this.message,
      ...(this.field ? { issues: [{ field: this.field, message: this.message }] } : {}),
    };
  }
}

/**
 * The request is understood but can never be carried out as it stands, e.g. re-sending a record
 * that is not JSON (HTTP 422); `code` says which rule refused it.
 */
export class UnprocessableError extends ServiceError {
  override readonly name = 'UnprocessableError';
  override readonly statusCode = 422;
  constructor(
    message: string,
    /** Stable, e.g. `NOT_REPROCESSABLE`. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  override toResponseBody(): ErrorBody {
    return { message: this.message, code: this.code };
  }
}

/** A conditional request's precondition (`If-Match`) no longer holds (HTTP 412). */
export class PreconditionFailedError extends ServiceError {
  override readonly name = 'PreconditionFailedError';
  override readonly statusCode = 412;
}

/** The request body is larger than the API takes (HTTP 413). */
export class PayloadTooLargeError extends ServiceError {
  override readonly name = 'PayloadTooLargeError';
  override readonly statusCode = 413;
}

/** The request body is not of a media type the API reads (HTTP 415). */
export class UnsupportedMediaTypeError extends ServiceError {
  override readonly name = 'UnsupportedMediaTypeError';
  override readonly statusCode = 415;
}

/**
 * A dependency (DynamoDB, Kinesis, the scheduler, a destination) is throttled or unavailable;
 * retrying later helps (HTTP 503 with `Retry-After`).
 */
export class ServiceUnavailableError extends ServiceError {
  override readonly name: string = 'ServiceUnavailableError';
  override readonly statusCode = 503;
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  override get headers(): Readonly<Record<string, string>> {
    return { 'retry-after': String(this.retryAfterSeconds) };
  }

  override toResponseBody(): ErrorBody {
    return { message: 'the service is busy; retry shortly' };
  }
}

/** The scheduler service could not create or delete a schedule; the sweeper is the fallback. */
export class SchedulerUnavailableError extends ServiceUnavailableError {
  override readonly name = 'SchedulerUnavailableError';
  readonly scheduleName: string;
  readonly operation: 'schedule' | 'cancel';

  constructor(
    message: string,
    options: { scheduleName: string; operation: 'schedule' | 'cancel'; cause?: unknown },
  ) {
    super(message, 1, { cause: options.cause });
    this.scheduleName = options.scheduleName;
    this.operation = options.operation;
  }
}

/** Some metered records could not be sent; they stay in the outbox and go on the next try. */
export class PublishFailedError extends ServiceUnavailableError {
  override readonly name = 'PublishFailedError';
  constructor(
    readonly meterId: string,
    readonly failed: { recordId: string; error: string }[],
  ) {
    super(
      `${failed.length} metered record(s) of meter ${meterId} could not be sent: ${failed[0]?.error ?? ''}`,
    );
  }
}
