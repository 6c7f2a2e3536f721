/**
 * Ingestion's view of the streams' meter processors, per container: the current version read at
 * most once per refresh interval (not once per batch), old versions read once when a pin needs
 * them (they never change), and each shard's pins as this container last wrote them.
 */
import type { ShardPins, VersionRun } from '../domain/stream-pins.js';
import { planShardPins } from '../domain/stream-pins.js';
import type { StreamProcessor } from '../domain/stream-processor.js';
import type { ShardPinStore } from '../ports/stream-processor-store.js';
import { loadProcessor, type StreamProcessorDeps } from './stream-processors.js';

/** A new version is used by batches that start this long after it was saved, at the latest. */
export const DEFAULT_REFRESH_MS = 5_000;

/** Kinesis's longest retention (365 days): pins are kept at least this long when none is given. */
export const MAX_STREAM_RETENTION_MS = 8_760 * 60 * 60 * 1000;

/** How often a batch re-reads and re-plans when other attempts keep writing the shard's pins. */
const MAX_PIN_ATTEMPTS = 10;

export interface StreamVersionsDeps extends StreamProcessorDeps {
  pins: ShardPinStore;
  /** How long the current version is used before it is read again. @default DEFAULT_REFRESH_MS */
  refreshMs?: number;
  /**
   * How long the streams keep a record: a pin no record on the stream can need any more is
   * removed when the next one is added. @default MAX_STREAM_RETENTION_MS
   */
  retentionMs?: number;
}

/** The processors and pins ingestion routes by; one per container (cold start). */
export class StreamVersions {
  readonly #deps: StreamVersionsDeps;
  readonly #current = new Map<string, { processor: StreamProcessor; readAt: number }>();
  readonly #versions = new Map<string, StreamProcessor>();
  readonly #pins = new Map<string, ShardPins>();

  constructor(deps: StreamVersionsDeps) {
    this.#deps = deps;
  }

  /** The current processor of a deployed stream, read again once the refresh interval passed. */
  async current(streamName: string): Promise<StreamProcessor> {
    const now = this.#deps.now().getTime();
    const cached = this.#current.get(streamName);
    const refreshMs = this.#deps.refreshMs ?? DEFAULT_REFRESH_MS;
    if (cached && now - cached.readAt < refreshMs && now >= cached.readAt) {
      return cached.processor;
    }
    const processor = await loadProcessor(this.#deps, streamName);
    if (!processor) throw new Error(`stream ${streamName} is not deployed`);
    this.#current.set(streamName, { processor, readAt: now });
    this.#versions.set(`${streamName}\u0000${processor.version}`, processor);
    return processor;
  }

  /** One version of a stream's processor (read once, then kept: versions never change). */
  async version(streamName: string, version: number): Promise<StreamProcessor> {
    const key = `${streamName}\u0000${version}`;
    const cached = this.#versions.get(key);
    if (cached) return cached;
    const processor = await this.#deps.processors.version(streamName, version);
    if (!processor) throw new Error(`stream ${streamName} has no version ${version}`);
    this.#versions.set(key, processor);
    return processor;
  }

  /**
   * Pins the batch's records of one shard to versions before anything of it is applied (see
   * shared/domain/stream-pins.ts) and answers the runs of records each version routes. The pins
   * are written conditionally on the `through` read; on a conflict they are read and planned again.
   */
  async pinBatch(
    streamName: string,
    shardId: string,
    sequenceNumbers: readonly string[],
  ): Promise<VersionRun[]> {
    const { version } = await this.current(streamName);
    const key = `${streamName}\u0000${shardId}`;
    let stored = this.#pins.get(key) ?? (await this.#deps.pins.readPins(streamName, shardId));
    for (let attempt = 1; attempt <= MAX_PIN_ATTEMPTS; attempt++) {
      const plan = planShardPins(stored, sequenceNumbers, version, {
        now: this.#deps.now().getTime(),
        retentionMs: this.#deps.retentionMs ?? MAX_STREAM_RETENTION_MS,
      });
      if (!plan.write) return plan.runs;
      const written = await this.#deps.pins.writePins(
        streamName,
        shardId,
        plan.write,
        stored?.through,
      );
      if (written) {
        this.#pins.set(key, plan.write);
        return plan.runs;
      }
      this.#pins.delete(key);
      stored = await this.#deps.pins.readPins(streamName, shardId);
    }
    throw new Error(`the version pins of ${streamName}/${shardId} kept changing`);
  }
}
