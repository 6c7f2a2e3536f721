/**
 * Section 2, unique meters (issue 17): the DynamoDB writes and reads of one batch into a unique
 * meter's fresh period, with few and with many distinct values, and of the same batch again
 * once every value is claimed. Measured by counting the SDK calls to DynamoDB Local.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { MAX_CLAIMS_PER_WRITE } from '../../shared/domain/unique-values.js';
import { benchStreams, benchTable, dynamoIngest, kinesisEvent, ShardSequence } from './harness.js';
import { fixed, int, type Row, times } from './report.js';

/** The DynamoDB calls of one batch into a unique meter. */
export interface UniqueBatchCost {
  /** Claim items written (each in a transaction with its meter). */
  claimWrites: number;
  /** Writes of the meter item: one per transaction, or one plain conditional Put. */
  meterWrites: number;
  /** Other item writes (none expected). */
  otherWrites: number;
  /** Items written inside TransactWriteItems (2 WCU per item and KB in DynamoDB). */
  transactionItems: number;
  /** Write units DynamoDB Local reported. */
  writeUnits: number;
  readUnits: number;
  calls: Record<string, number>;
  ms: number;
  failedConditions: number;
}

export interface UniqueWritesResult {
  distinct: number;
  batchSize: number;
  /** The first batch: every value new to the period. */
  fresh: UniqueBatchCost;
  /** The same values again: all already claimed. */
  again: UniqueBatchCost;
  /** The meter's value and record count after both batches (checked exact). */
  value: number;
  recordCount: number;
}

/** Targets: one claim per new value, one meter write per ⌈new values / 99⌉ (at least one). */
export function uniqueWriteTarget(newValues: number): { claims: number; meterWrites: number } {
  return {
    claims: newValues,
    meterWrites: Math.max(1, Math.ceil(newValues / MAX_CLAIMS_PER_WRITE)),
  };
}

/** Key lookups a batch needs: ⌈distinct values / 100⌉ BatchGetItem calls. */
export function uniqueReadTarget(distinct: number): number {
  return Math.ceil(distinct / 100);
}

function deviceRecords(batchSize: number, distinct: number) {
  return Array.from({ length: batchSize }, (_, i) => ({
    userId: 'unique-user',
    deviceId: `device-${i % distinct}`,
    timestamp: '2025-01-15T11:00:00Z',
  }));
}

/**
 * For each count of distinct values: a fresh table, one unique meter (field `deviceId`), one
 * batch of `batchSize` records cycling through that many values, then the same batch again.
 */
export async function measureUniqueWrites(
  endpoint: string,
  distinctCounts: readonly number[],
  batchSize: number,
): Promise<UniqueWritesResult[]> {
  const results: UniqueWritesResult[] = [];
  for (const distinct of distinctCounts) {
    const table = await benchTable(endpoint);
    try {
      const ingest = dynamoIngest(table, benchStreams(false));
      const ids = await ingest.createMeters(['unique-user'], {
        type: { aggregation: { type: 'unique', field: 'deviceId' } },
      });
      const shard = new ShardSequence();
      const run = async (): Promise<UniqueBatchCost> => {
        const event: KinesisStreamEvent = kinesisEvent(deviceRecords(batchSize, distinct), shard);
        table.stats.reset();
        const started = performance.now();
        const response = await ingest.handler(event);
        const ms = performance.now() - started;
        if (response.batchItemFailures.length > 0)
          throw new Error(`unique ${distinct}: batch item failures`);
        const s = table.stats.snapshot();
        const claimWrites = s.writesByEntity['unique-claim'] ?? 0;
        const meterWrites = s.writesByEntity.meter ?? 0;
        return {
          claimWrites,
          meterWrites,
          otherWrites: s.writeRequests - claimWrites - meterWrites,
          transactionItems: s.transactionItems,
          writeUnits: s.writeUnits,
          readUnits: s.readUnits,
          calls: s.calls,
          ms,
          failedConditions: s.conditionFailures + s.transactionCancellations,
        };
      };
      const fresh = await run();
      const again = await run();
      const view = await ingest.meters.get(ids.get('unique-user') as string);
      const value = Number(view?.value);
      const recordCount = view?.meterMetaData.recordCount ?? 0;
      if (value !== distinct || recordCount !== 2 * batchSize)
        throw new Error(
          `unique ${distinct}: value ${value} (expected ${distinct}), records ${recordCount} (expected ${2 * batchSize})`,
        );
      results.push({ distinct, batchSize, fresh, again, value, recordCount });
    } finally {
      table.client.destroy();
    }
  }
  return results;
}

function callList(calls: Record<string, number>): string {
  return Object.entries(calls)
    .map(([name, n]) => `${int(n)} ${name.replace(/Command$/, '')}`)
    .join(' + ');
}

