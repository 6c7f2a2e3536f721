/**
 * Streams' meter processors as data the API owns (issue 13). Which streams exist (name, shards)
 * is infrastructure, declared in the deployed configuration; what each stream's processor does
 * is stored in the table, versioned. The stored processor wins; the deployed configuration only
 * seeds version 1, the first time anyone (the API or ingestion) reads a stream without one.
 */
import { NotFoundError, PreconditionFailedError } from '../domain/errors.js';
import {
  nextProcessor,
  replacementConfiguration,
  type StreamProcessor,
  seededProcessor,
} from '../domain/stream-processor.js';
import { ruleCategoryWarnings, type Warning } from '../domain/stream-reach.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import type { CategoryCensus } from '../ports/category-census.js';
import type { Page } from '../ports/metering-store.js';
import type { StreamProcessorStore } from '../ports/stream-processor-store.js';

/** Where the processors are, which streams are deployed (the seeds), and the clock. */
export interface StreamProcessorDeps {
  processors: StreamProcessorStore;
  /** The deployed streams: which exist, and each one's seed configuration. */
  deployed: readonly StreamConfig[];
  now: () => Date;
}

/** What `If-Match` asks of a PUT: any current version (`*`), or one of these. */
export type VersionPrecondition = '*' | readonly number[];

/** The stored processor of a deployed stream (seeding version 1 when there is none), or undefined. */
export async function loadProcessor(
  deps: StreamProcessorDeps,
  streamName: string,
): Promise<StreamProcessor | undefined> {
  const seed = deps.deployed.find((stream) => stream.name === streamName);
  if (!seed) return undefined;
  const stored = await deps.processors.current(streamName);
  if (stored) return stored;
  await deps.processors.seed(seededProcessor(seed, deps.now()));
  const seeded = await deps.processors.current(streamName);
  if (!seeded) throw new Error(`stream ${streamName} has no processor after seeding it`);
  return seeded;
}

/** The processor of a deployed stream, or NotFoundError. */
export async function processorNamed(
  deps: StreamProcessorDeps,
  streamName: string,
): Promise<StreamProcessor> {
  const processor = await loadProcessor(deps, streamName);
  if (!processor) {
    const shown = streamName.length > 130 ? `${streamName.slice(0, 130)}…` : streamName;
    throw new NotFoundError(`stream ${shown} not found`);
  }
  return processor;
}

/** Every deployed stream's current processor, in the deployed order. */
export async function listProcessors(deps: StreamProcessorDeps): Promise<StreamProcessor[]> {
  return Promise.all(deps.deployed.map((stream) => processorNamed(deps, stream.name)));
}

/**
 * Replaces a stream's processor configuration.
 * 1. Read the current version (404 for an unknown stream).
 * 2. Check `If-Match` against it (412 when stale).
 * 3. Validate the body: a whole configuration, `name`, `meterKey` and `shardCount` unchanged (400).
 * 4. Save version + 1 in one transaction conditional on the version read (412 if a concurrent
 *    save won), so a version number is never lost or reused.
 * 5. Warn of rules routing to a category no meter type has.
 */
export async function replaceProcessor(
  deps: StreamProcessorDeps & { categories: CategoryCensus },
  streamName: string,
  body: unknown,
  ifMatch: VersionPrecondition | undefined,
): Promise<{ processor: StreamProcessor; warnings: Warning[] }> {
  const current = await processorNamed(deps, streamName);
  if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.includes(current.version)) {
    throw new PreconditionFailedError(
      `stream ${streamName} is at version ${current.version}, not ${ifMatch.join(' or ') || 'the one given'}: read it again`,
    );
  }
  const configuration = replacementConfiguration(current.configuration, body);
  const next = nextProcessor(current, configuration, deps.now());
  await deps.processors.replace(next, current.version);
  const categories = [...new Set(configuration.guidingRules.map((rule) => rule.category))];
  const inUse = await deps.categories.categoriesInUse(categories);
  return { processor: next, warnings: ruleCategoryWarnings(configuration.guidingRules, inUse) };
}

/** A stream's versions, newest first (404 for an unknown stream). */
export async function listProcessorVersions(
  deps: StreamProcessorDeps,
  streamName: string,
  limit: number,
  nextToken?: string,
): Promise<Page<StreamProcessor>> {
  await processorNamed(deps, streamName);
  return deps.processors.versions(streamName, limit, nextToken);
}
