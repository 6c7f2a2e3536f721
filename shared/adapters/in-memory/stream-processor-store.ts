/**
 * Streams' meter processors and shard pins in memory, with the DynamoDB adapter's semantics
 * (conditional seed, version-conditioned replace, `through`-conditioned pin writes); the test
 * and bench fake. It counts its reads so tests and the bench can state what ingestion costs.
 */
import { PreconditionFailedError, ValidationError } from '../../domain/errors.js';
import type { ShardPins } from '../../domain/stream-pins.js';
import type { StreamProcessor } from '../../domain/stream-processor.js';
import type { Page } from '../../ports/metering-store.js';
import type { ShardPinStore, StreamProcessorStore } from '../../ports/stream-processor-store.js';

/** The stream-processor and shard-pin stores in memory. */
export class InMemoryStreamProcessorStore implements StreamProcessorStore, ShardPinStore {
  /** Every version of every stream, oldest first. */
  readonly history = new Map<string, StreamProcessor[]>();
  readonly pins = new Map<string, ShardPins>();
  /** Calls by method name. */
  readonly calls = new Map<string, number>();

  private count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  async current(streamName: string): Promise<StreamProcessor | undefined> {
    this.count('current');
    const versions = this.history.get(streamName);
    return versions && structuredClone(versions[versions.length - 1]);
  }

  async version(streamName: string, version: number): Promise<StreamProcessor | undefined> {
    this.count('version');
    const found = this.history.get(streamName)?.find((p) => p.version === version);
    return found && structuredClone(found);
  }

  async seed(first: StreamProcessor): Promise<void> {
    this.count('seed');
    if (!this.history.has(first.configuration.name)) {
      this.history.set(first.configuration.name, [structuredClone(first)]);
    }
  }

  async replace(next: StreamProcessor, expectedVersion: number): Promise<void> {
    this.count('replace');
    const versions = this.history.get(next.configuration.name);
    if (versions?.[versions.length - 1]?.version !== expectedVersion) {
      throw new PreconditionFailedError(
        `stream ${next.configuration.name} is no longer at version ${expectedVersion}`,
      );
    }
    versions.push(structuredClone(next));
  }

  async versions(
    streamName: string,
    limit: number,
    nextToken?: string,
  ): Promise<Page<StreamProcessor>> {
    this.count('versions');
    const start = nextToken === undefined ? 0 : Number(nextToken);
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new ValidationError([
        { field: 'nextToken', message: 'is not a token this API returned' },
      ]);
    }
    const newestFirst = [...(this.history.get(streamName) ?? [])].reverse();
    const items = structuredClone(newestFirst.slice(start, start + limit));
    return start + limit < newestFirst.length
      ? { items, nextToken: String(start + limit) }
      : { items };
  }

  async readPins(streamName: string, shardId: string): Promise<ShardPins | undefined> {
    this.count('readPins');
    const pins = this.pins.get(`${streamName}\u0000${shardId}`);
    return pins && structuredClone(pins);
  }

  async writePins(
    streamName: string,
    shardId: string,
    next: ShardPins,
    expectedThrough: string | undefined,
  ): Promise<boolean> {
    this.count('writePins');
    const key = `${streamName}\u0000${shardId}`;
    if (this.pins.get(key)?.through !== expectedThrough) return false;
    this.pins.set(key, structuredClone(next));
    return true;
  }
}
