/**
 * Local stand-in for Amazon Kinesis Data Streams: kinesalite, run in-process on 127.0.0.1.
 * Used by the local stack (`npm start`) and by adapter tests. Nothing here talks to AWS.
 */

import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Options of {@link startLocalKinesis}. */
export interface LocalKinesisOptions {
  /** TCP port; 0 or absent picks a free port. */
  port?: number;
  /** Interface to bind; defaults to 127.0.0.1 (never exposed beyond the machine). */
  host?: string;
  /** Directory (created if missing) for a LevelDB copy of the streams, kept across restarts; absent = in memory. */
  persistDir?: string;
}

/** A running local Kinesis. */
export interface LocalKinesis {
  /** Base URL to give the AWS SDK as `endpoint`, e.g. `http://127.0.0.1:4567`. */
  endpoint: string;
  port: number;
  /** Closes the server, its connections and its store; resolves when nothing is left open. */
  stop(): Promise<void>;
}

/** The part of kinesalite's (untyped, CommonJS) factory that we use. */
interface KinesaliteOptions {
  path?: string;
  createStreamMs?: number;
  deleteStreamMs?: number;
  updateStreamMs?: number;
  shardLimit?: number;
}
type KinesaliteFactory = (options: KinesaliteOptions) => Server;

/** Raised when a stream does not reach ACTIVE in time. */
export class LocalStreamNotActiveError extends Error {
  constructor(streamName: string, status: string | undefined, options?: ErrorOptions) {
    super(
      `Stream ${streamName} did not become ACTIVE (last status: ${status ?? 'unknown'})`,
      options,
    );
    this.name = 'LocalStreamNotActiveError';
  }
}

const DUMMY_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
const STREAM_ACTIVE_TIMEOUT_MS = 30_000;
const STREAM_STATUS_POLL_MS = 20;
/** After this long, connections that keep a closing server open are cut. */
const FORCE_CLOSE_AFTER_MS = 2_000;

/**
 * Starts kinesalite in this process. Streams become ACTIVE at once (no simulated creation
 * delay). Persisting to `persistDir` uses leveldown's prebuilt binary shipped in its package.
 *
 * @example
 * const kinesis = await startLocalKinesis({ port: 0 });
 * const client = createLocalKinesisClient(kinesis.endpoint);
 * await ensureStream(client, 'usage-records', 2);
 * // ...
 * client.destroy();
 * await kinesis.stop();
 */
export async function startLocalKinesis(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const host = options.host ?? '127.0.0.1';
  const require = createRequire(import.meta.url);
  const kinesalite = require('kinesalite') as KinesaliteFactory;
  if (options.persistDir !== undefined) mkdirSync(options.persistDir, { recursive: true });
  const server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 1000,
    ...(options.persistDir === undefined ? {} : { path: options.persistDir }),
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;

  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    stop() {
      stopped ??= closeServer(server);
      return stopped;
    },
  };
}

/** kinesalite's close() closes its store first, then the HTTP server. */
function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Node 20 closes idle keep-alive sockets on close(); cut any still busy after a grace time.
    const force = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_AFTER_MS);
    force.unref();
    server.close((err) => {
      clearTimeout(force);
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** A Kinesis client for the local stand-in: HTTP/1.1 (`NodeHttpHandler`), us-east-1, dummy credentials. */
export function createLocalKinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: DUMMY_CREDENTIALS,
    requestHandler: new NodeHttpHandler(),
  });
}

/**
 * Creates the stream with `shardCount` shards if it does not exist, then waits until it is
 * ACTIVE. Idempotent: an existing stream is kept as it is, whatever its shard count.
 */
export async function ensureStream(
  client: KinesisClient,
  streamName: string,
  shardCount: number,
): Promise<void> {
  const deadline = Date.now() + STREAM_ACTIVE_TIMEOUT_MS;
  let status: string | undefined;
  for (;;) {
    status = await streamStatus(client, streamName);
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new LocalStreamNotActiveError(streamName, status);
    if (status === undefined) {
      try {
        await client.send(
          new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }),
        );
      } catch (err) {
        // Someone else created it (or it is still being deleted): wait for it like for ours.
        if (!(err instanceof ResourceInUseException)) throw err;
      }
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, STREAM_STATUS_POLL_MS));
  }
}

async function streamStatus(
  client: KinesisClient,
  streamName: string,
): Promise<string | undefined> {
  try {
    const { StreamDescriptionSummary } = await client.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    return StreamDescriptionSummary?.StreamStatus ?? 'UNKNOWN';
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}
