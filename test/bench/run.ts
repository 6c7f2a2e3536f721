/**
 * `npm run bench`: one run, one markdown table (plus the month-end model), printed and written
 * to test/bench/latest.md. Starts its own DynamoDB Local (and, for section 6, the whole local
 * stack) on 127.0.0.1 and stops everything it started, the Java processes included.
 *
 * BENCH_QUICK=1 runs every section with small sizes (a check that the bench works, not figures);
 * BENCH_SECTIONS=1,4 runs only those sections. Neither writes latest.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../shared/local/dynamodb-local.js';
import {
  bundleRows,
  consoleBundleRow,
  measureBundles,
  measureConsoleBundle,
} from './bundle-bench.js';
import { type FlushResult, flushRows, measureFlushes } from './flush-bench.js';
import { historyRows, measureHistoryRead } from './history-bench.js';
import { httpIngestRows, measureHttpIngestLocal } from './http-ingest-bench.js';
import {
  hotMeterRows,
  measureHotMeter,
  measureThroughput,
  measureWrites,
  throughputRows,
  writesRows,
} from './ingest-bench.js';
import { localStackRows, measureLocalStack } from './local-stack-bench.js';
import { monthEndBlock } from './month-end.js';
import { loadAverage, machineLine, type Row, resultsTable } from './report.js';
import { measureStreamVersionReads, streamVersionRows } from './stream-version-bench.js';
import {
  type HotUniqueResult,
  hotUniqueRows,
  measureHotUnique,
  measureUniqueWrites,
  uniqueWritesRows,
} from './unique-bench.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const quick = process.env.BENCH_QUICK === '1';
const only = process.env.BENCH_SECTIONS?.split(',').map((s) => Number(s.trim()));
const want = (section: number) => !only || only.includes(section);
const partial = quick || only !== undefined;

const sizes = quick
  ? {
      throughput: { users: 20, batches: 4, batchSize: 200, rounds: 2 },
      writes: { meters: [10, 100], batchSize: 100, distinct: [10, 100] },
      hot: { offeredPerSecond: 2_000, seconds: 1, shards: 2, batchSize: 200 },
      hotUnique: { shards: [2], batchesPerShard: 2, batchSize: 50 },
      flush: { sequential: 20, swept: 40, concurrency: 8 },
      local: { records: 2_000, users: 20, timeoutMs: 120_000 },
      http: { records: 2_000, users: 20 },
      versions: { batches: 200, batchSize: 20, msPerBatch: 100, refreshMs: 5_000 },
    }
  : {
      throughput: { users: 100, batches: 20, batchSize: 1_000, rounds: 5 },
      writes: { meters: [10, 1_000], batchSize: 1_000, distinct: [10, 1_000] },
      hot: { offeredPerSecond: 10_000, seconds: 5, shards: 2, batchSize: 1_000 },
      hotUnique: { shards: [2, 4], batchesPerShard: 10, batchSize: 100 },
      flush: { sequential: 100, swept: 500, concurrency: 8 },
      local: { records: 20_000, users: 100, timeoutMs: 240_000 },
      http: { records: 20_000, users: 100 },
      versions: { batches: 1_000, batchSize: 100, msPerBatch: 100, refreshMs: 5_000 },
    };

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** DynamoDB Local (Java) processes still listening on one of these ports. */
function javaLeft(ports: readonly number[]): number {
  let left = 0;
  for (const port of ports) {
    try {
      execFileSync('pgrep', ['-f', `DynamoDBLocal.jar -port ${port} `], { stdio: 'pipe' });
      left++;
    } catch {
      // pgrep exits 1 when nothing matches.
    }
  }
  return left;
}

async function main() {
  const started = Date.now();
  const date = new Date();
  const loadAtStart = loadAverage();
  const rows: Row[] = [];
  const ports: number[] = [];
  let dynamo: DynamoDbLocal | undefined;
  const stopDynamo = async () => {
    const running = dynamo;
    dynamo = undefined;
    await running?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping DynamoDB Local`);
    void stopDynamo().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let flushes: FlushResult | undefined;
  if ([1, 2, 3, 4].some(want)) {
    try {
      progress('starting DynamoDB Local');
      dynamo = await startDynamoDbLocal();
      ports.push(dynamo.port);
      const endpoint = dynamo.endpoint;
      if (want(1)) {
        progress('1. ingest throughput');
        const throughput = await measureThroughput(endpoint, sizes.throughput);
        rows.push(...throughputRows(throughput, sizes.throughput));
      }
      if (want(2)) {
        progress('2. DynamoDB writes per record');
        const writes = await measureWrites(endpoint, sizes.writes.meters, sizes.writes.batchSize);
        rows.push(...writesRows(writes));
        progress('2. unique meter: writes and reads per record');
        rows.push(
          ...uniqueWritesRows(
            await measureUniqueWrites(endpoint, sizes.writes.distinct, sizes.writes.batchSize),
          ),
        );
      }
      if (want(3)) {
        progress('3. hot meter');
        rows.push(...hotMeterRows(await measureHotMeter(endpoint, sizes.hot)));
        progress('3. hot unique meter');
        const hotUnique: HotUniqueResult[] = [];
        for (const shards of sizes.hotUnique.shards) {
          hotUnique.push(await measureHotUnique(endpoint, { ...sizes.hotUnique, shards }));
        }
        rows.push(...hotUniqueRows(hotUnique));
      }
      if (want(4)) {
        progress('4. flushes per second');
        flushes = await measureFlushes(endpoint, sizes.flush);
        rows.push(...flushRows(flushes));
        progress('4. history: writes per flush, a year of one user read back');
        rows.push(...historyRows(flushes, await measureHistoryRead(endpoint)));
      }
    } finally {
      await stopDynamo();
    }
  }
  if (want(5)) {
    progress('5. Lambda bundle sizes');
    rows.push(...bundleRows(await measureBundles(root)));
    rows.push(consoleBundleRow(await measureConsoleBundle()));
  }
  if (want(6)) {
    progress('6. local stack end to end');
    for (const dedup of [true, false]) {
      const local = await measureLocalStack({ ...sizes.local, dedup });
      ports.push(local.dynamoDbPort);
      rows.push(...localStackRows(local));
    }
  }

  if (want(7)) {
    progress('7. HTTP ingestion into the local Kinesis');
    rows.push(...httpIngestRows(await measureHttpIngestLocal(sizes.http)));
    progress('8. stream processor versions: configuration reads, version pins');
    rows.push(...streamVersionRows(await measureStreamVersionReads(sizes.versions)));
  }

  const left = javaLeft(ports);
  const seconds = (Date.now() - started) / 1000;
  const note = quick ? ' (BENCH_QUICK: small sizes, not figures)' : only ? ' (some sections)' : '';
  const output = [
    `${machineLine(date, loadAtStart)} Whole bench: ${seconds.toFixed(0)} s${note}.`,
    '',
    resultsTable(rows),
    '',
    ...(flushes
      ? [
          monthEndBlock({
            flushesPerSecondPerUnit: flushes.sequential.perSecond,
            sweepFlushesPerSecond: flushes.sweep.perSecond,
            sweepLimit: flushes.sweep.meters,
            sweepConcurrency: flushes.sweep.concurrency,
            unitsPerFlush: flushes.unitsPerFlush,
          }),
          '',
        ]
      : []),
  ].join('\n');
  process.stdout.write(output);
  if (!partial) writeFileSync(resolve(here, 'latest.md'), output);
  progress(
    `done in ${seconds.toFixed(0)} s; DynamoDB Local processes left running: ${left}${partial ? '' : '; written to test/bench/latest.md'}`,
  );
  if (left > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
