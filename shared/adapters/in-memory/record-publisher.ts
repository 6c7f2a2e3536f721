import type {
  MeteredRecordPublisher,
  PublishableRecord,
  PublishResult,
} from '../../ports/record-publisher.js';

/** In-memory {@link MeteredRecordPublisher} that records what it was given; the test fake. */
export class InMemoryRecordPublisher implements MeteredRecordPublisher {
  /** Every record accepted, in order, including repeats of the same recordId. */
  readonly records: PublishableRecord[] = [];
  /** The records of every publish call, accepted or not. */
  readonly calls: PublishableRecord[][] = [];
  readonly #failingRecordIds = new Map<string, string>();
  #failingCalls = 0;
  #failingCallsMode: 'report' | 'throw' = 'report';

  /** Accepts the records except injected failures, which are listed in `failed`. */
  async publish(records: readonly PublishableRecord[]): Promise<PublishResult> {
    const copies = records.map((r) => structuredClone(r));
    this.calls.push(copies);
    if (this.#failingCalls > 0) {
      this.#failingCalls -= 1;
      if (this.#failingCallsMode === 'throw') {
        throw new Error('Injected publisher crash');
      }
      return {
        sent: [],
        failed: copies.map((r) => ({ recordId: r.recordId, error: 'Injected call failure' })),
      };
    }
    const result: PublishResult = { sent: [], failed: [] };
    for (const record of copies) {
      const error = this.#failingRecordIds.get(record.recordId);
      if (error === undefined) {
        this.records.push(record);
        result.sent.push(record.recordId);
      } else {
        result.failed.push({ recordId: record.recordId, error });
      }
    }
    return result;
  }

  /** Makes these recordIds fail on every call until {@link clearFailures}. */
  failRecords(recordIds: readonly string[], error = 'Injected record failure'): void {
    for (const recordId of recordIds) this.#failingRecordIds.set(recordId, error);
  }

  /**
   * Makes the next `count` calls fail as a whole: reported in `failed` (the port's contract),
   * or with `mode: 'throw'` thrown, as an unexpected crash would look.
   */
  failNextCalls(count: number, mode: 'report' | 'throw' = 'report'): void {
    this.#failingCalls = count;
    this.#failingCallsMode = mode;
  }

  /** Removes all injected failures. */
  clearFailures(): void {
    this.#failingRecordIds.clear();
    this.#failingCalls = 0;
  }

  /** The accepted records with this recordId. */
  byRecordId(recordId: string): PublishableRecord[] {
    return this.records.filter((r) => r.recordId === recordId);
  }
}
