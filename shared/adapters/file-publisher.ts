import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type {
  MeteredRecordPublisher,
  PublishableRecord,
  PublishResult,
} from '../ports/record-publisher.js';
import { describeError } from './batch-publisher.js';

/** Settings of {@link JsonLinesFilePublisher}. */
export interface JsonLinesFilePublisherOptions {
  /** File the records are appended to; its directory is created when missing. */
  path: string;
}

// Publishes to one file are chained, so concurrent calls in this process never interleave
// even when a large append is split into several writes.
const fileTails = new Map<string, Promise<unknown>>();

/** Local stand-in for SQS/SNS: appends one JSON line per record to a file. */
export class JsonLinesFilePublisher implements MeteredRecordPublisher {
  readonly #path: string;

  constructor(options: JsonLinesFilePublisherOptions) {
    this.#path = resolve(options.path);
  }

  /** The absolute path of the file. */
  get path(): string {
    return this.#path;
  }

  /** Appends all records in one write; if the write fails, every record is reported failed. */
  async publish(records: readonly PublishableRecord[]): Promise<PublishResult> {
    const result: PublishResult = { sent: [], failed: [] };
    const lines: string[] = [];
    const written: string[] = [];
    for (const record of records) {
      try {
        lines.push(`${JSON.stringify(record)}\n`);
        written.push(record.recordId);
      } catch (error) {
        result.failed.push({ recordId: record.recordId, error: describeError(error) });
      }
    }
    if (lines.length === 0) return result;

    const previous = fileTails.get(this.#path) ?? Promise.resolve();
    const append = previous
      .catch(() => undefined)
      .then(async () => {
        await mkdir(dirname(this.#path), { recursive: true });
        await appendFile(this.#path, lines.join(''), 'utf8');
      });
    fileTails.set(this.#path, append);
    try {
      await append;
      result.sent.push(...written);
    } catch (error) {
      const message = describeError(error);
      for (const recordId of written) result.failed.push({ recordId, error: message });
    } finally {
      if (fileTails.get(this.#path) === append) fileTails.delete(this.#path);
    }
    return result;
  }
}