function uniqueRow(r: UniqueWritesResult, second: boolean): Row {
  const cost = second ? r.again : r.fresh;
  const newValues = second ? 0 : r.distinct;
  const target = uniqueWriteTarget(newValues);
  const writes = cost.claimWrites + cost.meterWrites + cost.otherWrites;
  const targetWrites = target.claims + target.meterWrites;
  const met =
    cost.claimWrites <= target.claims &&
    cost.meterWrites <= target.meterWrites &&
    cost.otherWrites === 0;
  const batchGets = cost.calls.BatchGetItemCommand ?? 0;
  const readsMet = batchGets <= uniqueReadTarget(r.distinct);
  const plural = (n: number, word: string) => `${int(n)} ${word}${n === 1 ? '' : 's'}`;
  return {
    section: '2',
    measure: `unique meter, writes/record: ${int(r.batchSize)} records with ${int(r.distinct)} distinct values, ${second ? 'same values again (all already claimed)' : 'fresh period (all new)'}`,
    measured: `${fixed(writes / r.batchSize, 3)} item writes/record (${plural(cost.claimWrites, 'claim')} + ${plural(cost.meterWrites, 'meter write')}); ${plural(batchGets, 'BatchGetItem')}`,
    target: `≤ ${plural(target.claims, 'claim')} + ${plural(target.meterWrites, 'meter write')} = ${int(targetWrites)} (1 claim per new value per period, 1 meter write per ${MAX_CLAIMS_PER_WRITE} new values) ${met ? '(met)' : '(MISSED)'}; reads ≤ ${plural(uniqueReadTarget(r.distinct), 'BatchGetItem')} (100 keys a call) ${readsMet ? '(met)' : '(MISSED)'}`,
    ratio: `${times(writes / targetWrites)} the target`,
    notes: `calls: ${callList(cost.calls)}; ${int(cost.transactionItems)} items in transactions. In DynamoDB a transactional write costs 2 WCU per item (per KB), twice a plain write: the ${plural(cost.claimWrites, 'claim')} (< 1 KB each) cost ${int(2 * cost.claimWrites)} WCU, each meter write 2 WCU per KB of the meter item inside a transaction, 1 per KB as a plain Put (DynamoDB Local reported ${fixed(cost.writeUnits, 0)} WCU, ${fixed(cost.readUnits, 1)} RCU; its transactions are not charged as DynamoDB's). ${cost.failedConditions} failed conditions; batch ${int(cost.ms)} ms; meter value ${int(r.value)} distinct of ${int(r.recordCount)} records after both batches (exact)`,
  };
}

export function uniqueWritesRows(results: readonly UniqueWritesResult[]): Row[] {
  return results.flatMap((r) => [uniqueRow(r, false), uniqueRow(r, true)]);
}

export interface HotUniqueResult {
  shards: number;
  batchesPerShard: number;
  batchSize: number;
  records: number;
  ms: number;
  /** Handler invocations, the Lambda's retries of a failed batch included. */
  invocations: number;
  /** Invocations that gave the batch back (from its first unwritten record) to be retried. */
  retried: number;
  transactions: number;
  cancelled: number;
  value: number;
}

/**
 * Section 3, a hot unique meter: `shards` shards deliver batches of new values for one user's
 * unique meter at once, back to back. Each meter write is conditioned on the meter's version,
 * so the shards take turns: a shard that loses re-reads and tries again (6 times within an
 * invocation), then gives the rest of its batch back, as the event source mapping would retry
 * it. The value must come out exact.
 */
export async function measureHotUnique(
  endpoint: string,
  options: { shards: number; batchesPerShard: number; batchSize: number },
): Promise<HotUniqueResult> {
  const table = await benchTable(endpoint);
  try {
    // A batch given back is counted here; the log line for each would only repeat it.
    let givenBack = 0;
    const ingest = dynamoIngest(table, benchStreams(false), undefined, {
      logFailure: () => givenBack++,
    });
    const ids = await ingest.createMeters(['hot-unique'], {
      type: { aggregation: { type: 'unique', field: 'deviceId' } },
    });
    let next = 0;
    let invocations = 0;
    let retried = 0;
    table.stats.reset();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.shards }, async (_, s) => {
        const shard = new ShardSequence(`shardId-${String(s).padStart(12, '0')}`);
        for (let b = 0; b < options.batchesPerShard; b++) {
          const records = Array.from({ length: options.batchSize }, () => ({
            userId: 'hot-unique',
            deviceId: `device-${next++}`,
            timestamp: '2025-01-15T11:00:00Z',
          }));
          let event: KinesisStreamEvent = kinesisEvent(records, shard);
          // As the event source mapping does: retry from the first record given back.
          for (;;) {
            invocations++;
            const response = await ingest.handler(event);
            const from = response.batchItemFailures[0]?.itemIdentifier;
            if (from === undefined) break;
            retried++;
            event = {
              Records: event.Records.filter(
                (r) => BigInt(r.kinesis.sequenceNumber) >= BigInt(from),
              ),
            };
          }
        }
      }),
    );
    const ms = performance.now() - started;
    const stats = table.stats.snapshot();
    const view = await ingest.meters.get(ids.get('hot-unique') as string);
    const value = Number(view?.value);
    if (value !== next) throw new Error(`hot unique meter: value ${value}, expected ${next}`);
    if (givenBack !== retried)
      throw new Error(`hot unique meter: ${givenBack} logged, ${retried} retried`);
    return {
      ...options,
      records: next,
      ms,
      invocations,
      retried,
      transactions: stats.calls.TransactWriteItemsCommand ?? 0,
      cancelled: stats.transactionCancellations,
      value,
    };
  } finally {
    table.client.destroy();
  }
}

export function hotUniqueRows(results: readonly HotUniqueResult[]): Row[] {
  return results.map((r) => ({
    section: '3',
    measure: `hot unique meter: ${r.shards} shards × ${r.batchesPerShard} batches of ${int(r.batchSize)} new values, back to back`,
    measured: `${int(r.records / (r.ms / 1000))} records/s`,
    target: 'informational: one meter item, written by version, is the point all shards pass',
    ratio: '',
    notes: `${int(r.records)} records in ${fixed(r.ms / 1000, 1)} s; ${int(r.invocations)} invocations, ${int(r.retried)} gave their batch back to be retried; ${int(r.transactions)} transactions, ${int(r.cancelled)} cancelled by another shard's write; value ${int(r.value)} = ${int(r.records)} (exact)`,
  }));
}
